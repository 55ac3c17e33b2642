import { createHash } from 'node:crypto';
import type { Targets } from '../../contract/inventory.js';
import { METER_GROUPS, type ComputeCounts, type DeclaredGreenItems, type OccupancyCounts, type SiteSummary, type SummaryWindow } from '../../contract/summary.js';
import type { ComputeFigures } from '../kpi/compute-scale.js';
import { emptyGroupSums, type GroupSums } from '../kpi/energy-totals.js';
import type { OccupancyDay } from '../kpi/occupancy.js';
import { DAY_MS, QUARTER_MS, siteCalendar, type SiteCalendar } from '../../shared/time/site-calendar.js';
import type { SiteSource } from '../kpi/site-kpis.js';
import type { WindowBounds } from '../kpi/windows.js';

/**
 * One site as the bureau knows it: the summaries it sent, kept compact, answering as a
 * `SiteSource` so the bureau evaluates the site and its clusters with the same functions the
 * site's own collector uses (docs/federation.md).
 *
 * A window's energy is assembled from the coarsest summaries that tile it: a closed month's
 * summary where the whole month lies inside, else each local day's, else hours and quarter hours.
 * Time no summary covers is uncovered meter-time, exactly as a gap in the meters' data is for the
 * site: a silent site's figures lose coverage, they are never filled from other windows.
 *
 * Revisions are taken in order: a summary replaces the one held for its window only with a higher
 * revision; the same content again is `unchanged` (republished after a restart, redelivered by the
 * bridge); a lower revision, or the same revision with other content, is `stale` and changes nothing.
 */

const FIELDS = 7; // kwh, covered_ms, resets, spikes, meters, silent_tail_ms, silent_tail_kwh
const SUMS = METER_GROUPS.length * FIELDS;

interface Held {
  start: number;
  end: number;
  revision: number;
  digest: string;
  sums: Float64Array;
  occupancy?: OccupancyCounts;
  compute?: ComputeCounts;
}

export type PutOutcome = 'stored' | 'revised' | 'unchanged' | 'stale';

export interface SummarySiteSourceOptions {
  /** Quarter hours and hours are kept this many days back from the newest (late data; default 4). */
  quarter_days?: number;
  /** Local days kept (default 400: the trailing 12 months with a month to spare). */
  days?: number;
  /** Closed months kept (default 26: this year, the last and the one before for the annual verdict). */
  months?: number;
  /** Compute figures older than this are not installed compute any more (default one day). */
  compute_ttl_ms?: number;
}

export function summaryDigest(s: SiteSummary): string {
  const { revision: _r, generated_ms: _g, ...content } = s;
  return createHash('sha256').update(JSON.stringify(content)).digest('base64url');
}

function packSums(s: SiteSummary): Float64Array {
  const out = new Float64Array(SUMS);
  METER_GROUPS.forEach((g, i) => {
    const x = s.groups[g];
    out.set([x.kwh, x.covered_ms, x.resets, x.spikes, x.meters, x.silent_tail_ms, x.silent_tail_kwh], i * FIELDS);
  });
  return out;
}

export class SummarySiteSource implements SiteSource {
  readonly calendar: SiteCalendar;
  category: 1 | 2 | 3 | undefined;
  targets: Targets;
  rated_kw_available: number;
  private readonly held: Record<SummaryWindow, Map<number, Held>> = { '15m': new Map(), '1h': new Map(), '1d': new Map(), '1mo': new Map() };
  /** Local days with quarter-hour or hour summaries held: days without any are skipped whole. */
  private readonly subDayCount = new Map<number, number>();
  /** Declared items by month (`YYYY-MM`), from the newest day or month summary of that month. */
  private readonly declaredByMonth = new Map<string, { end: number; items: DeclaredGreenItems }>();
  private newestEnd = Number.NEGATIVE_INFINITY;
  /** Meters per group from the newest summary (the coverage denominator of any window). */
  private meters = new Float64Array(METER_GROUPS.length);
  private latestCompute: ComputeCounts | undefined;
  private readonly opts: Required<SummarySiteSourceOptions>;

