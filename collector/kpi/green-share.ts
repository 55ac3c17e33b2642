import type { SiteInventory } from '../../contract/inventory.js';
import type { KpiValue } from '../../contract/messages.js';
import { isStale } from '../state/latest-values.js';
import { energyQuality } from './energy-pue.js';
import type { EnergyTotals } from './energy-totals.js';
import type { LatestLookup } from './live-pue.js';
import { facilitySign, powerW } from './live-pue.js';
import type { SitePowerModel } from './power-meters.js';
import { targetStatus } from './target-status.js';
import type { WindowBounds } from './windows.js';

/**
 * Green-electricity share 绿电占比 (DESIGN.md §5, national green-DC evaluation):
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
 * Live: on-site generation over facility power only — contracted volumes are not real time.
 */

export const GREEN_SHARE_KPI = 'green_share_ratio';
export const REF_KPI = 'ref_ratio';
export const GREEN_SHARE_LIVE_KPI = 'green_share_live_ratio';

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

export interface GreenDeclared {
  certificate_kwh: number;
  trade_kwh: number;
}

/** Certificates and trades whose period falls in the window's calendar period (a month `YYYY-MM` or a year `YYYY`). */
export function declaredGreen(inv: Pick<SiteInventory, 'green_certificates' | 'green_trades'>, period: string, seen?: Set<string>): GreenDeclared {
  const inPeriod = (p: string) => p === period || p.startsWith(`${period}-`);
  const once = (kind: string, id: string) => {
    if (!seen) return true;
    const key = `${kind}:${id}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  };
  let certificate_kwh = 0;
  for (const c of inv.green_certificates) if (inPeriod(c.period) && once('gec', c.id)) certificate_kwh += c.certificates * 1000;
  let trade_kwh = 0;
  for (const t of inv.green_trades) if (inPeriod(t.period) && once('trade', t.id)) trade_kwh += t.kwh;
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
  const coverage = round(Math.min(t.facility_coverage, t.green_coverage), 6);
  const quality = energyQuality(coverage, t.anomalies);
  const green = t.green_onsite_kwh + t.green_feed_kwh + i.declared.certificate_kwh + i.declared.trade_kwh;
  const inputs = {
    facility_kwh: round(t.facility_kwh, 3),
    green_onsite_kwh: round(t.green_onsite_kwh, 3),
    green_feed_kwh: round(t.green_feed_kwh, 3),
    certificate_kwh: round(i.declared.certificate_kwh, 3),
    trade_kwh: round(i.declared.trade_kwh, 3),
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
  };
  const fail = (reason: string): KpiValue => ({ ...base, ok: false, reason: `DCIM_E_KPI_INSUFFICIENT: ${reason}`, reason_code: 'DCIM_E_KPI_INSUFFICIENT', quality: 'insufficient', status: 'grey' });
  if (t.missing.length > 0) return fail(`no data from the ${t.missing.join(', ')} meters in the window`);
  if (quality === 'insufficient') return fail(`inputs cover ${round(coverage * 100, 2)} % of the window (80 % needed)`);
  if (!(t.facility_kwh > 0)) return fail(`facility energy is ${inputs.facility_kwh} kWh`);
  const value = round(Math.min(1, green / t.facility_kwh), 4);
  return { ...base, ok: true, value, quality, status: targetStatus(value, i.target, quality, 'at_least') };
}

/** P_green_onsite / P_facility from the latest power of each meter; stale inputs give no value. */
export function liveGreenShare(model: SitePowerModel, latest: LatestLookup, at_ms: number, target: number | undefined): KpiValue {
  const base = {
    kpi: GREEN_SHARE_LIVE_KPI,
    window: 'instant' as const,
    window_start: at_ms,
    window_end: at_ms,
    basis: 'power_onsite',
    ...(target !== undefined ? { target } : {}),
  };
  const facility = model.meters.filter((m) => facilitySign(m) !== 0);
  const green = model.meters.filter((m) => m.role === 'green_onsite');
  const required = [...new Set([...facility, ...green])];
  const missing: string[] = [];
  const power = new Map<string, number>();
  for (const m of required) {
    const v = latest.get(model.site, m.device, m.power_point);
    const w = v === undefined || isStale(v, at_ms, m.interval_s) ? undefined : powerW(v);
    if (w === undefined) missing.push(m.device);
    else power.set(m.device, w);
  }
  const coverage = required.length > 0 ? round(power.size / required.length, 6) : 0;
  const fail = (code: string, reason: string, inputs?: Record<string, number>): KpiValue => ({ ...base, ok: false, reason: `${code}: ${reason}`, reason_code: code, coverage, quality: 'insufficient', status: 'grey', ...(inputs ? { inputs } : {}) });
  if (!facility.some((m) => m.role === 'facility_in')) return fail('DCIM_E_KPI_INSUFFICIENT', 'the site has no facility_in meter');
  if (missing.length > 0) return fail('DCIM_E_KPI_STALE', `no fresh power from ${missing.join(', ')}`);
  const facility_power_w = facility.reduce((s, m) => s + facilitySign(m) * power.get(m.device)!, 0);
  const green_power_w = green.reduce((s, m) => s + Math.max(0, power.get(m.device)!), 0);
  const inputs = { facility_power_w: round(facility_power_w, 3), green_onsite_power_w: round(green_power_w, 3) };
  if (!(facility_power_w > 0)) return fail('DCIM_E_KPI_INSUFFICIENT', `facility power is ${inputs.facility_power_w} W`, inputs);
  const value = round(Math.min(1, green_power_w / facility_power_w), 4);
  return { ...base, ok: true, value, coverage, quality: 'measured', status: targetStatus(value, target, 'measured', 'at_least'), inputs };
}
