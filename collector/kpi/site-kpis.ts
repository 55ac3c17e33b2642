import type { Cluster } from '../../contract/inventory.js';
import type { KpiValue } from '../../contract/messages.js';
import { computeValues, sumComputeFigures, type ComputeFigures } from './compute-scale.js';
import { finiteKpi } from './finite-kpi.js';
import { KPI_REGISTRY, type ClusterContext, type SiteContext } from './registry/index.js';
import { DAY_MS, QUARTER_MS } from '../../shared/time/site-calendar.js';
import type { SiteSource } from './site-source.js';
import { settledEdge, windowAt, type EnergyWindowKind, type WindowBounds } from './windows.js';

export { occupancyWindows, totalsOf, type SiteSource } from './site-source.js';

/**
 * Every KPI of a site or a cluster as a function of a `SiteSource`, by iterating the KPI registry
 * (collector/kpi/registry/): each KPI's module says how it is evaluated at an edge, what a closed
 * window holds, which past windows late data revises and how it rolls up. Nothing here names a KPI.
 */

function once<T>(f: () => T): () => T {
  let done = false;
  let v: T;
  return () => {
    if (!done) {
      v = f();
      done = true;
    }
    return v;
  };
}

/** Every KPI of one site at `now` (docs/design.md §5). */
export function siteKpis(src: SiteSource, now_ms: number, settle_ms: number): KpiValue[] {
  const ctx: SiteContext = {
    src,
    now_ms,
    edge: settledEdge(now_ms, settle_ms),
    live: once(() => src.live(now_ms)),
    computeValues: once(() => {
      const f = src.compute(now_ms);
      return f ? computeValues(f, now_ms) : [];
    }),
  };
  return KPI_REGISTRY.flatMap((m) => m.site(ctx)).map(finiteKpi);
}

/**
 * The 15-minute, hourly and daily windows ending after `from` and before `edge` (at most
 * `late_days` back): what late data re-evaluates (each KPI's `revised` windows).
 */
export function pastWindowKpis(src: SiteSource, from: number, edge: number, late_days: number): KpiValue[] {
  const cal = src.calendar;
  const out: KpiValue[] = [];
  const start = Math.max(Math.floor(from / QUARTER_MS) * QUARTER_MS, edge - late_days * DAY_MS);
  const revise = (kind: EnergyWindowKind, e: number) => {
    const w = windowAt(cal, kind, e);
    for (const m of KPI_REGISTRY) {
      if (!m.revised?.includes(kind)) continue;
      const v = m.closed?.(src, w);
      if (v) out.push(v);
    }
  };
  for (let e = start + QUARTER_MS; e < edge; e += QUARTER_MS) {
    revise('15m', e);
    if (cal.hourOf(e - 1).end === e) revise('1h', e);
    if (cal.dayOf(e - 1).end === e) revise('1d', e);
  }
  return out;
}

/**
 * Every cluster KPI at `now` (docs/design.md §5), energy-weighted (pooled) and mean of sites, each
 * labelled by its basis. `absent`: cluster sites with no source here; every pooled figure is then
 * insufficient (a roll-up that silently drops a site reports a different cluster). Live figures
 * are rolled up only from sources that have them.
 */
export function clusterKpis(c: Cluster, hosted: readonly SiteSource[], absent: readonly string[], now_ms: number, settle_ms: number): KpiValue[] {
  const first = hosted[0];
  if (!first) return [];
  const edge = settledEdge(now_ms, settle_ms);
  const noSites = (v: KpiValue): KpiValue => {
    if (absent.length === 0) return v;
    const { value: _dropped, ...rest } = v;
    return { ...rest, ok: false, reason: `DCIM_E_KPI_INSUFFICIENT: site ${absent.join(', ')} is not served by this collector`, reason_code: 'DCIM_E_KPI_INSUFFICIENT', quality: 'insufficient', status: 'grey', coverage: 0 };
  };
  const categories = new Set(hosted.map((src) => src.category));
  const ctx: ClusterContext = {
    cluster: c,
    hosted: [first, ...hosted.slice(1)],
    now_ms,
    edge,
    category: categories.size === 1 ? [...categories][0] : undefined,
    noSites,
    // Each site's windows follow its own calendar; the cluster reports the first site's bounds.
    windowFor: (src: SiteSource, kind: EnergyWindowKind): WindowBounds => windowAt(src.calendar, kind, edge),
    siteValues: (pick) => new Map(hosted.map((src) => [src.site, pick(src)])),
    live: once(() => hosted.map((src) => src.live(now_ms))),
    // Compute: the sum of what the sites tell; a site with nothing to tell leaves the sum short.
    computeValues: once(() => {
      const figures = hosted.map((src) => src.compute(now_ms));
      const known = figures.filter((f): f is ComputeFigures => f !== undefined);
      const silent = hosted.filter((_, i) => figures[i] === undefined).map((src) => src.site);
      if (known.length === 0) return [];
      const short = (v: KpiValue): KpiValue => {
        if (silent.length === 0) return v;
        const { value: _dropped, ...rest } = v;
        return { ...rest, ok: false, reason: `DCIM_E_KPI_INSUFFICIENT: no compute figures from site ${silent.join(', ')}`, reason_code: 'DCIM_E_KPI_INSUFFICIENT', quality: 'insufficient', status: 'grey', coverage: 0 };
      };
      return computeValues(sumComputeFigures(known), now_ms).map((v) => short(noSites({ ...v, basis: `sum:${v.basis}` })));
    }),
  };
  return KPI_REGISTRY.flatMap((m) => m.cluster?.(ctx) ?? []).map(finiteKpi);
}

/**
 * The KPIs of one closed window a site summarises (each KPI's `closed` figure for that window:
 * 15m and 1h hold PUE; 1d and 1mo add green share, occupancy and IT-load utilisation).
 */
export function windowKpis(src: SiteSource, w: WindowBounds): KpiValue[] {
  return KPI_REGISTRY.flatMap((m) => m.closed?.(src, w) ?? []).map(finiteKpi);
}
