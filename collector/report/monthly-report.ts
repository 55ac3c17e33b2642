import { REPORT_LAYOUT, type LaidFigure, type ReportLayout, type TargetKey } from './report-layout.js';
import { KPI_INPUTS_VERSION, type KpiMessage, type KpiQuality, type KpiValue, type KpiWindow, type TargetStatus } from '../../contract/messages.js';

/**
 * The bureau's monthly report as a pure function of KPI values: those the collector's HTTP API
 * answers for the month in progress (/api/sites|clusters/:id/kpi), or those evaluated from stored
 * site summaries as of a month's end (store-report-source.ts): the same values either way, copied,
 * never recomputed here, so the report and its source cannot disagree.
 * Month figures come from the `1mo` window; the verdicts from `ytd` (the year to the month's
 * end), `12mo` (the trailing year to it) and `1y` (the last complete calendar year); the installed
 * compute, its accelerator utilisation and the compute share exist only as `instant` values (the
 * state at report time, or at the month's end from a store), which each figure's `window` says.
 */
export interface Figure {
  value: number | null;
  window: KpiWindow | null;
  basis: string | null;
  quality: KpiQuality;
  status: TargetStatus;
  target: number | null;
  coverage: number | null;
  /** PUE measurement category 1|2|3 (PUE only). */
  category: number | null;
  /** Why there is no value (the API's reason). */
  reason: string | null;
}

/**
 * One side's energy over the month (facility, IT, on-site green, green feeds), copied from the
 * API's named inputs. Never a total scaled up from part of the month: `kwh` is measured +
 * substituted only while the substitution stayed within the `estimated` bound (20 % of the
 * meter-time); otherwise `state` is `measured_only`, `kwh` is null and `measured_kwh` is what the
 * readings covered.
 */
export interface EnergyFigure {
  /** `total`: kwh = measured + substituted; `measured_only`: the window is insufficient; `unavailable`: the API gives no named energy inputs. */
  state: 'total' | 'measured_only' | 'unavailable';
  kwh: number | null;
  measured_kwh: number | null;
  substituted_kwh: number | null;
  /** Measured share of the side's meter-time, 0..1. */
  coverage: number | null;
}

export const ENERGY_SIDES = ['facility', 'it', 'green_onsite', 'green_feed'] as const;
export type EnergySide = (typeof ENERGY_SIDES)[number];

/**
 * One site or cluster of the report. Its figures are fields named by the KPI modules' report
 * declarations (today `rack_occupancy`, `it_load_utilisation`, `compute_ai_pflops`,
 * `compute_general_pflops`, `compute_ai_share`, `accelerator_utilisation_pct`, `pue_month`,
 * `pue_12mo`, `pue_ytd`, `pue_1y`, `green_share`, `green_share_ytd`, `green_share_1y`), between
 * `racks` and `energy`; `rowFigure` reads one.
 */
export interface ReportRow {
  /** A figure of a KPI's report declaration, by its field. */
  readonly [field: string]: unknown;
  scope: 'site' | 'cluster';
  id: string;
  name: string;
  /** Sites of a cluster; the site itself for a site. */
  sites: string[];
  racks: {
    /** Every declared rack: available + reserved + planned. */
    designed: number | null;
    /** Built racks: available + reserved. */
    installed: number | null;
    /** Racks judged on-rack on the last complete day (1d window). */
    on_rack: number | null;
    /** The same in standard racks of 2.5 kW (rated power / 2.5 kW). */
    standard_installed: number | null;
    standard_on_rack: number | null;
  };
  /** The month's energy by side: facility and IT from the month's PUE, green from the month's green share. */
  energy: Record<EnergySide, EnergyFigure>;
  /** Green electricity declared for the month (certificates × 1,000 kWh, settled trades): declared, not metered. */
  green_energy_kwh: { certificates: number | null; trade: number | null };
  data_quality: { worst: KpiQuality; min_coverage: number | null; insufficient: string[] };
  /** Why the row has no figures at all (no stored summaries of the month); null when it has. */
  no_data: string | null;
  /** How the site's summaries of the month arrived (store reports only; null from the API). */
  reporting: SiteReporting | null;
}

/**
 * Whether a site reported its month: its local days with no stored day summary (`missing`) and
 * those whose stored summary was generated more than `late_after_ms` after the day ended
 * (`late`). `status`: `silent` (nothing stored for the month), `missing` (some days missing),
 * `late` (all there, some late), `on_time`.
 */
export interface SiteReporting {
  status: 'on_time' | 'late' | 'missing' | 'silent';
  days_expected: number;
  days_reported: number;
  /** Local dates (YYYY-MM-DD) with no day summary. */
  days_missing: string[];
  /** Local dates whose day summary was generated late. */
  days_late: string[];
  /** Largest delay of a stored day summary after its day's end, ms; null without any. */
  max_delay_ms: number | null;
  late_after_ms: number;
}

