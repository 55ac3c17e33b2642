import { KPI_INPUTS_VERSION, type KpiValue } from '../../contract/messages.js';
import type { BucketSum } from '../ledger/energy-buckets.js';
import { energyQuality, uncoveredReason } from './energy-pue.js';
import { sideInputs, sideKwh, type SideEnergy } from './energy-totals.js';
import { qualityFromCoverage } from './quality.js';
import { QUARTER_MS } from '../../shared/time/site-calendar.js';
import { targetStatus } from './target-status.js';
import type { WindowBounds } from './windows.js';

/**
 * Rack occupancy 上架率 (national green-DC evaluation: racks effectively running
 * over racks built and available):
 *   上架率(day) = racks on-rack / racks available;  month = mean of the month's days.
 * Available = inventory racks with status `available`; `reserved` and `planned` racks are not in
 * the denominator (they are reported beside it). A rack is on-rack on a local day when its IT power
 * is at least max(0.3 kW, 10 % of its rated power) for at least 50 % of the observed day (all three
 * configurable). Its power is the mean of each 15-minute bucket of its IT meters' energy (PDUs at
 * the site's PUE level, else the most upstream level in the rack, else servers that report power):
 * one threshold test per quarter hour, 96 a day. A rack without IT meters is not on-rack.
 *
 * Also per day and month: IT-load utilisation IT负荷使用率 = E_IT / (hours × Σ rated_kw of available
 * racks), a ratio of sums, and the counts in standard racks (2.5 kW each: Σ rated_kw / 2.5).
 */

export const OCCUPANCY_KPI = 'rack_occupancy_ratio';
export const UTILISATION_KPI = 'it_load_utilisation_ratio';
/** National statistics count racks in 2.5 kW equivalents (标准机架). */
export const STANDARD_RACK_KW = 2.5;

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

export interface RackDayJudgement {
  /** Quarter hours with data for at least half of the rack's meter-time. */
  observed: number;
  /** Observed quarter hours at or above the threshold. */
  above: number;
  on: boolean;
}

/** One rack on one day, from its quarter-hour buckets (undefined: no data). */
export function judgeRackDay(quarters: readonly (BucketSum | undefined)[], meters: number, threshold_kw: number, day_ratio: number): RackDayJudgement {
  let observed = 0;
  let above = 0;
  if (meters > 0) {
    for (const q of quarters) {
      if (!q || q.covered_ms < 0.5 * meters * QUARTER_MS) continue;
      observed++;
      // Mean power over the covered time; each meter covers covered_ms / meters on average.
      const hours = q.covered_ms / meters / 3_600_000;
      if (q.kwh / hours >= threshold_kw) above++;
    }
  }
  return { observed, above, on: observed > 0 && above >= day_ratio * observed };
}

export interface OccupancyDay {
  start: number;
  end: number;
  racks_available: number;
  racks_on: number;
  /** Available racks with IT meters (the others cannot be on-rack). */
  racks_metered: number;
  racks_reserved: number;
  racks_planned: number;
  rated_kw_available: number;
  rated_kw_on: number;
  /** Observed quarter hours / (metered racks × quarter hours of the day). */
  coverage: number;
}

export function occupancyDayValue(d: OccupancyDay, target: number | undefined): KpiValue {
  const inputs = {
    racks_available: d.racks_available,
    racks_on: d.racks_on,
    racks_metered: d.racks_metered,
    racks_reserved: d.racks_reserved,
    racks_planned: d.racks_planned,
    standard_racks_available: round(d.rated_kw_available / STANDARD_RACK_KW, 2),
    standard_racks_on: round(d.rated_kw_on / STANDARD_RACK_KW, 2),
  };
  return ratioValue(OCCUPANCY_KPI, { window: '1d', start: d.start, end: d.end }, d.racks_available > 0 ? d.racks_on / d.racks_available : undefined, d.coverage, target, inputs, 'no available racks in the inventory');
}

/** Month = mean of the daily values of its days (days with no value are left out; coverage counts them as 0). */
export function occupancyMonthValue(window: WindowBounds, days: readonly { value: KpiValue; day_ms: number }[], expected_days: number, target: number | undefined): KpiValue {
  const valued = days.filter((d) => d.value.ok && d.value.value !== undefined);
  const coverage = expected_days > 0 ? days.reduce((s, d) => s + d.value.coverage, 0) / expected_days : 0;
  const mean = valued.length > 0 ? valued.reduce((s, d) => s + d.value.value!, 0) / valued.length : undefined;
  const last = days.at(-1)?.value.inputs;
  const inputs: Record<string, number> = { days: expected_days, days_with_value: valued.length };
  for (const k of ['racks_available', 'racks_reserved', 'racks_planned', 'standard_racks_available'] as const) if (last?.[k] !== undefined) inputs[k] = last[k];
  return ratioValue(OCCUPANCY_KPI, window, mean, coverage, target, inputs, 'no complete day with a value in the month yet', 'mean_of_days');
}

/**
 * IT-load utilisation from the window's IT energy (undefined: the IT meters have no data). Within
 * the substitution bound the energy is measured + substituted; beyond it there is no value and the
 * inputs are the measured part only.
 */
export function utilisationValue(window: WindowBounds, it: SideEnergy | undefined, anomalies: number, rated_kw: number): KpiValue {
  const hours = (window.end - window.start) / 3_600_000;
  const it_kwh = it ? sideKwh(it) : undefined;
  const value = it_kwh !== undefined && rated_kw > 0 && hours > 0 ? it_kwh / (hours * rated_kw) : undefined;
  const coverage = it?.coverage ?? 0;
  const inputs = {
    ...(it ? sideInputs('it', it) : { it_measured_kwh: 0, it_substituted_kwh: 0, it_coverage: 0 }),
    substituted_ratio: round(it?.substituted_ratio ?? 0, 6),
    rated_kw_available: round(rated_kw, 3),
    hours: round(hours, 4),
  };
  const why = rated_kw <= 0 ? 'no available racks with a rating' : it && !it.within_bounds ? uncoveredReason(coverage) : 'no IT energy in the window';
  const v = { ...ratioValue(UTILISATION_KPI, window, value, coverage, undefined, inputs, why, 'energy'), inputs_version: KPI_INPUTS_VERSION };
  if (v.ok && anomalies > 0 && v.quality === 'measured') return { ...v, quality: energyQuality(coverage, anomalies) };
  return v;
}

function ratioValue(kpi: string, w: Pick<WindowBounds, 'window' | 'start' | 'end'>, value: number | undefined, coverage: number, target: number | undefined, inputs: Record<string, number>, missing: string, basis = 'on_rack_count'): KpiValue {
  const cov = round(Math.max(0, Math.min(1, coverage)), 6);
  const quality = qualityFromCoverage(cov);
  const base = { kpi, window: w.window, window_start: w.start, window_end: w.end, basis, coverage: cov, ...(target !== undefined ? { target } : {}), inputs };
  if (value === undefined || !Number.isFinite(value)) return { ...base, ok: false, reason: `DCIM_E_KPI_INSUFFICIENT: ${missing}`, reason_code: 'DCIM_E_KPI_INSUFFICIENT', quality: 'insufficient', status: 'grey' };
  if (quality === 'insufficient') {
    return { ...base, ok: false, reason: `DCIM_E_KPI_INSUFFICIENT: inputs cover ${round(cov * 100, 2)} % of the window (80 % needed)`, reason_code: 'DCIM_E_KPI_INSUFFICIENT', quality, status: 'grey' };
  }
  const v = round(value, 4);
  return { ...base, ok: true, value: v, quality, status: targetStatus(v, target, quality, 'at_least') };
}
