import { MODBUS_EXCEPTION_CODES, type FaultSpec } from './fault-spec.js';

/**
 * What a faulty device does with one request: pure, given its active faults and a random draw.
 * The servers ask before they answer; a device without faults answers at once.
 */
export type RequestDecision =
  | { action: 'answer'; delay_ms: number }
  | { action: 'drop'; reason: 'offline' | 'timeout' }
  | { action: 'exception'; code: number; delay_ms: number };

export type WireProtocol = 'snmp' | 'modbus' | 'redfish';

export const ANSWER_NOW: RequestDecision = Object.freeze({ action: 'answer', delay_ms: 0 });

/** `rand` returns uniform numbers in [0, 1); each fault that needs chance draws once. */
export function decideRequest(faults: readonly FaultSpec[], protocol: WireProtocol, rand: () => number): RequestDecision {
  if (faults.length === 0) return ANSWER_NOW;
  let delay_ms = 0;
  let exception: number | undefined;
  for (const f of faults) {
    switch (f.kind) {
      case 'offline':
        return { action: 'drop', reason: 'offline' };
      case 'timeout':
        if (rand() < f.probability) return { action: 'drop', reason: 'timeout' };
        break;
      case 'slow':
        delay_ms += f.delay_ms + (f.jitter_ms > 0 ? Math.floor(rand() * (f.jitter_ms + 1)) : 0);
        break;
      case 'modbus_exception':
        if (protocol === 'modbus' && rand() < f.probability) exception = MODBUS_EXCEPTION_CODES[f.code];
        break;
      default:
        // Value, clock and equipment faults change what is served, not whether.
        break;
    }
  }
  if (exception !== undefined) return { action: 'exception', code: exception, delay_ms };
  return delay_ms > 0 ? { action: 'answer', delay_ms } : ANSWER_NOW;
}

/** The clock offset a device's faults give it, in ms (0 without a clock_skew fault). */
export function clockSkewMs(faults: readonly FaultSpec[]): number {
  for (const f of faults) if (f.kind === 'clock_skew') return f.skew_s * 1000;
  return 0;
}
