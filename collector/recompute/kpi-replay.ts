import { kpiKey } from '../../contract/kpi-catalogue.js';
import type { KpiValue, Reading } from '../../contract/messages.js';
import type { ClosedKpi, KpiEngine } from '../kpi-engine.js';
import { QUARTER_MS } from '../../shared/time/site-calendar.js';

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

  /** Takes the edges up to `to_ms` (default: the newest poll) and returns the windows in [from_ms, to_ms], by end then name. */
  finish(range: { from_ms?: number; to_ms?: number } = {}): ClosedKpi[] {
    const to = range.to_ms ?? this.lastTs;
    if (this.next !== undefined && to !== undefined) {
      const last = Math.floor(to / QUARTER_MS) * QUARTER_MS + this.engine.settle_ms;
      for (; this.next <= last; this.next += QUARTER_MS) this.take(this.next);
    }
    const from = range.from_ms ?? Number.NEGATIVE_INFINITY;
    return [...this.taken.values()]
      .filter((c) => c.value.window_start >= from && (to === undefined || c.value.window_end <= to))
      .sort((a, b) => a.value.window_end - b.value.window_end || a.id.localeCompare(b.id) || order(a.value).localeCompare(order(b.value)));
  }

  private take(at: number): void {
    for (const c of this.engine.takeClosed(at)) this.taken.set(`${c.scope}|${c.id}|${kpiKey(c.value)}|${c.value.window_end}`, c);
  }
}

const order = (v: KpiValue) => kpiKey(v);

/** A whole recorded stream at once (polls in time order): `new KpiReplay(engine)`, every poll fed, `finish(range)`. */
export function replayKpis(engine: KpiEngine, polls: Iterable<RecordedPoll>, range: { from_ms?: number; to_ms?: number } = {}): ClosedKpi[] {
  const replay = new KpiReplay(engine);
  for (const p of polls) replay.feed(p);
  return replay.finish(range);
}
