import type { Clock, ErrorCode, Logger, ModbusProfile, Reading } from '../../contract/index.js';
import { isHostUnknownMessage } from '../../contract/errors.js';
import { badReading, toReading } from '../decode/decoded.js';
import { decodeModbusValue, pointRegisterCount } from '../decode/modbus-value.js';
import { PollCounter, type DeviceReader, type PollResult, type ReadOptions, type RequestPolicy } from '../device-reader.js';
import { ModbusException, type ModbusOutcome, type ModbusRegisters, type ModbusTransport } from './modbus-transport.js';
import { planReads, type PlannedRead, type Span } from './read-planner.js';

/**
 * Reads one Modbus device per its profile: plans the reads once (read-planner.ts), sends them
 * one at a time on the device's connection, decodes every point.
 * - Exception 2/3 on a merged read (the device refuses to serve a hole between points):
 *   that read is retried point by point, so one unimplemented register costs only itself.
 * - Busy (6) / acknowledge (5): waits a little and retries, counted as a retry.
 * - A read that times out after every retry ends the poll (the device is not answering);
 *   so does a lost connection. Nothing throws: every point gets a reading.
 */
export interface ModbusReaderOptions {
  profile: ModbusProfile;
  transport: ModbusTransport;
  unitId: number;
  policy: RequestPolicy;
  clock: Clock;
  logger?: Logger;
}

/** Pause before re-asking a busy device (Telegraf's busy_retries_wait default). */
export const BUSY_WAIT_MS = 100;

interface Plan {
  spans: Span[];
  /** For each point: its span and, if any, its scale-factor span. */
  points: { span: number; sf?: number }[];
  reads: PlannedRead[];
}

export class ModbusReader implements DeviceReader {
  private plan: Plan | undefined;

  constructor(private readonly opts: ModbusReaderOptions) {}

  async read(ro: ReadOptions = {}): Promise<PollResult> {
    const { clock, profile, transport } = this.opts;
    const start = clock.now();
    const counter = new PollCounter();
    const plan = (this.plan ??= buildPlan(profile));
    const data: (ModbusRegisters | undefined)[] = plan.spans.map(() => undefined);
    const errors: (ErrorCode | undefined)[] = plan.spans.map(() => undefined);
    let aborted: ErrorCode | undefined;

    if (ro.deadlineAt !== undefined && clock.now() >= ro.deadlineAt) aborted = 'DCIM_E_MODBUS_TIMEOUT';
    if (!aborted && !transport.isOpen) {
      const c = await transport.connect();
      if (!c.ok) {
        this.opts.logger?.debug('modbus connect failed', { message: c.message });
        aborted = isHostUnknownMessage(c.message) ? 'DCIM_E_NET_HOST_UNKNOWN' : 'DCIM_E_MODBUS_CONNECT';
      }
    }

    const queue = [...plan.reads];
    let first = true;
    while (queue.length > 0 && !aborted) {
      const read = queue.shift() as PlannedRead;
      if (ro.deadlineAt !== undefined && clock.now() >= ro.deadlineAt) {
        aborted = 'DCIM_E_MODBUS_TIMEOUT';
        break;
      }
      if (!first && profile.quirks.pause_between_requests_ms > 0) await clock.sleep(profile.quirks.pause_between_requests_ms);
      first = false;
      const r = await this.request(counter, read);
      if (r.ok) {
        for (const i of read.spans) data[i] = slice(r.value, read, plan.spans[i] as Span);
        continue;
      }
      if (r.kind === 'exception' && (r.code === ModbusException.illegalAddress || r.code === ModbusException.illegalValue) && read.spans.length > 1) {
        // Re-plan this read's spans one request each and put them next in line.
        queue.unshift(...planReads(read.spans.map((i) => plan.spans[i] as Span), { ...profile.quirks, one_request_per_point: true }).map((p) => ({ ...p, spans: p.spans.map((k) => read.spans[k] as number) })));
        continue;
      }
      if (r.kind === 'timeout' || r.kind === 'connect') {
        aborted = r.kind === 'timeout' ? 'DCIM_E_MODBUS_TIMEOUT' : isHostUnknownMessage(r.message) ? 'DCIM_E_NET_HOST_UNKNOWN' : 'DCIM_E_MODBUS_CONNECT';
        break;
      }
      this.opts.logger?.debug('modbus read failed', { kind: read.kind, address: read.address, count: read.count, failure: r.kind, code: r.code, message: r.message });
      const code: ErrorCode = r.kind === 'exception' ? 'DCIM_E_MODBUS_EXCEPTION' : 'DCIM_E_MODBUS_TIMEOUT';
      for (const i of read.spans) errors[i] = code;
    }

    const readings: Reading[] = profile.points.map((pt, k) => {
      const { span, sf } = plan.points[k] as Plan['points'][number];
      const failure = errors[span] ?? (sf !== undefined ? errors[sf] : undefined);
      const raw = data[span];
      const sfRaw = sf !== undefined ? data[sf]?.words?.[0] : undefined;
      if (failure) return badReading(pt.name, pt.unit, failure);
      if (!raw || (sf !== undefined && sfRaw === undefined)) return badReading(pt.name, pt.unit, aborted ?? 'DCIM_E_MODBUS_TIMEOUT');
      return toReading(pt.name, pt.unit, decodeModbusValue(pt, { ...raw, ...(sfRaw !== undefined ? { sf: sfRaw } : {}) }));
    });
    return { readings, poll: counter.stats(clock.now() - start) };
  }

