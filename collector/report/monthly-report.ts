import { KPI_INPUTS_VERSION, type KpiMessage, type KpiQuality, type KpiValue, type KpiWindow, type TargetStatus } from '../../contract/messages.js';
import type { ClusterSummary, SiteSummary } from '../http/api-source.js';

/**
 * The bureau's monthly report as a pure function of what the collector's HTTP API answers
 * (/api/sites, /api/clusters, /api/sites|clusters/:id/kpi): every figure is the API's KPI value
 * for the month's window, copied, never recomputed, so the report and the API cannot disagree.
 * Month figures come from the `1mo` window (PUE also `12mo`, trailing); the installed compute,
 * its accelerator utilisation and the compute share exist only as `instant` values (the state at
 * report time), which the report says in each figure's `window`.
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

export interface ReportRow {
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
  rack_occupancy: Figure;
  it_load_utilisation: Figure;
  compute_ai_pflops: Figure;
  compute_general_pflops: Figure;
  compute_ai_share: Figure;
  accelerator_utilisation_pct: Figure;
  pue_month: Figure;
  pue_12mo: Figure;
  green_share: Figure;
  /** The month's energy by side: facility and IT from the month's PUE, green from the month's green share. */
  energy: Record<EnergySide, EnergyFigure>;
  /** Green electricity declared for the month (certificates × 1,000 kWh, settled trades): declared, not metered. */
  green_energy_kwh: { certificates: number | null; trade: number | null };
  data_quality: { worst: KpiQuality; min_coverage: number | null; insufficient: string[] };
}

/** 2: energy by side as measured and substituted parts (`energy`), no single extrapolated total. */
export interface MonthlyReport {
  schema: 2;
  month: string;
  generated_ms: number;
  source: string;
  rows: ReportRow[];
}

export interface ReportScope {
  kind: 'site' | 'cluster';
  summary: SiteSummary | ClusterSummary;
  kpis: KpiMessage | undefined;
}

const QUALITY_RANK: Record<KpiQuality, number> = { measured: 0, partial: 1, estimated: 2, insufficient: 3 };

export function figure(kpis: readonly KpiValue[], kpi: string, window: KpiWindow): Figure {
  const k = kpis.find((x) => x.kpi === kpi && x.window === window);
  if (!k) return { value: null, window: null, basis: null, quality: 'insufficient', status: 'grey', target: null, coverage: null, category: null, reason: `the API has no ${kpi} ${window} value` };
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
  const tz = 'timezone' in scope.summary ? scope.summary.timezone : 'UTC';
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

export function reportRow(scope: ReportScope): ReportRow {
  const kpis = scope.kpis?.kpis ?? [];
  const day = kpis.find((k) => k.kpi === 'rack_occupancy_ratio' && k.window === '1d')?.inputs ?? {};
  const pueMonth = kpis.find((k) => k.kpi === 'pue' && k.window === '1mo');
  const greenMonth = kpis.find((k) => k.kpi === 'green_share_ratio' && k.window === '1mo');
  const green = greenMonth?.inputs ?? {};
  const f = {
    rack_occupancy: figure(kpis, 'rack_occupancy_ratio', '1mo'),
    it_load_utilisation: figure(kpis, 'it_load_utilisation_ratio', '1mo'),
    compute_ai_pflops: figure(kpis, 'compute_ai_pflops', 'instant'),
    compute_general_pflops: figure(kpis, 'compute_general_pflops', 'instant'),
    compute_ai_share: figure(kpis, 'compute_ai_share_ratio', 'instant'),
    accelerator_utilisation_pct: figure(kpis, 'accelerator_utilisation_pct', 'instant'),
    pue_month: figure(kpis, 'pue', '1mo'),
    pue_12mo: figure(kpis, 'pue', '12mo'),
    green_share: figure(kpis, 'green_share_ratio', '1mo'),
  };
  const month = [f.rack_occupancy, f.it_load_utilisation, f.pue_month, f.green_share];
  const worst = month.reduce<KpiQuality>((w, x) => (QUALITY_RANK[x.quality] > QUALITY_RANK[w] ? x.quality : w), 'measured');
  const coverages = month.map((x) => x.coverage).filter((c): c is number => c !== null);
  const available = num(day.racks_available);
  const reserved = num(day.racks_reserved);
  const planned = num(day.racks_planned);
  return {
    scope: scope.kind,
    id: scope.summary.id,
    name: scope.summary.name,
    sites: 'sites' in scope.summary ? scope.summary.sites : [scope.summary.id],
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
  };
}

export function buildMonthlyReport(month: string, scopes: readonly ReportScope[], generated_ms: number, source: string): MonthlyReport {
  return { schema: 2, month, generated_ms, source, rows: scopes.map(reportRow) };
}
