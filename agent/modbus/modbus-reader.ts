import type { Clock, ErrorCode, ModbusProfile, Reading } from '../../contract/index.js';
import type { Logger } from '../../shared/log.js';
import { isHostUnknownMessage } from '../../contract/errors.js';
import { badReading, toReading } from '../decode/decoded.js';
import { decodeModbusValue, pointRegisterCount } from '../decode/modbus-value.js';
import { PollCounter, type DeviceReader, type PollResult, type ReadOptions, type RequestPolicy } from '../device-reader.js';
import { ModbusException, type ModbusOutcome, type ModbusRegisters, type ModbusTransport } from './modbus-transport.js';
import { planReads, type PlannedRead, type Span } from './read-planner.js';
import { walkSunspecChain } from '../sunspec/sunspec-chain.js';
import { isSunspecProfile, placeOnChain, repeatCounts, withoutRepeats, type PlacedProfile } from '../sunspec/sunspec-layout.js';

/**
 * Reads one Modbus device per its profile: plans the reads once (read-planner.ts), sends them
 * one at a time on the device's connection, decodes every point.
 * - Exception 2/3 on a merged read (the device refuses to serve a hole between points):
 *   that read is retried point by point, so one unimplemented register costs only itself.
 * - Busy (6) / acknowledge (5): waits a little and retries, counted as a retry.
 * - A read that times out after every retry ends the poll (the device is not answering);
 *   so does a lost connection. Nothing throws: every point gets a reading.
 * - SunSpec profiles (points placed by model and offset) are read where the device's own model
 *   chain puts them (agent/sunspec/); chain faults are counted in the poll's `faults`.
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
  /** For each point: its span and, if any, its scale-factor span (undefined: not read). */
  points: ({ span: number; sf?: number } | undefined)[];
  /** Spans of `extra` registers (SunSpec model headers), in the order given. */
  extra: number[];
  reads: PlannedRead[];
}

export class ModbusReader implements DeviceReader {
  private plan: Plan | undefined;
  /** The device's SunSpec layout, from its first walk; dropped when a model ID no longer matches. */
  private sunspec: { placed: PlacedProfile; plan: Plan } | undefined;

  constructor(private readonly opts: ModbusReaderOptions) {}

  async read(ro: ReadOptions = {}): Promise<PollResult> {
    const { clock, profile } = this.opts;
    const start = clock.now();
    const counter = new PollCounter();
    const aborted = await this.open(ro);
    if (!isSunspecProfile(profile)) {
      const plan = (this.plan ??= buildPlan(profile));
      const run = aborted ? emptyRun(plan, aborted) : await this.run(plan, counter, ro);
      return { readings: decodeAll(profile, plan, run), poll: counter.stats(clock.now() - start) };
    }
    const readings = await this.readSunspec(counter, ro, aborted);
    return { readings, poll: counter.stats(clock.now() - start) };
  }

  /**
   * SunSpec: walk the chain at the first poll, read the points where the device's own chain puts
   * them, and re-check each used model's ID register with the data (same requests). A changed ID
   * means the cached layout is stale (new firmware, a swapped device): walk again and read again,
   * once per poll.
   */
  private async readSunspec(counter: PollCounter, ro: ReadOptions, opened: ErrorCode | undefined): Promise<Reading[]> {
    const { profile } = this.opts;
    let aborted = opened;
    for (let attempt = 0; ; attempt++) {
      let layout = this.sunspec;
      let missingCode: ErrorCode = 'DCIM_E_SUNSPEC_MODEL_MISSING';
      if (!layout && !aborted) {
        // The walk keeps to the poll's deadline like the data reads: a slow device with a long chain must not overrun it.
        const read = (address: number, count: number) =>
          ro.deadlineAt !== undefined && this.opts.clock.now() >= ro.deadlineAt
            ? Promise.resolve({ ok: false as const, kind: 'timeout' as const, message: 'poll deadline passed during the SunSpec walk' })
            : this.request(counter, { kind: 'holding', address, count, spans: [] });
        const walk = await walkSunspecChain(read);
        if (!walk.ok && walk.code !== 'DCIM_E_SUNSPEC_NOT_FOUND') aborted = walk.code;
        else {
          if (!walk.ok || walk.value.problem) {
            const problem = walk.ok ? (walk.value.problem as { code: ErrorCode; message: string }) : walk;
            counter.fault(problem.code);
            this.opts.logger?.warn('sunspec chain problem', { code: problem.code, message: problem.message });
          }
          if (!walk.ok) missingCode = walk.code;
          const chain = walk.ok ? walk.value : { base: 0, models: [] };
          // Repeating blocks (model 160 modules) are counted by the device's own N, read once here.
          const placed = placeOnChain(profile, chain, await repeatCounts(read, profile, chain));
          const skip = new Set(placed.missing.keys());
          layout = { placed, plan: buildPlan(placed.profile, { skip, extra: placed.headers.map((h) => ({ kind: 'holding' as const, address: h.at, count: 1 })) }) };
          // Without a marker nothing is cached: the next poll looks again (a device still booting).
          if (walk.ok) this.sunspec = layout;
        }
      }
      if (!layout) {
        // Without a layout the rows of repeating blocks are unknown: only the scalar points report.
        const scalar = withoutRepeats(profile);
        const plan = buildPlan(scalar);
        return decodeAll(scalar, plan, emptyRun(plan, aborted ?? 'DCIM_E_MODBUS_TIMEOUT'));
      }
      const { placed, plan } = layout;
      const run = aborted ? emptyRun(plan, aborted) : await this.run(plan, counter, ro);
      const header = (k: number) => run.data[plan.extra[k] as number]?.words?.[0];
      const changed = placed.headers.filter((h, k) => header(k) !== undefined && header(k) !== h.id);
      // A header the device now refuses (the chain got shorter) is as stale as one that changed.
      const refused = placed.headers.filter((_h, k) => run.errors[plan.extra[k] as number] !== undefined);
      if ((changed.length > 0 || refused.length > 0) && attempt === 0 && !run.aborted) {
        counter.fault('DCIM_E_SUNSPEC_MODEL_CHANGED');
        this.opts.logger?.warn('sunspec model changed: walking the chain again', { models: [...changed, ...refused].map((h) => `${h.id}@${h.at}`) });
        this.sunspec = undefined;
        continue;
      }
      if (changed.length > 0) {
        // Changed again right after a fresh walk: a device that keeps moving its models is not read.
        this.sunspec = undefined;
        return placed.profile.points.map((pt, i) => badReading(pt.name, pt.unit, 'DCIM_E_SUNSPEC_MODEL_CHANGED', placed.index.get(i)));
      }
      const readings = decodeAll(placed.profile, plan, run).map((r, i) => {
        const index = placed.index.get(i);
        return index ? { ...r, index } : r;
      });
      for (const i of placed.missing.keys()) {
        const pt = placed.profile.points[i] as ModbusProfile['points'][number];
        readings[i] = badReading(pt.name, pt.unit, aborted ?? missingCode);
      }
      return readings;
    }
  }

