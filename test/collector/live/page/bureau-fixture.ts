import type { BureauSiteReport } from '../../../../collector/live/page/bureau-view.js';
import type { ClusterSummary, SiteSummary } from '../../../../collector/http/api-source.js';
import type { KpiMessage, KpiValue } from '../../../../contract/messages.js';

/**
 * A bureau of four sites and one cluster, for the bureau view's tests (Node and Chromium). The
 * figures are chosen around the targets: gy-a meets all of them, gy-b is near (amber) on PUE and
 * occupancy, misses green share, and reports late; gy-c misses and is silent; gy-d has no month
 * figure yet (insufficient) and has sent nothing.
 */
export const T0 = Date.UTC(2026, 2, 18, 2, 40); // 10:40 in Asia/Shanghai
const MIN = 60_000;
const DAY = 86_400_000;
const TARGETS = { pue: 1.2, rack_occupancy: 0.7, green_share: 0.8 };
const MONTH_START = Date.UTC(2026, 1, 28, 16);
/** The end of the local day before T0 (00:00 Asia/Shanghai). */
export const LAST_DAY_END = Date.UTC(2026, 2, 17, 16);

type Status = NonNullable<KpiValue['status']>;
function v(kpi: string, window: KpiValue['window'], basis: string, value: number | undefined, status: Status, extra: Partial<KpiValue> = {}): KpiValue {
  const [start, end] = window === '1mo' ? [MONTH_START, T0 - 10 * MIN] : window === '1d' ? [LAST_DAY_END - DAY, LAST_DAY_END] : [T0 - 25 * MIN, T0 - 10 * MIN];
  const ok = value !== undefined;
  return { kpi, window, window_start: start, window_end: end, basis, coverage: ok ? 1 : 0.3, quality: ok ? 'measured' : 'insufficient', ok, ...(ok ? { value } : { reason: 'DCIM_E_KPI_INSUFFICIENT: inputs cover 30 % of the window' }), status, ...extra };
}

interface SiteFigures {
  pue?: number;
  pueStatus: Status;
  occupancy: number;
  occStatus: Status;
  green: number;
  greenStatus: Status;
  ai: number;
  general: number;
  aiShare: number;
  util: number;
  quality?: KpiValue['quality'];
}

export function siteKpis(site: string, f: SiteFigures, dayPue: number | undefined, dayEnd = LAST_DAY_END, ts = T0): KpiMessage {
  const q = f.quality ? { quality: f.quality } : {};
  return {
    schema: 1,
    site,
    ts,
    kpis: [
      v('pue', '15m', 'energy', f.pue, f.pueStatus, { target: 1.2, category: 2 }),
      { ...v('pue', '1d', 'energy', dayPue, dayPue === undefined ? 'grey' : dayPue <= 1.2 ? 'green' : 'red', { target: 1.2, category: 2 }), window_start: dayEnd - DAY, window_end: dayEnd },
      v('pue', '1mo', 'energy', f.pue, f.pueStatus, { target: 1.2, category: 2, ...q }),
      v('rack_occupancy_ratio', '1mo', 'mean_of_days', f.occupancy, f.occStatus, { target: 0.7 }),
      v('green_share_ratio', '1mo', 'energy_and_certificates', f.green, f.greenStatus, { target: 0.8 }),
      v('compute_ai_pflops', '15m', 'fp16_dense', f.ai, 'grey'),
      v('compute_general_pflops', '15m', 'fp32', f.general, 'grey'),
      v('compute_ai_share_ratio', '15m', 'fp16_dense+fp32', f.aiShare, 'grey'),
      v('accelerator_utilisation_pct', '15m', 'mean_of_reporting', f.util, 'grey'),
    ],
  };
}

