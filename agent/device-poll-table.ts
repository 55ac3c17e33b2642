import type { DeviceStatus, ErrorCode } from '../contract/index.js';
import type { PollVerdict } from './device-status.js';
import type { DeviceStateCounts, PollTotals } from './metrics/agent-snapshot.js';
import type { DevicePollStats } from './scheduler.js';

/**
 * The scheduler's per-device state, one row per device in typed columns. Every poll of every
 * device rewrites a few timestamps and counters; held as fields of one object per device, each
 * new timestamp (above 2^31, so not a small integer) is a fresh heap number that outlives the
 * young generation and becomes old-space garbage at the next poll: at 10,000 devices that is
 * most of what the agent's heap grows by between full collections. Written into a
 * Float64Array it allocates nothing. Objects (DevicePollStats, DeviceStatus) are built only when
 * asked for: stats(i), a status change. The agent-wide sums (the health map every minute, the
 * benchmark's counts) are read straight from the columns by totals() and stateCounts(), so they
 * build no object per device either.
 *
 * `null` in the contract types is NaN here.
 */
const STATE_NONE = 0;
const STATES = ['up', 'degraded', 'down'] as const satisfies readonly DeviceStatus['state'][];
const stateIndex = (s: DeviceStatus['state']) => STATES.indexOf(s) + 1;

/** Counters of DevicePollStats, each a Float64Array column (exact integers up to 2^53). */
const COUNTERS = ['polls', 'down_polls', 'consecutive_failures', 'overruns', 'reader_errors', 'requests', 'retries', 'timeouts', 'probes', 'backoff_ms'] as const;
/** Nullable times of DevicePollStats (NaN = null). */
const TIMES = ['last_ts', 'last_ok', 'last_poll_ms', 'next_due_ts'] as const;

type Counter = (typeof COUNTERS)[number];
type Time = (typeof TIMES)[number];

const nullable = (x: number) => (Number.isNaN(x) ? null : x);

export class DevicePollTable {
  readonly size: number;
  private readonly counters: Record<Counter, Float64Array>;
  private readonly times: Record<Time, Float64Array>;
  /** Current status per device: STATE_NONE before the first poll, else 1 + index in STATES. */
  private readonly state: Uint8Array;
  private readonly statusSince: Float64Array;
  private readonly statusLastOk: Float64Array;
  /** The status code per device; a shared code string or undefined, so writing it allocates nothing. */
  private readonly statusCode: (ErrorCode | undefined)[];
  /** Device faults outside any one reading, by code: only for the few devices that have any. */
  private readonly faults = new Map<number, Partial<Record<ErrorCode, number>>>();

  constructor(size: number) {
    this.size = size;
    const column = () => new Float64Array(size);
    const nulls = () => new Float64Array(size).fill(Number.NaN);
    this.counters = Object.fromEntries(COUNTERS.map((k) => [k, column()])) as Record<Counter, Float64Array>;
    this.times = Object.fromEntries(TIMES.map((k) => [k, nulls()])) as Record<Time, Float64Array>;
    this.state = new Uint8Array(size);
    this.statusSince = column();
    this.statusLastOk = nulls();
    this.statusCode = new Array<ErrorCode | undefined>(size).fill(undefined);
  }

  get(i: number, k: Counter): number {
    return this.counters[k][i] as number;
  }

  set(i: number, k: Counter, v: number): void {
    this.counters[k][i] = v;
  }

  add(i: number, k: Counter, v: number): void {
    (this.counters[k][i] as number) += v;
  }

  time(i: number, k: Time): number | null {
    return nullable(this.times[k][i] as number);
  }

  setTime(i: number, k: Time, v: number | null): void {
    this.times[k][i] = v === null ? Number.NaN : v;
  }

  addFaults(i: number, faults: Partial<Record<ErrorCode, number>>): void {
    let into = this.faults.get(i);
    for (const [code, n] of Object.entries(faults) as [ErrorCode, number][]) {
      if (!into) this.faults.set(i, (into = {}));
      into[code] = (into[code] ?? 0) + n;
    }
  }