  /** The deadline and the connection; a code when the poll cannot start. */
  private async open(ro: ReadOptions): Promise<ErrorCode | undefined> {
    const { clock, transport } = this.opts;
    if (ro.deadlineAt !== undefined && clock.now() >= ro.deadlineAt) return 'DCIM_E_MODBUS_TIMEOUT';
    if (transport.isOpen) return undefined;
    const c = await transport.connect();
    if (c.ok) return undefined;
    this.opts.logger?.debug('modbus connect failed', { message: c.message });
    return isHostUnknownMessage(c.message) ? 'DCIM_E_NET_HOST_UNKNOWN' : 'DCIM_E_MODBUS_CONNECT';
  }

  /** Send a plan's reads one at a time: what each span got, or why not. */
  private async run(plan: Plan, counter: PollCounter, ro: ReadOptions): Promise<Run> {
    const { clock, profile } = this.opts;
    const data: (ModbusRegisters | undefined)[] = plan.spans.map(() => undefined);
    const errors: (ErrorCode | undefined)[] = plan.spans.map(() => undefined);
    let aborted: ErrorCode | undefined;
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
    return { data, errors, aborted };
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
export function buildPlan(profile: ModbusProfile, more: { skip?: ReadonlySet<number>; extra?: readonly Span[] } = {}): Plan {
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
  const points = profile.points.map((p, k) => {
    if (more.skip?.has(k)) return undefined;
    const span = add({ kind: p.register, address: p.address, count: pointRegisterCount(p) });
    const sf = p.scale_factor ? add({ kind: p.scale_factor.register, address: p.scale_factor.address, count: 1 }) : undefined;
    return sf === undefined ? { span } : { span, sf };
  });
  const extra = (more.extra ?? []).map(add);
  return { spans, points, extra, reads: planReads(spans, profile.quirks) };
}

interface Run {
  data: (ModbusRegisters | undefined)[];
  errors: (ErrorCode | undefined)[];
  /** Why the poll stopped early, if it did. */
  aborted: ErrorCode | undefined;
}

function emptyRun(plan: Plan, aborted: ErrorCode): Run {
  return { data: plan.spans.map(() => undefined), errors: plan.spans.map(() => undefined), aborted };
}

/** Every point's reading from what its spans got; a point the plan skips is left for the caller (bad until then). */
function decodeAll(profile: ModbusProfile, plan: Plan, run: Run): Reading[] {
  return profile.points.map((pt, k) => {
    const at = plan.points[k];
    if (!at) return badReading(pt.name, pt.unit, 'DCIM_E_SUNSPEC_MODEL_MISSING');
    const { span, sf } = at;
    const failure = run.errors[span] ?? (sf !== undefined ? run.errors[sf] : undefined);
    const raw = run.data[span];
    const sfRaw = sf !== undefined ? run.data[sf]?.words?.[0] : undefined;
    if (failure) return badReading(pt.name, pt.unit, failure);
    if (!raw || (sf !== undefined && sfRaw === undefined)) return badReading(pt.name, pt.unit, run.aborted ?? 'DCIM_E_MODBUS_TIMEOUT');
    return toReading(pt.name, pt.unit, decodeModbusValue(pt, { ...raw, ...(sfRaw !== undefined ? { sf: sfRaw } : {}) }));
  });
}

function slice(r: ModbusRegisters, read: PlannedRead, s: Span): ModbusRegisters {
  const from = s.address - read.address;
  if (r.words) return { words: r.words.slice(from, from + s.count) };
  return { bits: (r.bits ?? []).slice(from, from + s.count) };
}
