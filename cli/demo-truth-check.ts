import type { KpiMessage, KpiValue } from '../contract/index.js';
import { kpiKey } from '../contract/kpi-catalogue.js';
import type { SiteTruth } from '../simulators/index.js';
import { zoneTimeIn } from '../simulators/model/local-time.js';
import { QUARTER_MS, dayOf, hourOf, localDate, type ZoneFn } from '../simulators/truth/windows.js';

/**
 * What `dcim demo` prints about the energy KPIs: each closed window's figure as the collector
 * publishes it (value, quality, coverage), next to the simulator's truth for the same window,
 * and whether the two agree within the tolerance. The comparison is only claimed where both
 * sides cover the whole window; a figure the collector withholds or grades below `measured` is
 * shown as such, never as a match.
 */

/** The checked figures: energy PUE per window, and per local day rack occupancy and the physical green share. */
const CHECKED: readonly { kpi: string; basis: string; window: KpiValue['window']; label: string; percent: boolean }[] = [
  { kpi: 'pue', basis: 'energy', window: '15m', label: '15-minute energy PUE', percent: false },
  { kpi: 'pue', basis: 'energy', window: '1h', label: 'hourly energy PUE', percent: false },
  { kpi: 'pue', basis: 'energy', window: '1d', label: 'daily energy PUE', percent: false },
  { kpi: 'rack_occupancy_ratio', basis: 'on_rack_count', window: '1d', label: 'rack occupancy (day)', percent: true },
  { kpi: 'green_share_ratio', basis: 'energy_physical', window: '1d', label: 'green share (day, metered)', percent: true },
];

export interface TruthFigure {
  value: number | null;
  /** Share of the window the simulator recorded (1 = all of it). */
  coverage: number;
}

/** The truth's figure for a published KPI window, or undefined when the truth holds no such window. */
export function truthFor(k: Pick<KpiValue, 'kpi' | 'basis' | 'window' | 'window_end'>, truth: SiteTruth): TruthFigure | undefined {
  if (k.kpi === 'pue' && k.basis === 'energy' && (k.window === '15m' || k.window === '1h' || k.window === '1d')) {
    const w = truth.windows[k.window].find((x) => x.window_end === k.window_end);
    return w && { value: w.pue, coverage: w.coverage_ratio };
  }
  if (k.kpi === 'rack_occupancy_ratio' && k.window === '1d') {
    const d = truth.occupancy.find((x) => x.window_end === k.window_end);
    return d && { value: d.occupancy_ratio, coverage: d.coverage_ratio };
  }
  if (k.kpi === 'green_share_ratio' && k.basis === 'energy_physical' && k.window === '1d') {
    // Metered green supply only (on-site generation and green feeds): certificates are declared per month.
    const w = truth.windows['1d'].find((x) => x.window_end === k.window_end);
    return w && { value: w.facility_kwh > 0 ? Math.min(1, (w.green_onsite_kwh + w.green_feed_kwh) / w.facility_kwh) : null, coverage: w.coverage_ratio };
  }
  return undefined;
}

export interface TruthCheckOptions {
  timezone: string;
  /** Relative deviation still called a match (0.005 = 0.5 %). */
  tolerance: number;
  /** The collector's settle time: a window is published this long after it ends. */
  settle_ms: number;
  /** When the demo started: windows that ended before it are not the demo's to show. */
  started_ms: number;
}

export class DemoTruthCheck {
  private readonly zone: ZoneFn;
  /** Window ends already printed, per checked figure. */
  private readonly printed = new Map<string, number>();
  private readonly counts = { matched: 0, off: 0, not_compared: 0 };

  constructor(private readonly opts: TruthCheckOptions) {
    this.zone = zoneTimeIn(opts.timezone);
  }

  /** Local wall time `HH:MM` of an instant in the site's zone. */
  private hhmm(ts: number): string {
    return new Date(ts + this.zone(ts).offset_ms).toISOString().slice(11, 16);
  }

