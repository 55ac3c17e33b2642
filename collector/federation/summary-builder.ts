import { METER_GROUPS, type ComputeCounts, type SiteSummary, type SummaryWindow } from '../../contract/summary.js';
import type { ComputeFigures } from '../kpi/compute-scale.js';
import type { OccupancyDay } from '../kpi/occupancy.js';
import { DAY_MS, QUARTER_MS, type SiteCalendar } from '../../shared/time/site-calendar.js';
import { windowKpis, type SiteSource } from '../kpi/site-kpis.js';
import { settledEdge, type WindowBounds } from '../kpi/windows.js';

/**
 * A site collector's summaries for the bureau (docs/federation.md): one message per closed
 * window (15 minutes, hour, local day, calendar month) with the sums the bureau needs to add
 * sites and windows up, built from the engine through the same `SiteSource` the site's own KPIs
 * come from.
 *
 * `SummaryTracker.due(now)` looks at every closed window still open to late data (`late_days`
 * back) and returns those whose content is new or changed since it last returned them, each with
 * a higher revision: so the same window with the same content is never sent twice by one
 * process, and a late reading that changes a closed window republishes it. A window no meter has
 * covered is not news and is not sent (a bureau treats a missing summary as uncovered time).
 */

export function summaryOf(src: SiteSource, w: WindowBounds & { window: SummaryWindow }, at: { generated_ms: number; revision: number; compute?: ComputeCounts }): SiteSummary {
  const sums = src.groupSums(w);
  const groups = Object.fromEntries(
    METER_GROUPS.map((g) => {
      const s = sums[g];
      return [g, { kwh: s.kwh, covered_ms: s.covered_ms, resets: s.resets, spikes: s.spikes, meters: s.meters, silent_tail_ms: s.silent_tail_ms ?? 0, silent_tail_kwh: s.silent_tail_kwh ?? 0 }];
    }),
  ) as SiteSummary['groups'];
  const cal = src.calendar;
  return {
    schema: 1,
    site: src.site,
    window: w.window,
    window_start: w.start,
    window_end: w.end,
    ...(w.window === '1d' ? { period: cal.localDate(w.start) } : w.window === '1mo' ? { period: w.period! } : {}),
    timezone: cal.timezone,
    revision: at.revision,
    generated_ms: at.generated_ms,
    ...(src.category !== undefined ? { category: src.category } : {}),
    targets: { pue: src.targets.pue, rack_occupancy: src.targets.rack_occupancy, green_share: src.targets.green_share },
    rated_kw_available: src.rated_kw_available,
    groups,
    ...(w.window === '1d' ? { occupancy: occupancyCounts(src.occupancyDay(cal.dayNumber(w.start))) } : {}),
    ...(at.compute ? { compute: at.compute } : {}),
    ...(w.window === '1d' || w.window === '1mo' ? { declared: declaredFor(src, w.start) } : {}),
    kpis: windowKpis(src, w),
  };
}

/** Items declared for the month holding `t` (inventories declare certificates and trades per month). */
function declaredFor(src: SiteSource, t: number): NonNullable<SiteSummary['declared']> {
  return src.declared(src.calendar.monthOf(t).period);
}

export function occupancyCounts(d: OccupancyDay): NonNullable<SiteSummary['occupancy']> {
  const { start: _s, end: _e, ...counts } = d;
  return counts;
}

export function computeCounts(f: ComputeFigures, at_ms: number): ComputeCounts {
  const { utilisation_pct, ...rest } = f;
  return { ...rest, ...(utilisation_pct !== undefined ? { utilisation_pct } : {}), unknown_models: rest.unknown_models.slice(0, 100), at_ms };
}

/** The closed summary windows ending in (from, edge], oldest first. */
export function closedWindows(cal: SiteCalendar, from: number, edge: number): (WindowBounds & { window: SummaryWindow })[] {
  const out: (WindowBounds & { window: SummaryWindow })[] = [];
  for (let e = Math.floor(from / QUARTER_MS) * QUARTER_MS + QUARTER_MS; e <= edge; e += QUARTER_MS) {
    out.push({ window: '15m', start: e - QUARTER_MS, end: e });
    const h = cal.hourOf(e - 1);
    if (h.end === e) out.push({ window: '1h', start: h.start, end: h.end });
    const d = cal.dayOf(e - 1);
    if (d.end === e) out.push({ window: '1d', start: d.start, end: d.end });
    const m = cal.monthOf(e - 1);
    if (m.end === e) out.push({ window: '1mo', start: m.start, end: m.end, period: m.period });
  }
  return out;
}

