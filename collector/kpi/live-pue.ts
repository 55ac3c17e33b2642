import { IT_LEVEL_CATEGORY, type ItLevel } from '../../contract/inventory.js';
import type { KpiValue } from '../../contract/messages.js';
import { isStale, type LatestValue } from '../state/latest-values.js';
import type { PowerMeter, SitePowerModel } from './power-meters.js';
import { qualityFromDegradedShare } from './quality.js';
import { targetStatus } from './target-status.js';

/**
 * Instantaneous PUE from time-aligned power (DESIGN.md §5):
 *   P_facility = Σ facility_in + Σ green_feed − Σ export + Σ behind-meter green_onsite
 *   (a green feed is a utility feed bought as green electricity: it supplies the site beside the
 *   ordinary incomers)
 *   P_IT       = Σ it meters at ONE level
 * It is an indicator, not an ISO/IEC 30134-2 PUE (that is an energy ratio): the value is labelled
 * window `instant`, basis `power`. Its status is coloured against the site target so the live
 * page can show where the site stands, but target verdicts and alerts use the energy windows
 * only.
 *
 * IT level: summing a PDU's inlet and its outlets double counts, so only one level is summed.
 * When the IT meters sit at several levels the most upstream one (lowest category) is used:
 * upstream meters see all the IT load, while deeper levels are often metered on some racks only.
 * A site can pin the level with `it_level`. The level never changes with meter freshness, so the
 * category does not flicker.
 */

export const LIVE_PUE_KPI = 'pue_live';

export interface LatestLookup {
  get(site: string, device: string, point: string): LatestValue | undefined;
}

export interface LivePueOptions {
  /** Pin the IT metering level instead of taking the most upstream one present. */
  it_level?: ItLevel;
  /**
   * Inputs further apart than this are not simultaneous. Default: the largest poll interval of
   * the meters involved, since a meter polled every N s can lag a faster one by up to N s.
   */
  align_tolerance_ms?: number;
}

interface MeterPower {
  meter: PowerMeter;
  power_w: number;
  ts_ms: number;
  uncertain: boolean;
}

const FACILITY_SIGN: Partial<Record<PowerMeter['role'], 1 | -1>> = { facility_in: 1, green_feed: 1, export: -1 };

export function facilitySign(m: Pick<PowerMeter, 'role' | 'behind_meter'>): 1 | -1 | 0 {
  if (m.role === 'green_onsite' && m.behind_meter) return 1;
  return FACILITY_SIGN[m.role] ?? 0;
}