/** The keys `--by` ranks by, from the KPI modules' report declarations: pue, occupancy, green_share, compute. */
export const RANK_BY: readonly string[] = [...REPORT_LAYOUT.rank.keys()];
export type RankBy = string;

export interface RankEntry {
  /** 1-based; null for a site without a value for the figure (listed after the ranked ones). */
  rank: number | null;
  id: string;
  name: string;
  figure: Figure;
  reporting: SiteReporting | null;
}

/**
 * 3: the year-to-date and annual verdicts, `no_data`, `reporting` and `ranking`;
 * 2: energy by side as measured and substituted parts (`energy`), no single extrapolated total.
 */
export interface MonthlyReport {
  schema: 3;
  month: string;
  generated_ms: number;
  source: string;
  /** `api`: the month in progress from a collector's API; `store`: evaluated from stored summaries as of `as_of_ms`. */
  source_kind: 'api' | 'store';
  /** The instant the figures were evaluated at (the month's end plus the settle time, or now for the month in progress). */
  as_of_ms: number | null;
  rows: ReportRow[];
  ranking: { by: RankBy; entries: RankEntry[] } | null;
}

/** What the report needs to know of a site or cluster besides its KPI values. */
export interface ScopeIdentity {
  id: string;
  name: string;
  timezone?: string;
  /** A cluster's sites. */
  sites?: string[];
}

export interface ReportScope {
  kind: 'site' | 'cluster';
  summary: ScopeIdentity;
  kpis: KpiMessage | undefined;
  /** Why there are no KPI values (nothing stored for the month). */
  no_data?: string;
  reporting?: SiteReporting;
}

const QUALITY_RANK: Record<KpiQuality, number> = { measured: 0, partial: 1, estimated: 2, insufficient: 3 };

export function figure(kpis: readonly KpiValue[], kpi: string, window: KpiWindow): Figure {
  const k = kpis.find((x) => x.kpi === kpi && x.window === window);
  if (!k) return { value: null, window: null, basis: null, quality: 'insufficient', status: 'grey', target: null, coverage: null, category: null, reason: `no ${kpi} ${window} value` };
  return {
    value: k.ok && k.value !== undefined ? k.value : null,
    window: k.window,
    basis: k.basis,
    quality: k.quality,
    status: k.status,
    target: k.target ?? null,
    coverage: k.coverage,
    category: k.category ?? null,
    reason: k.ok ? null : (k.reason ?? 'no value'),
  };
}

/** YYYY-MM of an instant in a time zone. */
export function monthAt(ms: number, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit' }).formatToParts(new Date(ms));
  return `${parts.find((p) => p.type === 'year')?.value}-${parts.find((p) => p.type === 'month')?.value}`;
}

/**
 * undefined when the API's month window is `month`; else why not. The API holds the month in
 * progress only, so a report for another month is refused rather than filled with other data.
 */
export function monthMismatch(scope: ReportScope, month: string): string | undefined {
  const w = scope.kpis?.kpis.find((k) => k.window === '1mo');
  if (!w) return `${scope.kind} ${scope.summary.id}: the API has no month (1mo) window yet`;
  const tz = scope.summary.timezone ?? 'UTC';
  const got = monthAt(w.window_start, tz);
  return got === month ? undefined : `${scope.kind} ${scope.summary.id}: the API's month window is ${got}, not ${month}; the API holds the month in progress only (use 'dcim kpi recompute' for earlier months)`;
}

const num = (x: number | undefined): number | null => (x === undefined ? null : x);

/** A side's energy from a KPI value's named inputs; figures without them (older collectors) show none. */
export function energyFigure(k: KpiValue | undefined, side: EnergySide): EnergyFigure {
  const i = k?.inputs;
  const measured = i?.[`${side}_measured_kwh`];
  if (!k || !i || k.inputs_version !== KPI_INPUTS_VERSION || measured === undefined) return { state: 'unavailable', kwh: null, measured_kwh: null, substituted_kwh: null, coverage: null };
  const kwh = i[`${side}_kwh`];
  return {
    state: kwh !== undefined ? 'total' : 'measured_only',
    kwh: num(kwh),
    measured_kwh: measured,
    substituted_kwh: kwh !== undefined ? num(i[`${side}_substituted_kwh`]) : 0,
    coverage: num(i[`${side}_coverage`]),
  };
}

/** A row's figure of one field (every declared field has one, valued or not). */
export function rowFigure(r: ReportRow, field: string): Figure {
  return r[field] as Figure;
}

