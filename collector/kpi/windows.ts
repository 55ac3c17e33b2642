import type { KpiWindow } from '../../contract/messages.js';
import { QUARTER_MS, type PeriodBounds, type SiteCalendar } from '../../shared/time/site-calendar.js';

/**
 * Which window each KPI figure covers at an evaluation time `now` (docs/design.md §5; windows align
 * to the site's local calendar).
 *
 * The settled edge is the last quarter-hour boundary at least `settle_ms` before `now`: by then
 * every meter has reported past it (a reading at t_k books energy back to t_{k−1}).
 * - `15m`, `1h`, `1d`: the last complete window ending at or before the edge.
 * - `1mo`, `ytd`: from the start of the month (year) holding the edge's last quarter hour up to
 *   the edge — to date; the point written at the period's last edge is the period's final value.
 * - `12mo`: the 365 (366) whole local days ending with the last complete day (trailing year).
 * - `1y`: the last complete calendar year: the annual verdict (ISO/IEC 30134-2 PUE, GB 40879).
 * Every window's bounds are quarter-aligned, so two collectors evaluating at the same edge
 * produce the same windows (KPI points are stamped at `end`).
 */

export type EnergyWindowKind = Exclude<KpiWindow, 'instant'>;
export const ENERGY_WINDOWS: readonly EnergyWindowKind[] = ['15m', '1h', '1d', '1mo', 'ytd', '12mo', '1y'];

export interface WindowBounds {
  window: EnergyWindowKind;
  start: number;
  end: number;
  /** Calendar period: `YYYY-MM` for 1mo, `YYYY` for ytd and 1y. */
  period?: string;
}

export function settledEdge(now_ms: number, settle_ms: number): number {
  return Math.floor((now_ms - settle_ms) / QUARTER_MS) * QUARTER_MS;
}

/** End of the last complete local day at or before `edge`. */
export function lastDayEnd(cal: SiteCalendar, edge: number): number {
  const d = cal.dayOf(edge - 1);
  return d.end <= edge ? d.end : d.start;
}

export function windowAt(cal: SiteCalendar, kind: EnergyWindowKind, edge: number): WindowBounds {
  switch (kind) {
    case '15m':
      return { window: kind, start: edge - QUARTER_MS, end: edge };
    case '1h': {
      const h = cal.hourOf(edge - 1);
      const b = h.end <= edge ? h : cal.hourOf(h.start - 1);
      return { window: kind, start: b.start, end: b.end };
    }
    case '1d': {
      const end = lastDayEnd(cal, edge);
      return { window: kind, start: cal.dayOf(end - 1).start, end };
    }
    case '1mo':
      return toDate(kind, cal.monthOf(edge - 1), edge);
    case 'ytd':
      return toDate(kind, cal.yearOf(edge - 1), edge);
    case '12mo': {
      const end = lastDayEnd(cal, edge);
      const local = new Date(end + cal.offsetMs(end));
      return { window: kind, start: cal.midnightOf(local.getUTCFullYear() - 1, local.getUTCMonth(), local.getUTCDate()), end };
    }
    case '1y': {
      const current = cal.yearOf(edge - 1);
      const last = current.end <= edge ? current : cal.yearOf(current.start - 1);
      return { window: kind, start: last.start, end: last.end, period: last.period };
    }
  }
}

function toDate(window: EnergyWindowKind, p: PeriodBounds, edge: number): WindowBounds {
  return { window, start: p.start, end: Math.min(edge, p.end), period: p.period };
}
