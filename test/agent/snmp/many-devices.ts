import { SystemClock, type Clock } from '../../../contract/index.js';
import { memoryLogger } from '../../../shared/log.js';
import { ANSWER_NOW, type RequestDecision } from '../../../simulators/faults/request-faults.js';
import type { SnmpServedValue } from '../../../simulators/encode/snmp-values.js';
import { SnmpEndpoint } from '../../../simulators/index.js';

/**
 * Many SNMP devices behind one UDP port on 127.0.0.1, selected by community (`dev-<i>`), served by
 * the project's simulator engine: device i answers sysName `dev-<i>` and gauges
 * `1.3.6.1.4.1.99999.1.<k>.0 = i * 100 + k` (k = 1 … gauges). A per-device decision makes a
 * device slow or silent.
 */
export const GAUGE_BASE = '1.3.6.1.4.1.99999.1';

export interface ManyDevices {
  port: number;
  endpoint: SnmpEndpoint;
  stop(): Promise<void>;
}

export async function startManyDevices(n: number, opts: { gauges?: number; decide?: (i: number) => RequestDecision; clock?: Clock } = {}): Promise<ManyDevices> {
  const gauges = opts.gauges ?? 2;
  const devices = Array.from({ length: n }, (_, i) => {
    const values: SnmpServedValue[] = [
      { oid: '1.3.6.1.2.1.1.5.0', type: 'octet_string', value: `dev-${i}` },
      ...Array.from({ length: gauges }, (_, k) => ({ oid: `${GAUGE_BASE}.${k + 1}.0`, type: 'gauge32' as const, value: i * 100 + k + 1 })),
    ];
    return {
      key: `dev-${i}`,
      community: `dev-${i}`,
      layout: 'many',
      objects: ['1.3.6.1.2.1.1.5', ...Array.from({ length: gauges }, (_, k) => `${GAUGE_BASE}.${k + 1}`)],
      version: () => 0,
      values: () => values,
      decide: () => opts.decide?.(i) ?? ANSWER_NOW,
    };
  });
  const endpoint = new SnmpEndpoint({ host: '127.0.0.1', port: 0, devices, logger: memoryLogger('error'), clock: opts.clock ?? new SystemClock(), cached_devices: n });
  const port = await endpoint.start();
  return { port, endpoint, stop: () => endpoint.stop() };
}