export function reportRow(scope: ReportScope, layout: ReportLayout = REPORT_LAYOUT): ReportRow {
  const kpis = scope.kpis?.kpis ?? [];
  // Racks and energy by side are the inputs of the figures judged against the plan's targets: a
  // layout of the report's own, keyed by the target (occupancy's last day, PUE's and green share's month).
  const ofTarget = (key: TargetKey, window: KpiWindow) => kpis.find((k) => k.kpi === layout.targets.get(key) && k.window === window);
  const day = ofTarget('rack_occupancy', '1d')?.inputs ?? {};
  const pueMonth = ofTarget('pue', '1mo');
  const greenMonth = ofTarget('green_share', '1mo');
  const green = greenMonth?.inputs ?? {};
  const f: Record<string, Figure> = {};
  for (const x of layout.columns) f[x.field] = figure(kpis, x.kpi, x.window);
  const month = layout.columns.filter((x) => x.month).map((x) => f[x.field]!);
  const worst = month.reduce<KpiQuality>((w, x) => (QUALITY_RANK[x.quality] > QUALITY_RANK[w] ? x.quality : w), 'measured');
  const coverages = month.map((x) => x.coverage).filter((c): c is number => c !== null);
  const available = num(day.racks_available);
  const reserved = num(day.racks_reserved);
  const planned = num(day.racks_planned);
  return {
    scope: scope.kind,
    id: scope.summary.id,
    name: scope.summary.name,
    sites: scope.summary.sites ?? [scope.summary.id],
    racks: {
      designed: available !== null && reserved !== null && planned !== null ? available + reserved + planned : null,
      installed: available !== null && reserved !== null ? available + reserved : null,
      on_rack: num(day.racks_on),
      standard_installed: num(day.standard_racks_available),
      standard_on_rack: num(day.standard_racks_on),
    },
    ...f,
    energy: {
      facility: energyFigure(pueMonth, 'facility'),
      it: energyFigure(pueMonth, 'it'),
      green_onsite: energyFigure(greenMonth, 'green_onsite'),
      green_feed: energyFigure(greenMonth, 'green_feed'),
    },
    green_energy_kwh: { certificates: num(green.certificate_kwh), trade: num(green.trade_kwh) },
    data_quality: {
      worst,
      min_coverage: coverages.length > 0 ? Math.min(...coverages) : null,
      insufficient: Object.entries(f)
        .filter(([, x]) => x.quality === 'insufficient')
        .map(([name]) => name),
    },
    no_data: scope.no_data ?? null,
    reporting: scope.reporting ?? null,
  };
}

/** The figure a ranking orders by (its module's first report figure). */
export function rankFigure(by: RankBy, layout: ReportLayout = REPORT_LAYOUT): LaidFigure {
  const f = layout.rank.get(by);
  if (!f) throw new RangeError(`report: no KPI ranks by ${JSON.stringify(by)} (expected ${[...layout.rank.keys()].join(', ')})`);
  return f;
}

/**
 * The sites of `rows` ranked by one month figure, best first (ties by id). A site without a value
 * (insufficient, or nothing stored) gets no rank and is listed after the ranked ones: a missing
 * figure is never ranked as a zero.
 */
export function rankSites(rows: readonly ReportRow[], by: RankBy, layout: ReportLayout = REPORT_LAYOUT): RankEntry[] {
  const ranked = rankFigure(by, layout);
  const pick = (r: ReportRow) => rowFigure(r, ranked.field);
  // Lower is better against an at-most target (PUE); more is better otherwise, with no target too (compute).
  const lower_better = ranked.target?.direction === 'at_most';
  const sites = rows.filter((r) => r.scope === 'site');
  const valued = sites.filter((r) => pick(r).value !== null);
  valued.sort((a, b) => (lower_better ? pick(a).value! - pick(b).value! : pick(b).value! - pick(a).value!) || a.id.localeCompare(b.id));
  const unvalued = sites.filter((r) => pick(r).value === null).sort((a, b) => a.id.localeCompare(b.id));
  const entry = (r: ReportRow, rank: number | null): RankEntry => ({ rank, id: r.id, name: r.name, figure: pick(r), reporting: r.reporting });
  return [...valued.map((r, i) => entry(r, i + 1)), ...unvalued.map((r) => entry(r, null))];
}

export interface BuildOptions {
  source_kind?: 'api' | 'store';
  as_of_ms?: number;
  rank_by?: RankBy;
  /** What the report shows: the KPI registry's declarations unless a test gives its own. */
  layout?: ReportLayout;
}

export function buildMonthlyReport(month: string, scopes: readonly ReportScope[], generated_ms: number, source: string, o: BuildOptions = {}): MonthlyReport {
  const layout = o.layout ?? REPORT_LAYOUT;
  const rows = scopes.map((s) => reportRow(s, layout));
  return {
    schema: 3,
    month,
    generated_ms,
    source,
    source_kind: o.source_kind ?? 'api',
    as_of_ms: o.as_of_ms ?? null,
    rows,
    ranking: o.rank_by ? { by: o.rank_by, entries: rankSites(rows, o.rank_by, layout) } : null,
  };
}