  constructor(
    readonly site: string,
    readonly timezone: string,
    opts: SummarySiteSourceOptions = {},
  ) {
    this.calendar = siteCalendar(timezone);
    this.category = undefined;
    this.targets = { pue: 1.2, rack_occupancy: 0.7, green_share: 0.8 };
    this.rated_kw_available = 0;
    this.opts = { quarter_days: 4, days: 400, months: 26, compute_ttl_ms: DAY_MS, ...opts };
  }

  /** The newest window end any summary of this site has reached (undefined before the first). */
  get newest_window_end(): number | undefined {
    return Number.isFinite(this.newestEnd) ? this.newestEnd : undefined;
  }

  /** The revision held for a window, if any. */
  revisionOf(window: SummaryWindow, start: number): number | undefined {
    return this.held[window].get(start)?.revision;
  }

  /** Takes a summary that passed the bureau's checks (schema, site, bounds). */
  put(s: SiteSummary): PutOutcome {
    const map = this.held[s.window];
    const prev = map.get(s.window_start);
    const digest = summaryDigest(s);
    if (prev) {
      if (prev.digest === digest) return 'unchanged';
      if (s.revision <= prev.revision) return 'stale';
    }
    map.set(s.window_start, {
      start: s.window_start,
      end: s.window_end,
      revision: s.revision,
      digest,
      sums: packSums(s),
      ...(s.occupancy ? { occupancy: s.occupancy } : {}),
      ...(s.compute ? { compute: s.compute } : {}),
    });
    if (!prev && (s.window === '15m' || s.window === '1h')) {
      const day = this.calendar.dayNumber(s.window_start);
      this.subDayCount.set(day, (this.subDayCount.get(day) ?? 0) + 1);
    }
    if (s.declared && (s.window === '1d' || s.window === '1mo')) {
      const month = this.calendar.monthOf(s.window_start).period;
      const had = this.declaredByMonth.get(month);
      if (!had || had.end <= s.window_end) this.declaredByMonth.set(month, { end: s.window_end, items: s.declared });
    }
    if (s.window_end >= this.newestEnd) {
      this.newestEnd = s.window_end;
      this.category = s.category as 1 | 2 | 3 | undefined;
      this.targets = s.targets;
      this.rated_kw_available = s.rated_kw_available;
      this.meters = Float64Array.from(METER_GROUPS, (g) => s.groups[g].meters);
      this.prune();
    }
    if (s.compute && (!this.latestCompute || s.compute.at_ms >= this.latestCompute.at_ms)) this.latestCompute = s.compute;
    return prev ? 'revised' : 'stored';
  }

  private prune(): void {
    const dropBefore = (w: SummaryWindow, limit: number) => {
      for (const [start, h] of this.held[w]) {
        if (h.end > limit) continue;
        this.held[w].delete(start);
        if (w === '15m' || w === '1h') {
          const day = this.calendar.dayNumber(start);
          const n = (this.subDayCount.get(day) ?? 1) - 1;
          if (n > 0) this.subDayCount.set(day, n);
          else this.subDayCount.delete(day);
        }
      }
    };
    const t = this.newestEnd;
    // Only when something is old enough: pruning walks the maps.
    if (this.held['15m'].size + this.held['1h'].size > (this.opts.quarter_days + 1) * 120) {
      dropBefore('15m', t - this.opts.quarter_days * DAY_MS);
      dropBefore('1h', t - this.opts.quarter_days * DAY_MS);
    }
    if (this.held['1d'].size > this.opts.days + 8) dropBefore('1d', t - this.opts.days * DAY_MS);
    if (this.held['1mo'].size > this.opts.months + 2) dropBefore('1mo', t - this.opts.months * 31 * DAY_MS);
    if (this.declaredByMonth.size > this.opts.months + 2) {
      for (const [m, d] of this.declaredByMonth) if (d.end <= t - this.opts.months * 31 * DAY_MS) this.declaredByMonth.delete(m);
    }
  }

