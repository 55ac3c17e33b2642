import type { Clock, DeviceStatus, ErrorCode, TimerHandle } from '../contract/index.js';
import type { Logger } from '../shared/log.js';
import type { PollResult, ReadOptions } from './device-reader.js';
import { DevicePollTable } from './device-poll-table.js';
import { judgePoll, type PollVerdict } from './device-status.js';
import type { DeviceStateCounts, PollTotals } from './metrics/agent-snapshot.js';

/**
 * When each device is read (docs/design.md §8).
 * - Polls align to interval boundaries (every 10 s at :00, :10, …), so the devices of one
 *   site are read at nearly the same instant: the collector's live PUE divides powers that
 *   must be simultaneous. A small per-device offset (a hash of the id, at most `maxJitterMs`
 *   and a tenth of the interval) keeps thousands of devices from firing in one tick.
 * - One poll in flight per device; a poll that overruns its interval skips the missed
 *   boundaries (counted) instead of queueing them.
 * - A global cap on polls in flight; devices wait their turn in order.
 * - Each poll gets a deadline (0.8 × interval, at most 30 s) after which the reader sends
 *   nothing more, so a slow device cannot eat the next cycle.
 * - Back-off for dead devices: after k polls in a row that read nothing (down), the next poll
 *   waits min(interval × 2^(k−1), max(backoffMaxMs, interval)), still on the device's slots, and
 *   is a probe (the reader sends one request, no retries). Probes queue apart and may hold at
 *   most a quarter of the cap at once, so a rack of dead PDUs never keeps live devices waiting.
 *   One answer ends the back-off.
 * - `ts` is the poll start from the Clock: when the reader actually began.
 * - The device status (up/degraded/down) goes to the sink when it changes.
 */
export interface ScheduledDevice {
  id: string;
  intervalMs: number;
  read(opts: ReadOptions): Promise<PollResult>;
}

export interface PollSink {
  poll(device: string, ts: number, result: PollResult): void;
  status(device: string, status: DeviceStatus): void;
}

export interface SchedulerOptions {
  devices: readonly ScheduledDevice[];
  sink: PollSink;
  clock: Clock;
  logger: Logger;
  maxConcurrent?: number;
  maxJitterMs?: number;
  /** Longest wait between probes of a dead device; default 5 min (never below its interval). */
  backoffMaxMs?: number;
}

export interface DevicePollStats {
  polls: number;
  down_polls: number;
  consecutive_failures: number;
  overruns: number;
  reader_errors: number;
  last_ts: number | null;
  last_ok: number | null;
  last_poll_ms: number | null;
  requests: number;
  retries: number;
  timeouts: number;
  /** Polls sent as probes of a dead device. */
  probes: number;
  /** The wait before the next poll beyond the interval's, 0 while the device answers. */
  backoff_ms: number;
  /** When the next poll is due (Clock ms), null while one runs or is queued. */
  next_due_ts: number | null;
  /** Device faults outside any one reading (a broken SunSpec chain …), by code, since start. */
  faults?: Partial<Record<ErrorCode, number>>;
}

export interface SchedulerStats {
  in_flight: number;
  queued: number;
  /** Probes of dead devices waiting for a slot of their own lane. */
  probes_queued: number;
  devices: Record<string, DevicePollStats>;
}

export const DEFAULT_MAX_CONCURRENT = 64;
export const DEFAULT_MAX_JITTER_MS = 250;
export const DEFAULT_BACKOFF_MAX_MS = 300_000;
const MAX_DEADLINE_MS = 30_000;

/**
 * How long a device that failed `failures` polls in a row waits before the next, at least its
 * interval: interval × 2^(failures−1), capped at max(maxMs, interval). Pure.
 */
export function backoffDelay(intervalMs: number, failures: number, maxMs: number): number {
  if (failures <= 1) return intervalMs;
  const cap = Math.max(maxMs, intervalMs);
  // 2^30 intervals is beyond any cap; stop doubling before the number overflows.
  return Math.min(cap, intervalMs * 2 ** Math.min(failures - 1, 30));
}

/** Next time after `now` that is `offset` past a multiple of `interval`. Pure. */
export function nextSlot(now: number, intervalMs: number, offsetMs: number): number {
  return Math.floor((now - offsetMs) / intervalMs) * intervalMs + intervalMs + offsetMs;
}

/** A stable per-device offset in [0, cap): FNV-1a of the id. */
export function deviceOffset(id: string, intervalMs: number, maxJitterMs: number): number {
  const cap = Math.floor(Math.min(maxJitterMs, intervalMs / 10));
  if (cap <= 0) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return h % cap;
}

