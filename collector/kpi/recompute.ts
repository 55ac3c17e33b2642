import type { Reading } from '../../contract/messages.js';
import type { ClosedKpi, KpiEngine } from '../kpi-engine.js';
import { QUARTER_MS } from './site-calendar.js';

/**
 * KPIs from a recorded stream of polls, the way the live collector would have computed them:
 * the polls go into a fresh engine in time order, and at every quarter-hour edge (plus the
 * engine's settle time) the windows that closed are collected. Offline (`dcim kpi --readings`),
 * after a restart (rebuilding state from stored raw readings) and for `dcim kpi recompute` after
 * late data or an inventory fix: the same engine, so offline equals online by construction.
 *
 * Start the polls at least a day (for 1d windows; a year for 1y) before `from_ms` so the windows
 * that end in [from_ms, to_ms] have their data. Stored raw readings are grouped back into polls
 * by (site, device, ts): every reading of a poll carries the poll's ts.
 */

export interface RecordedPoll {
  site: string;
  device: string;
  ts: number;
  readings: readonly Reading[];
}

export interface RecomputeRange {
  /** Keep windows ending after this instant … */
  from_ms: number;
  /** … and at or before this one. */
  to_ms: number;
}

/** The last value of every window ending in (from_ms, to_ms], in window-end order. */
export function recomputeKpis(engine: KpiEngine, polls: Iterable<RecordedPoll>, range: RecomputeRange): ClosedKpi[] {
  const latest = new Map<string, ClosedKpi>();
  const take = (at: number) => {
    for (const c of engine.takeClosed(at)) {
      const v = c.value;
      if (v.window_end <= range.from_ms || v.window_end > range.to_ms) continue;
      latest.set(`${c.scope}|${c.id}|${v.kpi}|${v.window}|${v.basis}|${v.window_end}`, c);
    }
  };
  const settle = engine.settle_ms;
  let next: number | undefined;
  for (const p of polls) {
    if (next === undefined) next = (Math.floor(p.ts / QUARTER_MS) + 1) * QUARTER_MS + settle;
    while (p.ts >= next) {
      take(next);
      next += QUARTER_MS;
    }
    engine.ingest(p.site, p.device, p.ts, p.readings);
  }
  if (next !== undefined) {
    const last = Math.ceil(range.to_ms / QUARTER_MS) * QUARTER_MS + settle;
    for (; next <= last; next += QUARTER_MS) take(next);
  }
  return [...latest.values()].sort((a, b) => a.value.window_end - b.value.window_end || a.value.kpi.localeCompare(b.value.kpi));
}