/** Watts from a latest value, or undefined when it is not a power figure. */
export function powerW(v: LatestValue): number | undefined {
  if (typeof v.value !== 'number' || !Number.isFinite(v.value)) return undefined;
  if (v.unit === 'kW') return v.value * 1000;
  if (v.unit === undefined || v.unit === 'W') return v.value;
  return undefined;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

export function chooseItLevel(meters: readonly PowerMeter[], pinned?: ItLevel): ItLevel | undefined {
  if (pinned) return pinned;
  let best: ItLevel | undefined;
  for (const m of meters) {
    if (m.role !== 'it' || m.level === undefined) continue;
    if (best === undefined || IT_LEVEL_CATEGORY[m.level] < IT_LEVEL_CATEGORY[best]) best = m.level;
  }
  return best;
}

/** Share of a side's power that came from degraded meters; 1 when a degraded side sums to 0. */
function degradedShare(side: readonly MeterPower[], degraded: ReadonlySet<MeterPower>): number {
  const total = side.reduce((s, p) => s + Math.abs(p.power_w), 0);
  const bad = side.filter((p) => degraded.has(p)).reduce((s, p) => s + Math.abs(p.power_w), 0);
  if (total === 0) return side.some((p) => degraded.has(p)) ? 1 : 0;
  return bad / total;
}

export function livePue(model: SitePowerModel, latest: LatestLookup, at_ms: number, opts: LivePueOptions = {}): KpiValue {
  const level = chooseItLevel(model.meters, opts.it_level);
  const base = {
    kpi: LIVE_PUE_KPI,
    window: 'instant' as const,
    window_start: at_ms,
    window_end: at_ms,
    basis: 'power',
    target: model.target_pue,
    ...(level !== undefined ? { category: IT_LEVEL_CATEGORY[level] } : {}),
  };
  const unknown = (coverage: number, reason: string, inputs?: Record<string, number>): KpiValue => ({
    ...base,
    ok: false,
    reason,
    reason_code: reason.slice(0, reason.indexOf(':')),
    coverage,
    quality: 'insufficient',
    status: 'grey',
    ...(inputs ? { inputs } : {}),
  });

  const facilityMeters = model.meters.filter((m) => facilitySign(m) !== 0);
  const itMeters = model.meters.filter((m) => m.role === 'it' && m.level === level);
  if (!facilityMeters.some((m) => m.role === 'facility_in')) return unknown(0, 'DCIM_E_KPI_INSUFFICIENT: the site has no facility_in meter');
  if (itMeters.length === 0) return unknown(0, `DCIM_E_KPI_INSUFFICIENT: the site has no it meter${level ? ` at level ${level}` : ''}`);

  const required = [...facilityMeters, ...itMeters];
  const present = new Map<PowerMeter, MeterPower>();
  const missing: string[] = [];
  for (const m of required) {
    const v = latest.get(model.site, m.device, m.power_point);
    const w = v === undefined || isStale(v, at_ms, m.interval_s) ? undefined : powerW(v);
    if (v === undefined || w === undefined) missing.push(m.device);
    else present.set(m, { meter: m, power_w: w, ts_ms: v.ts_ms, uncertain: v.quality !== 'good' });
  }
  const coverage = present.size / required.length;
  if (missing.length > 0) return unknown(coverage, `DCIM_E_KPI_STALE: no fresh power from ${missing.join(', ')}`);

  const facility = facilityMeters.map((m) => present.get(m)!);
  const it = itMeters.map((m) => present.get(m)!);
  const all = [...facility, ...it];
  const newest = Math.max(...all.map((p) => p.ts_ms));
  const oldest = Math.min(...all.map((p) => p.ts_ms));
  const tolerance = opts.align_tolerance_ms ?? Math.max(...required.map((m) => m.interval_s)) * 1000;
  const degraded = new Set(all.filter((p) => p.uncertain || newest - p.ts_ms > tolerance));
  const quality = qualityFromDegradedShare(Math.max(degradedShare(facility, degraded), degradedShare(it, degraded)));

  const facility_power_w = facility.reduce((s, p) => s + facilitySign(p.meter) * p.power_w, 0);
  const it_power_w = it.reduce((s, p) => s + p.power_w, 0);
  const inputs = { facility_power_w: round(facility_power_w, 3), it_power_w: round(it_power_w, 3), input_spread_ms: newest - oldest };

  if (it_power_w <= 0) return unknown(coverage, `DCIM_E_KPI_INSUFFICIENT: IT power is ${it_power_w} W`, inputs);
  const pue = facility_power_w / it_power_w;
  if (pue < 1) return unknown(coverage, `DCIM_E_KPI_BOUNDARY: facility power ${inputs.facility_power_w} W is below IT power ${inputs.it_power_w} W (PUE ${round(pue, 3)} < 1)`, inputs);
  if (quality === 'insufficient') {
    return unknown(coverage, `DCIM_E_KPI_INSUFFICIENT: inputs are not time-aligned or not measured (spread ${newest - oldest} ms, tolerance ${tolerance} ms)`, inputs);
  }
  const value = round(pue, 4);
  return {
    ...base,
    ok: true,
    value,
    coverage,
    quality,
    status: targetStatus(value, model.target_pue, quality, 'at_most'),
    inputs,
  };
}