/**
 * What makes two builds of a window the same message: everything but when and which revision.
 * Keys sorted, so a summary read back from the store (its keys in schema order) keys the same as
 * the one built from the engine.
 */
function contentKey(s: SiteSummary): string {
  const { revision: _r, generated_ms: _g, ...content } = s;
  return JSON.stringify(content, (_k, v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
}

export interface SummaryTrackerOptions {
  settle_ms: number;
  /** Closed windows this many days back are re-examined for late data. */
  late_days: number;
}

export class SummaryTracker {
  /** Per window (`<kind>|<end>`): the content last returned, its revision, whether a silent tail was in it. */
  private readonly sent = new Map<string, { key: string; revision: number; compute?: ComputeCounts; tail: boolean }>();
  private lastRevision = 0;
  /** The settled edge of the last call: windows ending at or before it were examined then. */
  private lastEdge = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly src: SiteSource,
    private readonly opts: SummaryTrackerOptions,
  ) {}

  /** Summaries new or changed since the last call, oldest window first. */
  due(now_ms: number): SiteSummary[] {
    const edge = settledEdge(now_ms, this.opts.settle_ms);
    // Every window closed since the last call too, so `late_days: 0` (or calls sparser than a
    // quarter hour) still sends each window once; on the first call, a day back at least.
    const from = Math.min(edge - this.opts.late_days * DAY_MS, Math.max(this.lastEdge, edge - DAY_MS));
    // A closed window examined before changes only when data was written into it since, or when a
    // meter silent in it speaks again (its tail turns into uncovered time or is filled).
    const changedFrom = this.src.takeChangedFrom ? this.src.takeChangedFrom() : Number.NEGATIVE_INFINITY;
    const settled = Math.min(this.lastEdge, changedFrom);
    this.lastEdge = edge;
    const out: SiteSummary[] = [];
    for (const w of closedWindows(this.src.calendar, from, edge)) {
      const id = `${w.window}|${w.end}`;
      const prev = this.sent.get(id);
      if (w.end <= settled && !prev?.tail) continue;
      // The compute installed is a snapshot taken when the quarter hour (and the day) closed, kept
      // for revisions; the day's lets a report of a past month show the compute at its end.
      const compute = w.window === '15m' || w.window === '1d' ? (prev ? prev.compute : this.computeNow(now_ms, w.end, edge)) : undefined;
      const draft = summaryOf(this.src, w, { generated_ms: now_ms, revision: 1, ...(compute ? { compute } : {}) });
      if (!prev && !covered(draft)) continue;
      const key = contentKey(draft);
      if (prev?.key === key) continue;
      // Revisions grow with the clock and never repeat within the process, even within one ms.
      const revision = Math.max(now_ms, this.lastRevision + 1, (prev?.revision ?? 0) + 1);
      this.lastRevision = revision;
      this.sent.set(id, { key, revision, ...(compute ? { compute } : {}), tail: hasTail(draft) });
      out.push({ ...draft, revision });
    }
    for (const id of this.sent.keys()) if (Number(id.slice(id.indexOf('|') + 1)) <= from) this.sent.delete(id);
    return out;
  }

  /**
   * Summaries this site already stored (restored at start): a window whose content is unchanged
   * is not sent again, a changed one goes with a revision above the stored one.
   */
  remember(summaries: readonly SiteSummary[]): void {
    for (const s of summaries) {
      const id = `${s.window}|${s.window_end}`;
      if ((this.sent.get(id)?.revision ?? 0) >= s.revision) continue;
      this.sent.set(id, { key: contentKey(s), revision: s.revision, ...(s.compute ? { compute: s.compute } : {}), tail: hasTail(s) });
      this.lastRevision = Math.max(this.lastRevision, s.revision);
    }
  }

  /** Compute figures for the quarter hour ending at the edge only: older quarters closed before this process saw them. */
  private computeNow(now_ms: number, end: number, edge: number): ComputeCounts | undefined {
    if (end !== edge) return undefined;
    const f = this.src.compute(now_ms);
    return f ? computeCounts(f, now_ms) : undefined;
  }
}

function hasTail(s: SiteSummary): boolean {
  return METER_GROUPS.some((g) => s.groups[g].silent_tail_ms > 0);
}

function covered(s: SiteSummary): boolean {
  return METER_GROUPS.some((g) => s.groups[g].covered_ms > 0);
}
