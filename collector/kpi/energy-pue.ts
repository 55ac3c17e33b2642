import { KPI_INPUTS_VERSION, type KpiQuality, type KpiValue } from '../../contract/messages.js';
import { sideInputs, sideKwh, type EnergyTotals } from './energy-totals.js';
import { MAX_SUBSTITUTED_SHARE, qualityFromCoverage, worseQuality } from './quality.js';
import { FACILITY_TERMS } from './site-model.js';
import { targetStatus } from './target-status.js';
import type { WindowBounds } from './windows.js';

/**
 * Energy PUE over a window (ISO/IEC 30134-2): ΣE_facility / ΣE_IT, a ratio of sums, never an
 * average of shorter ratios (buckets [30, 30] / [25, 20] kWh give 60/45 = 1.333, not the 1.35 the
 * mean of 1.2 and 1.5 would claim). IT energy is summed at ONE level, whose category (1 UPS output,
 * 2 PDU output, 3 IT input) travels with the value. Windows shorter than a year are interim PUE;
 * the calendar year (`1y`) is the verdict.
 *
 * - PUE < 1 is a boundary error ("better than perfect", TGG WP49): no value.
 * - Quality from the measured share of the facility and IT meter-time (the worst group):
 *   ≥ 99 % measured, ≥ 95 % partial, ≥ 80 % estimated — the rest substituted and published as
 *   such — below that insufficient: no value, status grey, and the inputs are the measured part
 *   only (no `facility_kwh` / `it_kwh`). A counter reset or spike in the window makes it partial
 *   at best: the energy between the last reading and a reset is unknown.
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

/** Why a window has no value when more than the substitution bound of it is uncovered. */
export function uncoveredReason(coverage: number): string {
  return `inputs cover ${round(coverage * 100, 2)} % of the window (${round((1 - MAX_SUBSTITUTED_SHARE) * 100, 0)} % needed); the rest is not substituted, the inputs are the measured part only`;
}

export function pueFromTotals(i: PueInput): KpiValue {
  const t = i.totals;
  const cov = Math.min(t.facility.coverage, t.it.coverage);
  const coverage = round(cov, 6);
  const quality = energyQuality(cov, t.anomalies);
  const inputs = {
    ...sideInputs('facility', t.facility),
    ...sideInputs('it', t.it),
    substituted_ratio: round(Math.max(t.facility.substituted_ratio, t.it.substituted_ratio), 6),
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
    inputs_version: KPI_INPUTS_VERSION,
  };
  const fail = (code: string, reason: string): KpiValue => ({ ...base, ok: false, reason: `${code}: ${reason}`, reason_code: code, quality: 'insufficient', status: 'grey' });
  // Only the groups PUE uses: a silent front-of-meter PV inverter says nothing about PUE.
  const absent = t.missing.filter((g) => g === 'it' || FACILITY_TERMS.some((f) => f.group === g));
  if (absent.length > 0) return fail('DCIM_E_KPI_INSUFFICIENT', `no data from the ${absent.join(', ')} meters in the window`);
  const facility = sideKwh(t.facility);
  const it = sideKwh(t.it);
  if (quality === 'insufficient' || facility === undefined || it === undefined) return fail('DCIM_E_KPI_INSUFFICIENT', uncoveredReason(cov));
  if (!(it > 0)) return fail('DCIM_E_KPI_INSUFFICIENT', `IT energy is ${round(it, 3)} kWh`);
  const pue = facility / it;
  if (pue < 1) return fail('DCIM_E_KPI_BOUNDARY', `facility energy ${round(facility, 3)} kWh is below IT energy ${round(it, 3)} kWh (PUE ${round(pue, 3)} < 1)`);
  const value = round(pue, 4);
  return { ...base, ok: true, value, quality, status: targetStatus(value, i.target, quality, 'at_most') };
}