  async close(): Promise<void> {
    await this.opts.transport.close();
  }

  private async request(counter: PollCounter, read: PlannedRead): Promise<ModbusOutcome<ModbusRegisters>> {
    const { transport, unitId, policy, clock } = this.opts;
    const attempts = policy.retries + 1;
    for (let attempt = 1; ; attempt++) {
      counter.requests++;
      const r = await transport.read(unitId, read.kind, read.address, read.count, policy.timeoutMs);
      if (r.ok) return r;
      const busy = r.kind === 'exception' && (r.code === ModbusException.busy || r.code === ModbusException.acknowledge);
      const retryable = r.kind === 'timeout' || r.kind === 'invalid' || busy;
      if (r.kind === 'timeout') counter.timeouts++;
      if (!retryable || attempt >= attempts) return r;
      counter.retries++;
      if (busy) await clock.sleep(Math.min(BUSY_WAIT_MS, policy.timeoutMs));
      if (!transport.isOpen) {
        const c = await transport.connect();
        if (!c.ok) return { ok: false, kind: 'connect', message: c.message };
      }
    }
  }
}

/** Spans for every point and scale-factor register (shared ones once), then the read plan. */
export function buildPlan(profile: ModbusProfile): Plan {
  const spans: Span[] = [];
  const byKey = new Map<string, number>();
  const add = (s: Span): number => {
    const key = `${s.kind}:${s.address}:${s.count}`;
    let i = byKey.get(key);
    if (i === undefined) {
      i = spans.length;
      spans.push(s);
      byKey.set(key, i);
    }
    return i;
  };
  const points = profile.points.map((p) => {
    const span = add({ kind: p.register, address: p.address, count: pointRegisterCount(p) });
    const sf = p.scale_factor ? add({ kind: p.scale_factor.register, address: p.scale_factor.address, count: 1 }) : undefined;
    return sf === undefined ? { span } : { span, sf };
  });
  return { spans, points, reads: planReads(spans, profile.quirks) };
}

function slice(r: ModbusRegisters, read: PlannedRead, s: Span): ModbusRegisters {
  const from = s.address - read.address;
  if (r.words) return { words: r.words.slice(from, from + s.count) };
  return { bits: (r.bits ?? []).slice(from, from + s.count) };
}
