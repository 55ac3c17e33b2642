import type { SiteInventory } from '../../contract/inventory.js';
import { KPI_INPUTS_VERSION, type KpiValue } from '../../contract/messages.js';
import type { DeclaredGreenItems } from '../../contract/summary.js';
import { energyQuality, uncoveredReason } from './energy-pue.js';
import { sideInputs, sideKwh, type EnergyTotals } from './energy-totals.js';
import { liveInputs } from './live-pue.js';
import { DEFAULT_STALE_CARRY, facilitySign, type LatestLookup, type SitePowerModel, type StaleCarry } from './power-meters.js';
import { targetStatus } from './target-status.js';
import type { WindowBounds } from './windows.js';

/**
 * Green-electricity share 绿电占比 (national green-DC evaluation):
 *   min(1, (E_green_onsite + E_green_feed + Σ certificates × 1,000 kWh + Σ green trades kWh) / E_facility)
 * over a month (to date), the year to date and the last calendar year (the verdict). 绿证 are the
 * sole proof of renewable attributes in China (NDRC/NEA 2023), 1 certificate = 1,000 kWh; each
 * certificate batch and each settled 绿电交易 is declared once per site with its period YYYY-MM and
 * counted once (ids are unique per site; a cluster counts an id once across its sites).
 *
 * REF (ISO/IEC 30134-3) is the same ratio with the standard's label, over a twelve-month
 * coincident period (the calendar year here): renewable energy the data centre owns and retires
 * (on-site generation whose certificates are kept, certificates retired, supply documented green)
 * over total DC energy, capped at 1. The differences from 绿电占比: REF counts on-site generation
 * only while its certificates are not sold (the inventory cannot say, so all on-site generation is
 * counted; declare sold volumes out of the seed), and REF has no monthly form.
 *
 * Live: metered green supply (on-site generation and green feeds) over facility power;
 * certificates and trades are settled per period, not real time.
 */

export const GREEN_SHARE_KPI = 'green_share_ratio';
export const REF_KPI = 'ref_ratio';
export const GREEN_SHARE_LIVE_KPI = 'green_share_live_ratio';

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

export interface GreenDeclared {
  certificate_kwh: number;
  trade_kwh: number;
}

/** Certificates (× 1,000 kWh each) and trades whose period falls in a calendar period (a month `YYYY-MM` or a year `YYYY`), item by item. */
export function declaredItems(inv: Pick<SiteInventory, 'green_certificates' | 'green_trades'>, period: string): DeclaredGreenItems {
  const inPeriod = (p: string) => p === period || p.startsWith(`${period}-`);
  return {
    certificates: inv.green_certificates.filter((c) => inPeriod(c.period)).map((c) => ({ id: c.id, period: c.period, kwh: c.certificates * 1000 })),
    trades: inv.green_trades.filter((t) => inPeriod(t.period)).map((t) => ({ id: t.id, period: t.period, kwh: t.kwh })),
  };
}

/** What a site declares for a period, summed (see `sumDeclared` for `seen`). */
export function declaredGreen(inv: Pick<SiteInventory, 'green_certificates' | 'green_trades'>, period: string, seen?: Set<string>): GreenDeclared {
  return sumDeclared(declaredItems(inv, period), seen);
}