  /** When the first whole 15-minute, hourly and daily windows after the start are due, in words. */
  firstDue(): string[] {
    const now = this.opts.started_ms;
    const settleMin = Math.round(this.opts.settle_ms / 60_000);
    const q = (Math.floor(now / QUARTER_MS) + 1) * QUARTER_MS;
    const h = hourOf(this.zone, now).end;
    const d = dayOf(this.zone, now).end;
    const zone = `${this.opts.timezone}, site time`;
    return [
      `Energy KPIs (${zone}): each window is printed once it has closed and settled (${settleMin} min), next to the simulator's truth for the same window; within ${(this.opts.tolerance * 100).toFixed(1)} % is a match.`,
      `  first 15-minute energy PUE at ${this.hhmm(q + QUARTER_MS + this.opts.settle_ms)} (window ${this.hhmm(q)}–${this.hhmm(q + QUARTER_MS)}: the first quarter hour the demo covers whole; the one it started in is shown but not compared)`,
      `  first hourly energy PUE at ${this.hhmm(h + 3_600_000 + this.opts.settle_ms)} (window ${this.hhmm(h)}–${this.hhmm(h + 3_600_000)})`,
      `  daily energy PUE, rack occupancy and green share once the first whole local day, ${localDate(this.zone, d)}, has ended`,
    ];
  }

  /**
   * Lines for the windows that closed since the last message: one per checked figure and window.
   * `truth` is asked only when there is something to print (it sums the simulator's buckets).
   */
  observe(msg: KpiMessage, truth: () => SiteTruth): string[] {
    const lines: string[] = [];
    let t: SiteTruth | undefined;
    for (const c of CHECKED) {
      const k = msg.kpis.find((x) => x.kpi === c.kpi && x.basis === c.basis && x.window === c.window);
      if (!k) continue;
      const key = kpiKey(c);
      if (k.window_end <= this.opts.started_ms || (this.printed.get(key) ?? -Infinity) >= k.window_end) continue;
      this.printed.set(key, k.window_end);
      t ??= truth();
      lines.push(this.line(c, k, truthFor(k, t)));
    }
    return lines;
  }

  /** Matches, deviations and windows not compared so far. */
  summary(): { matched: number; off: number; not_compared: number } {
    return { ...this.counts };
  }

  private line(c: (typeof CHECKED)[number], k: KpiValue, t: TruthFigure | undefined): string {
    const span = c.window === '1d' ? localDate(this.zone, k.window_start) : `${this.hhmm(k.window_start)}–${this.hhmm(k.window_end)}`;
    const fmt = (v: number) => (c.percent ? `${(v * 100).toFixed(2)} %` : v.toFixed(4));
    const head = `${c.label} ${span}`.padEnd(40);
    const ours = k.ok && k.value !== undefined ? `${fmt(k.value)} (${k.quality}, coverage ${(k.coverage * 100).toFixed(1)} %)` : `no value (${k.quality}: ${k.reason ?? 'no reason given'})`;
    if (!t || t.value === null) {
      this.counts.not_compared++;
      return `${head} ${ours}  truth: none for this window`;
    }
    if (t.coverage < 1) {
      this.counts.not_compared++;
      return `${head} ${ours}  truth ${fmt(t.value)} over ${(t.coverage * 100).toFixed(1)} % of the window: not compared (the demo started inside it)`;
    }
    if (!k.ok || k.value === undefined) {
      this.counts.off++;
      return `${head} ${ours}  truth ${fmt(t.value)}: NO FIGURE where the truth has one`;
    }
    const dev = (k.value - t.value) / t.value;
    const within = Math.abs(dev) <= this.opts.tolerance;
    const measured = k.quality === 'measured';
    if (within && measured) this.counts.matched++;
    else this.counts.off++;
    const verdict = within ? (measured ? 'match' : `within ${(this.opts.tolerance * 100).toFixed(1)} % but graded ${k.quality}`) : `OFF by more than ${(this.opts.tolerance * 100).toFixed(1)} %`;
    return `${head} ${ours}  truth ${fmt(t.value)}  Δ ${dev >= 0 ? '+' : '−'}${Math.abs(dev * 100).toFixed(2)} %  ${verdict}`;
  }
}