export class Scheduler {
  /** The devices in the order given; a device is its index here and in `table`. */
  private devs: readonly ScheduledDevice[] = [];
  private readonly index = new Map<string, number>();
  private table = new DevicePollTable(0);
  /** Per device: its offset within its interval (ms). */
  private offsets = new Float64Array(0);
  /** Per device: 1 while it waits in a queue. */
  private queuedFlags = new Uint8Array(0);
  /** The polls running now, by device: at most the concurrency cap. */
  private readonly running = new Map<number, Promise<void>>();
  /**
   * Devices waiting for their next poll, by due time, under one clock timer for the earliest:
   * polls align to boundaries (plus an offset under a second), so 10,000 devices share a few
   * hundred due times, and one timer per device would cost a timer object, a closure and a
   * handle each (about 400 bytes) for nothing.
   */
  private readonly dueAt = new Map<number, number[]>();
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  private readonly queue: number[] = [];
  private readonly probeQueue: number[] = [];
  private active = 0;
  private probesActive = 0;
  private stopping = false;

  constructor(private readonly opts: SchedulerOptions) {}

  start(): void {
    this.stopping = false;
    // Devices are taken once, at the first start (a restart after stop() adds none).
    if (this.devs.length > 0) return;
    // Duplicate ids keep their first entry, as a map by id would.
    const devs: ScheduledDevice[] = [];
    for (const dev of this.opts.devices) {
      if (this.index.has(dev.id)) continue;
      this.index.set(dev.id, devs.length);
      devs.push(dev);
    }
    this.devs = devs;
    this.table = new DevicePollTable(devs.length);
    this.offsets = new Float64Array(devs.length);
    this.queuedFlags = new Uint8Array(devs.length);
    const jitter = this.opts.maxJitterMs ?? DEFAULT_MAX_JITTER_MS;
    devs.forEach((dev, i) => (this.offsets[i] = deviceOffset(dev.id, dev.intervalMs, jitter)));
    for (let i = 0; i < this.devs.length; i++) this.schedule(i);
  }

  /** No new polls; waits for the ones in flight. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const i of [...this.queue.splice(0), ...this.probeQueue.splice(0)]) this.queuedFlags[i] = 0;
    this.timer?.cancel();
    this.timer = undefined;
    this.timerAt = Infinity;
    for (const waiting of this.dueAt.values()) for (const i of waiting) this.table.setTime(i, 'next_due_ts', null);
    this.dueAt.clear();
    await Promise.all([...this.running.values()]);
  }

  statuses(): ReadonlyMap<string, DeviceStatus> {
    const m = new Map<string, DeviceStatus>();
    this.devs.forEach((dev, i) => {
      const s = this.table.status(i);
      if (s) m.set(dev.id, s);
    });
    return m;
  }

  /** Sums over every device, from the table's columns (no object per device). */
  totals(): PollTotals {
    return this.table.totals();
  }

  /** Devices by current state, from the table's columns. */
  stateCounts(): DeviceStateCounts {
    return this.table.stateCounts();
  }

  /** `perDevice: false`: `devices` stays empty (totals() has the sums without the objects). */
  stats(opts: { perDevice?: boolean } = {}): SchedulerStats {
    const devices: Record<string, DevicePollStats> = {};
    if (opts.perDevice !== false) this.devs.forEach((dev, i) => (devices[dev.id] = this.table.stats(i)));
    return { in_flight: this.active, queued: this.queue.length, probes_queued: this.probeQueue.length, devices };
  }

  private schedule(i: number): void {
    if (this.stopping) return;
    const t = this.table;
    const now = this.opts.clock.now();
    const { intervalMs } = this.devs[i] as ScheduledDevice;
    const offset = this.offsets[i] as number;
    let at = nextSlot(now, intervalMs, offset);
    const backoff = t.isDown(i) ? backoffDelay(intervalMs, t.get(i, 'consecutive_failures'), this.opts.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS) : intervalMs;
    t.set(i, 'backoff_ms', backoff > intervalMs ? backoff : 0);
    const lastTs = t.time(i, 'last_ts');
    if (backoff > intervalMs && lastTs !== null) {
      // The first of the device's own slots at or after the last poll's start + back-off.
      at = Math.max(at, nextSlot(lastTs + backoff - 1, intervalMs, offset));
    }
    t.setTime(i, 'next_due_ts', at);
    const waiting = this.dueAt.get(at);
    if (waiting) waiting.push(i);
    else this.dueAt.set(at, [i]);
    if (at < this.timerAt) this.arm(at, now);
  }