/** Declared items summed; with `seen`, an id another site of the roll-up already declared is counted once. */
export function sumDeclared(items: DeclaredGreenItems, seen?: Set<string>): GreenDeclared {
  const once = (kind: string, id: string) => {
    if (!seen) return true;
    const key = `${kind}:${id}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  };
  let certificate_kwh = 0;
  for (const c of items.certificates) if (once('gec', c.id)) certificate_kwh += c.kwh;
  let trade_kwh = 0;
  for (const t of items.trades) if (once('trade', t.id)) trade_kwh += t.kwh;
  return { certificate_kwh, trade_kwh };
}

export interface GreenShareInput {
  window: WindowBounds;
  totals: EnergyTotals;
  declared: GreenDeclared;
  target: number | undefined;
  kpi?: string;
  basis?: string;
}

export function greenShareFromTotals(i: GreenShareInput): KpiValue {
  const t = i.totals;
  const cov = Math.min(t.facility.coverage, t.green_onsite.coverage, t.green_feed.coverage);
  const coverage = round(cov, 6);
  const quality = energyQuality(cov, t.anomalies);
  const inputs = {
    ...sideInputs('facility', t.facility),
    ...sideInputs('green_onsite', t.green_onsite),
    ...sideInputs('green_feed', t.green_feed),
    certificate_kwh: round(i.declared.certificate_kwh, 3),
    trade_kwh: round(i.declared.trade_kwh, 3),
    substituted_ratio: round(Math.max(t.facility.substituted_ratio, t.green_onsite.substituted_ratio, t.green_feed.substituted_ratio), 6),
  };
  const base = {
    kpi: i.kpi ?? GREEN_SHARE_KPI,
    window: i.window.window,
    window_start: i.window.start,
    window_end: i.window.end,
    basis: i.basis ?? 'energy_and_certificates',
    coverage,
    ...(i.target !== undefined ? { target: i.target } : {}),
    inputs,
    inputs_version: KPI_INPUTS_VERSION,
  };
  const fail = (reason: string): KpiValue => ({ ...base, ok: false, reason: `DCIM_E_KPI_INSUFFICIENT: ${reason}`, reason_code: 'DCIM_E_KPI_INSUFFICIENT', quality: 'insufficient', status: 'grey' });
  if (t.missing.length > 0) return fail(`no data from the ${t.missing.join(', ')} meters in the window`);
  const facility = sideKwh(t.facility);
  const onsite = sideKwh(t.green_onsite);
  const feed = sideKwh(t.green_feed);
  if (quality === 'insufficient' || facility === undefined || onsite === undefined || feed === undefined) return fail(uncoveredReason(cov));
  if (!(facility > 0)) return fail(`facility energy is ${round(facility, 3)} kWh`);
  const green = onsite + feed + i.declared.certificate_kwh + i.declared.trade_kwh;
  const value = round(Math.min(1, green / facility), 4);
  return { ...base, ok: true, value, quality, status: targetStatus(value, i.target, quality, 'at_least') };
}

/**
 * Live green share: min(1, (P_green_onsite + P_green_feed) / P_facility) from the latest power of
 * each meter. Both are metered green supply in real time; certificates and trades are settled
 * per period and stay out. A stale meter is carried like in the live PUE (`StaleCarry`).
 */
export function liveGreenShare(model: SitePowerModel, latest: LatestLookup, at_ms: number, target: number | undefined, carry: StaleCarry = DEFAULT_STALE_CARRY): KpiValue {
  const base = {
    kpi: GREEN_SHARE_LIVE_KPI,
    window: 'instant' as const,
    window_start: at_ms,
    window_end: at_ms,
    basis: 'power_metered',
    ...(target !== undefined ? { target } : {}),
  };
  const fail = (reason: string, fields: Partial<KpiValue> & { coverage: number }): KpiValue => ({ ...base, ok: false, reason, reason_code: reason.slice(0, reason.indexOf(':')), quality: 'insufficient', status: 'grey', ...fields });
  const facility = model.meters.filter((m) => facilitySign(m) !== 0);
  const green = model.meters.filter((m) => m.role === 'green_onsite' || m.role === 'green_feed');
  if (!facility.some((m) => m.role === 'facility_in')) return fail('DCIM_E_KPI_INSUFFICIENT: the site has no facility_in meter', { coverage: 0 });
  const got = liveInputs(model.site, { facility, green }, latest, at_ms, carry);
  if (!got.ok) return fail(got.reason, got.fields);
  const facility_power_w = got.sides.facility!.reduce((s, p) => s + facilitySign(p.meter) * p.power_w, 0);
  const supply = (role: 'green_onsite' | 'green_feed') => got.sides.green!.filter((p) => p.meter.role === role).reduce((s, p) => s + Math.max(0, p.power_w), 0);
  const onsite = supply('green_onsite');
  const feed = supply('green_feed');
  const fields = {
    ...got.fields,
    inputs: { facility_power_w: round(facility_power_w, 3), green_onsite_power_w: round(onsite, 3), green_feed_power_w: round(feed, 3), input_spread_ms: got.spread_ms, ...got.fields.inputs },
  };
  if (!(facility_power_w > 0)) return fail(`DCIM_E_KPI_INSUFFICIENT: facility power is ${fields.inputs.facility_power_w} W`, fields);
  if (got.degraded_beyond) return fail(`DCIM_E_KPI_INSUFFICIENT: inputs are not time-aligned or not measured (spread ${got.spread_ms} ms, tolerance ${got.tolerance_ms} ms)`, fields);
  const value = round(Math.min(1, (onsite + feed) / facility_power_w), 4);
  return { ...base, ok: true, value, quality: got.quality, status: targetStatus(value, target, got.quality, 'at_least'), ...fields };
}
