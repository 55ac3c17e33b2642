import { kpiKey } from '../../contract/kpi-catalogue.js';
import type { KpiValue, Reading } from '../../contract/messages.js';
import type { ClosedKpi, KpiEngine } from '../kpi-engine.js';
import { DAY_MS, QUARTER_MS } from '../../shared/time/site-calendar.js';

/**
 * Recorded polls → the KPI windows the live collector would have written, incrementally, so the
 * polls can arrive in slices (an hour of stored readings at a time, a file streamed line by line).
 * The polls go into the engine in time order; at every quarter-hour edge plus the engine's settle
 * time the windows that closed — and past ones that late data revised — are taken
 * (`engine.takeClosed`), exactly the live collector's tick, so offline equals online.
 *
 * `finish(to)` keeps one value per window (the last one taken) for windows that
 * - end at or before `to`, and
 * - start at or after `from`: a recompute of one day must not overwrite the stored month, year
 *   or year-to-date point with a sum over that day alone.
 * Feed from a little before `from` (an hour: counters need a previous sample).
 *
 * This is the one replay path: the live collector's restore after a restart, `dcim kpi --readings`,
 * `dcim kpi recompute` and the "offline equals online" test all go through it.
 */
export interface RecordedPoll {
  site: string;
  device: string;
  ts: number;
  readings: readonly Reading[];
}

export class KpiReplay {
  private next: number | undefined;
  private lastTs: number | undefined;
  private firstTs: number | undefined;
  private readonly taken = new Map<string, ClosedKpi>();
  private polls = 0;

  constructor(private readonly engine: KpiEngine) {}

  feed(p: RecordedPoll): void {
    if (this.next === undefined) this.next = (Math.floor(p.ts / QUARTER_MS) + 1) * QUARTER_MS + this.engine.settle_ms;
    while (p.ts >= this.next) {
      this.take(this.next);
      this.next += QUARTER_MS;
    }
    this.engine.ingest(p.site, p.device, p.ts, p.readings);
    this.polls++;
    this.firstTs = Math.min(this.firstTs ?? p.ts, p.ts);
    this.lastTs = Math.max(this.lastTs ?? p.ts, p.ts);
  }

  get stats(): { polls: number; first_ts: number | undefined; last_ts: number | undefined } {
    return { polls: this.polls, first_ts: this.firstTs, last_ts: this.lastTs };
  }

  /** Closed values held until they are settled or finished: what a long replay keeps in memory. */
  get held(): number {
    return this.taken.size;
  }

  /**
   * Hands over, and forgets, the values of windows that ended more than the engine's late horizon
   * before the newest poll fed: no later poll can change them (their quarter hours are past the
   * buckets the engine keeps), so a long replay need not hold them to its end. In [from_ms, to_ms]
   * only, ordered as `finish` orders them.
   */
  settled(range: { from_ms?: number; to_ms?: number } = {}): ClosedKpi[] {
    if (this.lastTs === undefined) return [];
    const before = this.lastTs - (this.engine.history.late_days + 2) * DAY_MS;
    const out: ClosedKpi[] = [];
    for (const [key, c] of this.taken) {
      if (c.value.window_end > before) continue;
      this.taken.delete(key);
      out.push(c);
    }
    return inRange(out, range.from_ms, range.to_ms);
  }

  /** Takes the edges up to `to_ms` (default: the newest poll) and returns the windows in [from_ms, to_ms] not handed over yet, by end then name. */
  finish(range: { from_ms?: number; to_ms?: number } = {}): ClosedKpi[] {
    const to = range.to_ms ?? this.lastTs;
    if (this.next !== undefined && to !== undefined) {
      const last = Math.floor(to / QUARTER_MS) * QUARTER_MS + this.engine.settle_ms;
      for (; this.next <= last; this.next += QUARTER_MS) this.take(this.next);
    }
    return inRange([...this.taken.values()], range.from_ms, to);
  }

  private take(at: number): void {
    for (const c of this.engine.takeClosed(at)) this.taken.set(`${c.scope}|${c.id}|${kpiKey(c.value)}|${c.value.window_end}`, c);
  }
}

const order = (v: KpiValue) => kpiKey(v);

function inRange(values: ClosedKpi[], from = Number.NEGATIVE_INFINITY, to?: number): ClosedKpi[] {
  return values
    .filter((c) => c.value.window_start >= from && (to === undefined || c.value.window_end <= to))
    .sort((a, b) => a.value.window_end - b.value.window_end || a.id.localeCompare(b.id) || order(a.value).localeCompare(order(b.value)));
}

/** A whole recorded stream at once (polls in time order): `new KpiReplay(engine)`, every poll fed, `finish(range)`. */
export function replayKpis(engine: KpiEngine, polls: Iterable<RecordedPoll>, range: { from_ms?: number; to_ms?: number } = {}): ClosedKpi[] {
  const replay = new KpiReplay(engine);
  for (const p of polls) replay.feed(p);
  return replay.finish(range);
}
