import { IT_LEVEL_CATEGORY, type ItLevel } from '../../contract/inventory.js';
import type { KpiQuality, KpiValue } from '../../contract/messages.js';
import { DEFAULT_STALE_CARRY, facilitySign, latestPowers, MAX_STALE_NAMED, shareOf, staleMeters, type LatestLookup, type MeterPower, type PowerMeter, type SitePowerModel, type StaleCarry } from './power-meters.js';
import { qualityFromDegradedShare, worseQuality } from './quality.js';
import { targetStatus, type TargetDirection } from './target-status.js';

export { facilitySign, powerW, type LatestLookup } from './power-meters.js';

/**
 * Instantaneous PUE from time-aligned power:
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
 *
 * A stale meter is carried at its last power within the bounds of `StaleCarry` (quality at best
 * `estimated`, the meter named in `stale_meters`); beyond them the figure is unknown, not wrong.
 */

export const LIVE_PUE_KPI = 'pue_live';

/** Default alignment tolerance in poll intervals (see `align_tolerance_ms`). */
export const ALIGN_INTERVALS = 1.5;

export interface LivePueOptions {
  /** Pin the IT metering level instead of taking the most upstream one present. */
  it_level?: ItLevel;
  /**
   * Inputs further apart than this are not simultaneous. Default: 1.5 × the largest poll interval
   * of the meters involved: a meter polled every N s lags a faster one by up to N s, and its
   * newest poll may still be on its way (poll time, spool, broker) while another meter's arrived.
   */
  align_tolerance_ms?: number;
  /** Default DEFAULT_STALE_CARRY. */
  stale_carry?: StaleCarry;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
const pct = (x: number) => `${round(x * 100, 1)} %`;
/** Devices for a reason: a hall of silent PDUs must not make a reason of thousands of names. */
const list = (names: readonly string[], max = 10) => (names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`);

export function chooseItLevel(meters: readonly PowerMeter[], pinned?: ItLevel): ItLevel | undefined {
  if (pinned) return pinned;
  let best: ItLevel | undefined;
  for (const m of meters) {
    if (m.role !== 'it' || m.level === undefined) continue;
    if (best === undefined || IT_LEVEL_CATEGORY[m.level] < IT_LEVEL_CATEGORY[best]) best = m.level;
  }
  return best;
}

/** The sides of a live ratio, each a list of meters; a meter may sit on two sides (PV behind the meter: facility and green). */
export type LiveSides = Record<string, readonly PowerMeter[]>;

/** Fields every live figure carries about its inputs' freshness. */
export type LiveFields = Pick<KpiValue, 'coverage' | 'stale_meters'> & { inputs: { stale_meter_count: number; carried_ratio: number } };

/** What the live inputs allow: the meters' power by side, or why there is no figure. */
export type LiveInputs =
  | {
      ok: true;
      sides: Record<string, MeterPower[]>;
      quality: KpiQuality;
      /** Spread of the fresh inputs' measurement times, ms. */
      spread_ms: number;
      tolerance_ms: number;
      /** Misaligned, uncertain and carried inputs are more than the `estimated` grade allows. */
      degraded_beyond: boolean;
      fields: LiveFields;
    }
  | { ok: false; reason: string; fields: LiveFields };

/**
 * The latest power of every meter of every side, judged as a whole: gaps and carried values
 * against the `StaleCarry` bounds, time alignment of the fresh ones, and the quality that follows
 * (the worst side's share of degraded power; `estimated` at best while a value is carried).
 */
export function liveInputs(site: string, sides: LiveSides, latest: LatestLookup, at_ms: number, carry: StaleCarry, align_tolerance_ms?: number): LiveInputs {
  const required = new Set<PowerMeter>();
  for (const ms of Object.values(sides)) for (const m of ms) required.add(m);
  const { powers, gaps } = latestPowers(site, required, latest, at_ms, carry);
  const carried: MeterPower[] = [];
  let newest = Number.NEGATIVE_INFINITY;
  let oldest = Number.POSITIVE_INFINITY;
  for (const p of powers.values()) {
    if (p.carried) carried.push(p);
    else {
      if (p.ts_ms > newest) newest = p.ts_ms;
      if (p.ts_ms < oldest) oldest = p.ts_ms;
    }
  }
  const coverage = required.size > 0 ? round((required.size - gaps.length - carried.length) / required.size, 6) : 0;
  const stale_meter_count = carried.length + gaps.length;
  // Nothing is carried into a figure that is not given: every stale meter is then a gap.
  const refuse = (reason: string): LiveInputs => ({
    ok: false,
    reason,
    fields: { coverage, ...(stale_meter_count > 0 ? { stale_meters: staleMeters([], [...gaps, ...carried.map((p) => ({ meter: p.meter, last: { power_w: p.power_w, ts_ms: p.ts_ms } }))]) } : {}), inputs: { stale_meter_count, carried_ratio: 0 } },
  });
  if (gaps.length > 0) {
    const why = gaps.map((g) => (g.last ? `${g.meter.device} (silent ${Math.round((at_ms - g.last.ts_ms) / 60_000)} min)` : g.meter.device));
    const beyond = gaps.some((g) => g.last) ? `; a stale meter is carried for at most ${round(carry.max_ms / 60_000, 2)} min after it goes stale` : '';
    return refuse(`DCIM_E_KPI_STALE: no fresh power from ${list(why)}${beyond}`);
  }

  let tolerance_ms = align_tolerance_ms ?? 0;
  if (align_tolerance_ms === undefined) for (const m of required) tolerance_ms = Math.max(tolerance_ms, ALIGN_INTERVALS * m.interval_s * 1000);
  const bySide: Record<string, MeterPower[]> = {};
  const shares: { name: string; carried: number; degraded: number }[] = [];
  for (const [name, ms] of Object.entries(sides)) {
    const side: MeterPower[] = (bySide[name] = []);
    for (const m of ms) side.push(powers.get(m)!);
    const degraded = (p: MeterPower) => p.carried || p.uncertain || newest - p.ts_ms > tolerance_ms;
    shares.push({ name, carried: shareOf(side, (p) => p.carried), degraded: shareOf(side, degraded) });
  }
  const over = shares.filter((x) => x.carried > carry.max_share);
  if (over.length > 0) {
    const devices = carried.map((p) => p.meter.device).sort();
    const parts = over.map((x) => `${pct(x.carried)} of ${x.name} power`).join(' and ');
    return refuse(`DCIM_E_KPI_STALE: no fresh power from ${list(devices)}; their last power would be ${parts}, at most ${pct(carry.max_share)} is carried`);
  }
  const carried_ratio = Math.max(0, ...shares.map((x) => x.carried));
  const fields = { coverage, ...(carried.length > 0 ? { stale_meters: staleMeters(carried, []) } : {}), inputs: { stale_meter_count, carried_ratio: round(carried_ratio, 6) } };
  let quality = qualityFromDegradedShare(Math.max(0, ...shares.map((x) => x.degraded)));
  const degraded_beyond = quality === 'insufficient';
  if (carried.length > 0) quality = worseQuality(quality, 'estimated');
  return { ok: true, sides: bySide, quality, spread_ms: newest >= oldest ? newest - oldest : 0, tolerance_ms, degraded_beyond, fields };
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
  const unknown = (reason: string, extra: Partial<KpiValue> & { coverage: number }): KpiValue => ({
    ...base,
    ok: false,
    reason,
    reason_code: reason.slice(0, reason.indexOf(':')),
    quality: 'insufficient',
    status: 'grey',
    ...extra,
  });

  const facilityMeters = model.meters.filter((m) => facilitySign(m) !== 0);
  const itMeters = model.meters.filter((m) => m.role === 'it' && m.level === level);
  if (!facilityMeters.some((m) => m.role === 'facility_in')) return unknown('DCIM_E_KPI_INSUFFICIENT: the site has no facility_in meter', { coverage: 0 });
  if (itMeters.length === 0) return unknown(`DCIM_E_KPI_INSUFFICIENT: the site has no it meter${level ? ` at level ${level}` : ''}`, { coverage: 0 });

  const got = liveInputs(model.site, { facility: facilityMeters, IT: itMeters }, latest, at_ms, opts.stale_carry ?? DEFAULT_STALE_CARRY, opts.align_tolerance_ms);
  if (!got.ok) return unknown(got.reason, got.fields);
  const facility_power_w = got.sides.facility!.reduce((s, p) => s + facilitySign(p.meter) * p.power_w, 0);
  const it_power_w = got.sides.IT!.reduce((s, p) => s + p.power_w, 0);
  const fields = { ...got.fields, inputs: { facility_power_w: round(facility_power_w, 3), it_power_w: round(it_power_w, 3), input_spread_ms: got.spread_ms, ...got.fields.inputs } };
  const { inputs } = fields;

  if (it_power_w <= 0) return unknown(`DCIM_E_KPI_INSUFFICIENT: IT power is ${it_power_w} W`, fields);
  const pue = facility_power_w / it_power_w;
  if (pue < 1) return unknown(`DCIM_E_KPI_BOUNDARY: facility power ${inputs.facility_power_w} W is below IT power ${inputs.it_power_w} W (PUE ${round(pue, 3)} < 1)`, fields);
  if (got.degraded_beyond) return unknown(`DCIM_E_KPI_INSUFFICIENT: inputs are not time-aligned or not measured (spread ${got.spread_ms} ms, tolerance ${got.tolerance_ms} ms, carried ${pct(inputs.carried_ratio)})`, fields);
  const value = round(pue, 4);
  return { ...base, ok: true, value, quality: got.quality, status: targetStatus(value, model.target_pue, got.quality, 'at_most'), ...fields };
}

export interface PooledLiveOptions {
  kpi: string;
  at_ms: number;
  /** Inputs summed over the sites into the numerator and the denominator of the ratio. */
  numerator: readonly string[];
  denominator: string;
  /** A share (green) is capped at 1. */
  cap?: number;
  target: number | undefined;
  direction: TargetDirection;
}

/**
 * A cluster's live figure from its sites' live values, basis `power_weighted`: Σ numerator /
 * Σ denominator of the sites' inputs (ΣP_facility / ΣP_IT for the live PUE), as if the cluster
 * were one site. Graded by its worst site; no value while any site has none. The sites' stale
 * meters are named with their site.
 */
export function pooledLive(sites: readonly string[], values: ReadonlyMap<string, KpiValue>, o: PooledLiveOptions): KpiValue {
  const present = sites.map((s) => values.get(s)).filter((v): v is KpiValue => v !== undefined);
  const category = present.length > 0 && present.every((v) => v.category !== undefined && v.category === present[0]!.category) ? present[0]!.category : undefined;
  const sum = (name: string) => present.reduce((s, v) => s + (v.inputs?.[name] ?? 0), 0);
  const stale = sites.flatMap((site) => (values.get(site)?.stale_meters ?? []).map((m) => ({ ...m, site })));
  stale.sort((a, b) => Math.abs(b.power_w ?? 0) - Math.abs(a.power_w ?? 0) || a.site.localeCompare(b.site) || a.device.localeCompare(b.device));
  const numerator = o.numerator.reduce((s, n) => s + sum(n), 0);
  const denominator = sum(o.denominator);
  const inputs: Record<string, number> = {};
  for (const n of [...o.numerator, o.denominator]) inputs[n] = round(sum(n), 3);
  inputs.stale_meter_count = sum('stale_meter_count');
  inputs.carried_ratio = Math.max(0, ...present.map((v) => v.inputs?.carried_ratio ?? 0));
  const base = {
    kpi: o.kpi,
    window: 'instant' as const,
    window_start: o.at_ms,
    window_end: o.at_ms,
    basis: 'power_weighted',
    ...(o.target !== undefined ? { target: o.target } : {}),
    ...(category !== undefined ? { category } : {}),
    coverage: present.length === sites.length && present.length > 0 ? round(Math.min(...present.map((v) => v.coverage)), 6) : 0,
    inputs,
    ...(stale.length > 0 ? { stale_meters: stale.slice(0, MAX_STALE_NAMED) } : {}),
  };
  const without = sites.filter((s) => !values.get(s)?.ok);
  if (without.length > 0 || !(denominator > 0)) {
    const reason = without.length > 0 ? `DCIM_E_KPI_INSUFFICIENT: no live value from site ${without.join(', ')}` : `DCIM_E_KPI_INSUFFICIENT: ${o.denominator} is ${round(denominator, 3)}`;
    return { ...base, ok: false, reason, reason_code: 'DCIM_E_KPI_INSUFFICIENT', quality: 'insufficient', status: 'grey' };
  }
  const quality = present.reduce<KpiQuality>((q, v) => worseQuality(q, v.quality), 'measured');
  const value = round(Math.min(o.cap ?? Number.POSITIVE_INFINITY, numerator / denominator), 4);
  return { ...base, ok: true, value, quality, status: targetStatus(value, o.target, quality, o.direction) };
}