  /** One clock timer, for the earliest due time. */
  private arm(at: number, now: number): void {
    this.timer?.cancel();
    this.timerAt = at;
    this.timer = this.opts.clock.setTimeout(() => this.fire(at), Math.max(0, at - now));
  }

  /**
   * The timer for `at` ran: every device due at or before it, earliest first and in the order
   * they were scheduled within one due time (as their own timers would have run), then the
   * timer for the next due time.
   */
  private fire(at: number): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const times = [...this.dueAt.keys()].filter((t) => t <= at).sort((a, b) => a - b);
    for (const t of times) {
      const waiting = this.dueAt.get(t) as number[];
      this.dueAt.delete(t);
      for (const i of waiting) this.due(i);
    }
    if (this.stopping) return;
    let next = Infinity;
    for (const t of this.dueAt.keys()) if (t < next) next = t;
    if (next < this.timerAt) this.arm(next, this.opts.clock.now());
  }

  private due(i: number): void {
    this.table.setTime(i, 'next_due_ts', null);
    if (this.stopping || this.queuedFlags[i] === 1 || this.running.has(i)) return;
    this.queuedFlags[i] = 1;
    (this.table.isDown(i) ? this.probeQueue : this.queue).push(i);
    this.pump();
  }

  private pump(): void {
    const max = Math.max(1, this.opts.maxConcurrent ?? DEFAULT_MAX_CONCURRENT);
    const maxProbes = Math.max(1, Math.floor(max / 4));
    while (!this.stopping && this.active < max) {
      // Live devices first; probes of dead ones only within their own share of the cap.
      const probe = this.queue.length === 0 && this.probeQueue.length > 0 && this.probesActive < maxProbes;
      const i = probe ? this.probeQueue.shift() : this.queue.shift();
      if (i === undefined) return;
      this.queuedFlags[i] = 0;
      this.active++;
      if (probe) this.probesActive++;
      this.running.set(
        i,
        this.run(i, probe).finally(() => {
          this.active--;
          if (probe) this.probesActive--;
          this.running.delete(i);
          this.schedule(i);
          this.pump();
        }),
      );
    }
  }

  private async run(i: number, probe: boolean): Promise<void> {
    const { clock, logger, sink } = this.opts;
    const dev = this.devs[i] as ScheduledDevice;
    const t = this.table;
    const ts = clock.now();
    const deadlineAt = ts + Math.min(0.8 * dev.intervalMs, MAX_DEADLINE_MS);
    let result: PollResult;
    let threw = false;
    if (probe) t.add(i, 'probes', 1);
    try {
      result = await dev.read(probe ? { deadlineAt, probe: true } : { deadlineAt });
    } catch (e) {
      // Readers report device trouble as readings; a throw is a bug, but must not stop the schedule.
      t.add(i, 'reader_errors', 1);
      threw = true;
      logger.error('reader failed', { device: dev.id, error: e as Error });
      result = { readings: [], poll: { ms: clock.now() - ts, requests: 0, retries: 0, timeouts: 0 } };
    }
    const end = clock.now();
    if (end - ts > dev.intervalMs) {
      const missed = Math.floor((end - ts) / dev.intervalMs);
      t.add(i, 'overruns', missed);
      logger.warn('poll took longer than its interval', { device: dev.id, poll_ms: end - ts, interval_ms: dev.intervalMs, missed });
    }
    const verdict = threw ? DOWN : judgePoll(result.readings);
    t.add(i, 'polls', 1);
    t.setTime(i, 'last_ts', ts);
    t.setTime(i, 'last_poll_ms', result.poll.ms);
    t.add(i, 'requests', result.poll.requests);
    t.add(i, 'retries', result.poll.retries);
    t.add(i, 'timeouts', result.poll.timeouts);
    if (result.poll.faults) t.addFaults(i, result.poll.faults);
    if (verdict.state === 'down') {
      t.add(i, 'down_polls', 1);
      t.add(i, 'consecutive_failures', 1);
    } else {
      t.set(i, 'consecutive_failures', 0);
      t.setTime(i, 'last_ok', ts);
    }
    try {
      if (result.readings.length > 0) sink.poll(dev.id, ts, result);
      const changed = t.judge(i, verdict, ts);
      if (changed) sink.status(dev.id, changed);
    } catch (e) {
      logger.error('poll sink failed', { device: dev.id, error: e as Error });
    }
  }
}

const DOWN: PollVerdict = Object.freeze({ state: 'down' });