  groupSums(w: Pick<WindowBounds, 'start' | 'end'>): GroupSums {
    const acc = new Float64Array(SUMS);
    const add = (h: Held) => {
      for (let i = 0; i < SUMS; i++) acc[i]! += h.sums[i]!;
    };
    const cal = this.calendar;
    let t = w.start;
    while (t < w.end) {
      const m = this.held['1mo'].get(t);
      if (m && m.end <= w.end) {
        add(m);
        t = m.end;
        continue;
      }
      const dayNo = cal.dayNumber(t);
      const dayStart = cal.dayStart(dayNo);
      const dayEnd = cal.dayStart(dayNo + 1);
      if (dayStart === t && dayEnd <= w.end) {
        const d = this.held['1d'].get(t);
        if (d) add(d);
        // A whole day: its summary, or its quarter hours when it has none; nothing else to look at.
        if (d || !this.subDayCount.has(dayNo)) {
          t = dayEnd;
          continue;
        }
      }
      const h = this.held['1h'].get(t);
      if (h && h.end <= w.end) {
        add(h);
        t = h.end;
        continue;
      }
      const q = this.held['15m'].get(t);
      if (q) add(q);
      t += QUARTER_MS;
    }
    const sums = emptyGroupSums(Object.fromEntries(METER_GROUPS.map((g, i) => [g, this.meters[i]!])) as Record<(typeof METER_GROUPS)[number], number>);
    METER_GROUPS.forEach((g, i) => {
      const o = i * FIELDS;
      Object.assign(sums[g], { kwh: acc[o]!, covered_ms: acc[o + 1]!, resets: acc[o + 2]!, spikes: acc[o + 3]!, silent_tail_ms: acc[o + 5]!, silent_tail_kwh: acc[o + 6]! });
    });
    return sums;
  }

  declared(period: string): DeclaredGreenItems {
    const out: DeclaredGreenItems = { certificates: [], trades: [] };
    for (const [month, d] of this.declaredByMonth) {
      if (month !== period && !month.startsWith(`${period}-`)) continue;
      out.certificates.push(...d.items.certificates);
      out.trades.push(...d.items.trades);
    }
    return out;
  }

  occupancyDay(day: number): OccupancyDay {
    const start = this.calendar.dayStart(day);
    const end = this.calendar.dayStart(day + 1);
    const held = this.held['1d'].get(start)?.occupancy;
    if (held) return { start, end, ...held };
    // No summary for the day: the racks the site last declared, none observed.
    const last = this.latestOccupancy();
    return { start, end, racks_available: last?.racks_available ?? 0, racks_on: 0, racks_metered: last?.racks_metered ?? 0, racks_reserved: last?.racks_reserved ?? 0, racks_planned: last?.racks_planned ?? 0, rated_kw_available: last?.rated_kw_available ?? 0, rated_kw_on: 0, coverage: 0 };
  }

  private latestOccupancy(): OccupancyCounts | undefined {
    let best: Held | undefined;
    for (const h of this.held['1d'].values()) if (h.occupancy && (!best || h.end > best.end)) best = h;
    return best?.occupancy;
  }

  compute(now_ms: number): ComputeFigures | undefined {
    const c = this.latestCompute;
    if (!c || now_ms - c.at_ms > this.opts.compute_ttl_ms) return undefined;
    const { at_ms: _at, utilisation_pct, ...rest } = c;
    return { ...rest, utilisation_pct };
  }

  live(): undefined {
    return undefined;
  }

  /** Summaries held, by window kind (memory figures). */
  counts(): Record<SummaryWindow, number> {
    return { '15m': this.held['15m'].size, '1h': this.held['1h'].size, '1d': this.held['1d'].size, '1mo': this.held['1mo'].size };
  }
}
