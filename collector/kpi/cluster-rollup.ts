import type { KpiQuality, KpiValue } from '../../contract/messages.js';
import type { OccupancyDay } from './occupancy.js';
import { worseQuality } from './quality.js';
import { targetStatus, type TargetDirection } from './target-status.js';

/**
 * Cluster roll-ups over a set of sites (e.g. the Gui'an cluster's new-build sites; docs/design.md §5):
 * each figure twice, labelled by its basis —
 * - `energy_weighted` (energy KPIs) / `pooled` (occupancy): the sums of the sites' inputs, as if
 *   the cluster were one site: ΣE_facility / ΣE_IT, Σ on-rack / Σ available;
 * - `mean_of_sites`: the plain mean of the site values, what a league table of sites averages.
 * A cluster figure is graded by its worst input (worst quality, lowest coverage) and has no value
 * while any of its sites has none: a roll-up that silently drops a site reports a different
 * cluster.
 */

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

export function meanOfSites(sites: readonly string[], values: ReadonlyMap<string, KpiValue>, target: number | undefined, direction: TargetDirection): KpiValue | undefined {
  const present = sites.map((s) => values.get(s)).filter((v): v is KpiValue => v !== undefined);
  const first = present[0];
  if (!first) return undefined;
  const base = {
    kpi: first.kpi,
    window: first.window,
    window_start: Math.min(...present.map((v) => v.window_start)),
    window_end: Math.max(...present.map((v) => v.window_end)),
    basis: 'mean_of_sites',
    ...(target !== undefined ? { target } : {}),
    inputs: { sites: sites.length, sites_with_value: present.filter((v) => v.ok).length },
  };
  const coverage = present.length === sites.length ? round(Math.min(...present.map((v) => v.coverage)), 6) : 0;
  const missing = sites.filter((s) => !values.get(s)?.ok);
  if (missing.length > 0) {
    return { ...base, ok: false, reason: `DCIM_E_KPI_INSUFFICIENT: no value from site ${missing.join(', ')}`, reason_code: 'DCIM_E_KPI_INSUFFICIENT', coverage, quality: 'insufficient', status: 'grey' };
  }
  const quality = present.reduce<KpiQuality>((q, v) => worseQuality(q, v.quality), 'measured');
  const value = round(present.reduce((s, v) => s + v.value!, 0) / present.length, 4);
  const category = present.every((v) => v.category !== undefined && v.category === first.category) ? first.category : undefined;
  return { ...base, ok: true, value, coverage, quality, status: targetStatus(value, target, quality, direction), ...(category !== undefined ? { category } : {}) };
}

/** Several sites' occupancy days as one: counts add, coverage is the lowest. */
export function pooledOccupancyDay(days: readonly OccupancyDay[]): OccupancyDay | undefined {
  const first = days[0];
  if (!first) return undefined;
  const sum = (f: (d: OccupancyDay) => number) => days.reduce((a, d) => a + f(d), 0);
  return {
    start: Math.min(...days.map((d) => d.start)),
    end: Math.max(...days.map((d) => d.end)),
    racks_available: sum((d) => d.racks_available),
    racks_on: sum((d) => d.racks_on),
    racks_metered: sum((d) => d.racks_metered),
    racks_reserved: sum((d) => d.racks_reserved),
    racks_planned: sum((d) => d.racks_planned),
    rated_kw_available: sum((d) => d.rated_kw_available),
    rated_kw_on: sum((d) => d.rated_kw_on),
    coverage: Math.min(...days.map((d) => d.coverage)),
  };
}
