import { KPI_INPUTS_VERSION, type KpiValue } from '../../../../contract/messages.js';
import { energyQuality, uncoveredReason } from '../../energy-pue.js';
import { groupEnergy, sideInputs, sideKwh, type GroupSums } from '../../energy-totals.js';
import type { SiteSource } from '../../site-source.js';
import { windowAt, type WindowBounds } from '../../windows.js';
import { defineKpi, FORMATS } from '../kpi-module.js';
import { sideInputNames } from '../spec-inputs.js';

/**
 * Cooling load factor (The Green Grid's CLF, a partial-PUE view of the cooling plant): the energy
 * of the cooling meters (chillers, CRAC/CRAH units, pumps, cooling towers) over the IT energy of
 * the same window, ΣE_cooling / ΣE_IT, a ratio of sums like PUE. It tells how much of a PUE above
 * 1 the cooling accounts for, per day and per month. A site that declares no cooling meters has
 * no value (the cooling energy is unknown, not zero); the quality is the worse of the two groups'.
 * A cluster pools energy: Σ cooling over Σ IT of its sites.
 */

const KPI = 'cooling_load_factor_ratio';
const WINDOWS = ['1d', '1mo'] as const;
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

export function coolingLoadFactor(sums: readonly GroupSums[], w: WindowBounds, basis: string): KpiValue {
  const span = w.end - w.start;
  const energy = (g: 'cooling' | 'it') => sums.map((s) => groupEnergy(s[g], span));
  const pool = (parts: ReturnType<typeof energy>) => ({
    measured_kwh: parts.reduce((a, p) => a + p.measured_kwh, 0),
    substituted_kwh: parts.reduce((a, p) => a + p.substituted_kwh, 0),
    coverage: Math.min(...parts.map((p) => p.coverage)),
    substituted_ratio: Math.max(...parts.map((p) => p.substituted_ratio)),
    within_bounds: parts.every((p) => p.within_bounds),
  });
  const cooling = pool(energy('cooling'));
  const it = pool(energy('it'));
  const anomalies = sums.reduce((a, s) => a + Math.max(0, s.cooling.resets) + Math.max(0, s.cooling.spikes) + Math.max(0, s.it.resets) + Math.max(0, s.it.spikes), 0);
  const cov = Math.min(cooling.coverage, it.coverage);
  const quality = energyQuality(cov, anomalies);
  const base = {
    kpi: KPI,
    window: w.window,
    window_start: w.start,
    window_end: w.end,
    basis,
    coverage: round(cov, 6),
    inputs: { ...sideInputs('cooling', cooling), ...sideInputs('it', it), substituted_ratio: round(Math.max(cooling.substituted_ratio, it.substituted_ratio), 6), anomalies },
    inputs_version: KPI_INPUTS_VERSION,
  };
  const fail = (reason: string): KpiValue => ({ ...base, ok: false, reason: `DCIM_E_KPI_INSUFFICIENT: ${reason}`, reason_code: 'DCIM_E_KPI_INSUFFICIENT', quality: 'insufficient', status: 'grey' });
  if (sums.some((s) => s.cooling.meters === 0)) return fail('no cooling meters are declared (role cooling)');
  const silent = (['cooling', 'it'] as const).filter((g) => sums.some((s) => s[g].meters > 0 && !(s[g].covered_ms > 0)));
  if (silent.length > 0) return fail(`no data from the ${silent.join(', ')} meters in the window`);
  const c = sideKwh(cooling);
  const i = sideKwh(it);
  if (quality === 'insufficient' || c === undefined || i === undefined) return fail(uncoveredReason(cov));
  if (!(i > 0)) return fail(`IT energy is ${round(i, 3)} kWh`);
  // No target is set for it: it explains a PUE, the PUE carries the target.
  return { ...base, ok: true, value: round(c / i, 4), quality, status: 'grey' };
}

const ofSite = (src: SiteSource, w: WindowBounds) => coolingLoadFactor([src.groupSums(w)], w, 'energy');

export const coolingLoadFactorKpi = defineKpi({
  name: KPI,
  order: 80,
  spec: { windows: WINDOWS, site_basis: ['energy'], cluster_basis: ['energy_weighted'], inputs: [...sideInputNames('cooling'), ...sideInputNames('it'), 'substituted_ratio', 'anomalies'] },
  display: { label: { 'zh-CN': '制冷负载系数（CLF）', en: 'Cooling load factor (CLF)' }, format: FORMATS.ratio },
  site: ({ src, edge }) => WINDOWS.map((kind) => ofSite(src, windowAt(src.calendar, kind, edge))),
  closed: (src, w) => ((WINDOWS as readonly string[]).includes(w.window) ? ofSite(src, w) : undefined),
  revised: ['1d'],
  cluster: (ctx) =>
    WINDOWS.map((kind) => ctx.noSites(coolingLoadFactor(ctx.hosted.map((src) => src.groupSums(ctx.windowFor(src, kind))), ctx.windowFor(ctx.hosted[0], kind), 'energy_weighted'))),
});

export default coolingLoadFactorKpi;
