import type { KpiQuality, KpiValue } from '../../contract/messages.js';
import type { EnergyTotals } from './energy-totals.js';
import { qualityFromCoverage, worseQuality } from './quality.js';
import { targetStatus } from './target-status.js';
import type { WindowBounds } from './windows.js';

/**
 * Energy PUE over a window (ISO/IEC 30134-2; DESIGN.md §5): ΣE_facility / ΣE_IT, a ratio of sums,
 * never an average of shorter ratios (buckets [30, 30] / [25, 20] kWh give 60/45 = 1.333, not the
 * 1.35 the mean of 1.2 and 1.5 would claim). IT energy is summed at ONE level, whose category
 * (1 UPS output, 2 PDU output, 3 IT input) travels with the value. Windows shorter than a year
 * are interim PUE; the calendar year (`1y`) is the verdict.
 *
 * - PUE < 1 is a boundary error ("better than perfect", TGG WP49): no value.
 * - Quality from the covered share of the facility and IT meters (the worse side): ≥ 99 %
 *   measured, ≥ 95 % partial, ≥ 80 % estimated, below that insufficient (no value, status grey).
 *   A counter reset or spike in the window makes it partial at best: the energy between the last
 *   reading and a reset is unknown.
 */

export const PUE_KPI = 'pue';

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

export interface PueInput {
  window: WindowBounds;
  totals: EnergyTotals;
  category: 1 | 2 | 3 | undefined;
  target: number | undefined;
  /** Default "energy"; cluster roll-ups say "energy_weighted". */
  basis?: string;
  kpi?: string;
}

export function energyQuality(coverage: number, anomalies: number): KpiQuality {
  const q = qualityFromCoverage(coverage);
  return anomalies > 0 ? worseQuality(q, 'partial') : q;
}

export function pueFromTotals(i: PueInput): KpiValue {
  const t = i.totals;
  const coverage = round(Math.min(t.facility_coverage, t.it_coverage), 6);
  const quality = energyQuality(coverage, t.anomalies);
  const inputs = {
    facility_kwh: round(t.facility_kwh, 3),
    it_kwh: round(t.it_kwh, 3),
    facility_coverage: round(t.facility_coverage, 6),
    it_coverage: round(t.it_coverage, 6),
    anomalies: t.anomalies,
  };
  const base = {
    kpi: i.kpi ?? PUE_KPI,
    window: i.window.window,
    window_start: i.window.start,
    window_end: i.window.end,
    basis: i.basis ?? 'energy',
    coverage,
    ...(i.category !== undefined ? { category: i.category } : {}),
    ...(i.target !== undefined ? { target: i.target } : {}),
    inputs,
  };
  const fail = (code: string, reason: string): KpiValue => ({ ...base, ok: false, reason: `${code}: ${reason}`, reason_code: code, quality: 'insufficient', status: 'grey' });
  if (t.missing.length > 0) return fail('DCIM_E_KPI_INSUFFICIENT', `no data from the ${t.missing.join(', ')} meters in the window`);
  if (quality === 'insufficient') return fail('DCIM_E_KPI_INSUFFICIENT', `inputs cover ${round(coverage * 100, 2)} % of the window (80 % needed)`);
  if (!(t.it_kwh > 0)) return fail('DCIM_E_KPI_INSUFFICIENT', `IT energy is ${inputs.it_kwh} kWh`);
  const pue = t.facility_kwh / t.it_kwh;
  if (pue < 1) return fail('DCIM_E_KPI_BOUNDARY', `facility energy ${inputs.facility_kwh} kWh is below IT energy ${inputs.it_kwh} kWh (PUE ${round(pue, 3)} < 1)`);
  const value = round(pue, 4);
  return { ...base, ok: true, value, quality, status: targetStatus(value, i.target, quality, 'at_most') };
}