export const FIGURES: Record<string, SiteFigures & { name: string; dayPue: number[] }> = {
  'gy-a': { name: 'Gui\'an A', pue: 1.182, pueStatus: 'green', occupancy: 0.764, occStatus: 'green', green: 0.823, greenStatus: 'green', ai: 12_500, general: 300, aiShare: 0.977, util: 71.2, dayPue: [1.19, 1.18, 1.17, 1.18, 1.18] },
  'gy-b': { name: 'Gui\'an B', pue: 1.231, pueStatus: 'amber', occupancy: 0.672, occStatus: 'amber', green: 0.41, greenStatus: 'red', ai: 800, general: 120, aiShare: 0.87, util: 55, quality: 'partial', dayPue: [1.22, 1.25, 1.23, 1.24, 1.23] },
  'gy-c': { name: 'Gui\'an C', pue: 1.412, pueStatus: 'red', occupancy: 0.5, occStatus: 'red', green: 0.2, greenStatus: 'red', ai: 40, general: 40, aiShare: 0.5, util: 12.5, dayPue: [1.4, 1.42] },
  'gy-d': { name: 'Gui\'an D', pueStatus: 'grey', occupancy: 0.71, occStatus: 'green', green: 0.9, greenStatus: 'green', ai: 0, general: 10, aiShare: 0, util: 0, dayPue: [] },
};

export const SITES: SiteSummary[] = Object.entries(FIGURES).map(([id, f]) => ({ id, name: f.name, timezone: 'Asia/Shanghai', cluster: 'guian', targets: TARGETS, halls: 0, racks: 0, devices: 0, devices_down: 0, devices_degraded: 0, agents: [], kpi_ts: T0 }));
export const CLUSTERS: ClusterSummary[] = [{ id: 'guian', name: 'Gui\'an cluster', timezone: 'Asia/Shanghai', targets: TARGETS, sites: Object.keys(FIGURES), kpi_ts: T0 }];

export const CLUSTER_KPIS: KpiMessage = {
  schema: 1,
  site: 'guian',
  ts: T0,
  kpis: [
    v('pue', '1mo', 'energy_weighted', 1.251, 'amber', { target: 1.2 }),
    v('pue', '1mo', 'mean_of_sites', 1.275, 'red', { target: 1.2 }),
    v('rack_occupancy_ratio', '1mo', 'pooled', 0.702, 'green', { target: 0.7 }),
    v('rack_occupancy_ratio', '1mo', 'mean_of_sites', 0.661, 'amber', { target: 0.7 }),
    v('green_share_ratio', '1mo', 'energy_weighted', 0.55, 'red', { target: 0.8 }),
    v('green_share_ratio', '1mo', 'mean_of_sites', 0.58, 'red', { target: 0.8 }),
    v('compute_ai_pflops', '15m', 'sum:fp16_dense', 13_340, 'grey'),
    v('compute_ai_share_ratio', '15m', 'sum:fp16_dense+fp32', 0.966, 'grey'),
  ],
};

/** GET /api/bureau/sites: gy-a on time, gy-b's last quarter came 40 minutes late, gy-c silent for 3 h, gy-d never heard of. */
export const REPORTS: (BureauSiteReport & Record<string, unknown>)[] = [
  { site: 'gy-a', clusters: ['guian'], newest_window_end: T0 - 10 * MIN, last_lag_ms: 3 * MIN, age_ms: 10 * MIN, silent: false },
  { site: 'gy-b', clusters: ['guian'], newest_window_end: T0 - 10 * MIN, last_lag_ms: 40 * MIN, age_ms: 10 * MIN, silent: false },
  { site: 'gy-c', clusters: ['guian'], newest_window_end: T0 - 190 * MIN, last_lag_ms: 2 * MIN, age_ms: 190 * MIN, silent: true },
  { site: 'gy-d', clusters: ['guian'], newest_window_end: null, last_lag_ms: null, age_ms: null, silent: true },
];

/** Each site's message for day `i` of its daily PUE series (the day ends `n - 1 - i` days before LAST_DAY_END). */
export function dayMessage(site: string, i: number): KpiMessage | undefined {
  const f = FIGURES[site]!;
  const n = f.dayPue.length;
  if (n === 0) return i === 0 ? siteKpis(site, f, undefined) : undefined;
  if (i >= n) return undefined;
  return siteKpis(site, f, f.dayPue[i]!, LAST_DAY_END - (n - 1 - i) * DAY, T0 - (n - 1 - i) * MIN);
}