  isDown(i: number): boolean {
    return this.state[i] === stateIndex('down');
  }

  hasStatus(i: number): boolean {
    return this.state[i] !== STATE_NONE;
  }

  /** The device's retained status, or undefined before its first poll. */
  status(i: number): DeviceStatus | undefined {
    const s = this.state[i] as number;
    if (s === STATE_NONE) return undefined;
    const code = this.statusCode[i];
    return { state: STATES[s - 1] as DeviceStatus['state'], ...(code ? { code } : {}), since: this.statusSince[i] as number, last_ok: nullable(this.statusLastOk[i] as number) };
  }

  /**
   * Take one poll's verdict: the same rule as device-status.ts nextStatus (a change of state or
   * code is a change; last_ok moves on every poll that read something). Returns the new status
   * when it changed (to publish), else undefined, and builds no object then.
   */
  judge(i: number, verdict: PollVerdict, ts: number): DeviceStatus | undefined {
    const had = this.state[i] !== STATE_NONE;
    const next = stateIndex(verdict.state);
    const changed = !had || this.state[i] !== next || this.statusCode[i] !== verdict.code;
    if (verdict.state !== 'down') this.statusLastOk[i] = ts;
    if (changed) {
      this.state[i] = next;
      this.statusCode[i] = verdict.code;
      this.statusSince[i] = ts;
      return this.status(i);
    }
    return undefined;
  }

  /** One device's counters as the contract's stats object (a copy). */
  stats(i: number): DevicePollStats {
    const c = (k: Counter) => this.counters[k][i] as number;
    const faults = this.faults.get(i);
    return {
      polls: c('polls'),
      down_polls: c('down_polls'),
      consecutive_failures: c('consecutive_failures'),
      overruns: c('overruns'),
      reader_errors: c('reader_errors'),
      last_ts: this.time(i, 'last_ts'),
      last_ok: this.time(i, 'last_ok'),
      last_poll_ms: this.time(i, 'last_poll_ms'),
      requests: c('requests'),
      retries: c('retries'),
      timeouts: c('timeouts'),
      probes: c('probes'),
      backoff_ms: c('backoff_ms'),
      next_due_ts: this.time(i, 'next_due_ts'),
      ...(faults ? { faults: { ...faults } } : {}),
    };
  }

  /** The per-device counters summed over every device: the same sums as pollTotals() over stats(i), without the objects. */
  totals(): PollTotals {
    const c = this.counters;
    const lastPollMs = this.times.last_poll_ms;
    const t: PollTotals = { polls: 0, down_polls: 0, requests: 0, retries: 0, timeouts: 0, overruns: 0, reader_errors: 0, probes: 0, backing_off: 0, max_last_poll_ms: 0, mean_last_poll_ms: 0 };
    let polled = 0;
    let sum = 0;
    for (let i = 0; i < this.size; i++) {
      t.polls += c.polls[i] as number;
      t.down_polls += c.down_polls[i] as number;
      t.requests += c.requests[i] as number;
      t.retries += c.retries[i] as number;
      t.timeouts += c.timeouts[i] as number;
      t.overruns += c.overruns[i] as number;
      t.reader_errors += c.reader_errors[i] as number;
      t.probes += c.probes[i] as number;
      if ((c.backoff_ms[i] as number) > 0) t.backing_off++;
      const ms = lastPollMs[i] as number;
      if (!Number.isNaN(ms)) {
        polled++;
        sum += ms;
        t.max_last_poll_ms = Math.max(t.max_last_poll_ms, ms);
      }
    }
    t.mean_last_poll_ms = polled === 0 ? 0 : sum / polled;
    return t;
  }

  /** Devices by current state; `unpolled` before a device's first poll has finished. */
  stateCounts(): DeviceStateCounts {
    const n: DeviceStateCounts = { up: 0, degraded: 0, down: 0, unpolled: 0 };
    for (let i = 0; i < this.size; i++) {
      const s = this.state[i] as number;
      n[s === STATE_NONE ? 'unpolled' : (STATES[s - 1] as DeviceStatus['state'])]++;
    }
    return n;
  }
}
