import type { KpiValue } from '../../contract/messages.js';
import { PUE_KPI } from './energy-pue.js';
import { LIVE_PUE_KPI } from './live-pue.js';

/**
 * The last gate of every KPI figure: a value that is not a finite number, or that was computed from
 * inputs that are not, is not a figure. An IT power of 5e-324 W is a finite reading, yet
 * facility / IT overflows to Infinity; published as it stands, the retained KPI message would fail
 * its schema on every tick and the site's whole message (every other KPI with it) would never
 * leave. Such a figure becomes `insufficient` with DCIM_E_KPI_NOT_FINITE and the names of the
 * inputs that broke it; its finite inputs are kept for display, the others dropped.
 *
 * Ratios that no data center can have are refused the same way: a PUE above MAX_PUE is a meter
 * fault (an IT meter reading next to nothing), not a site.
 */
export const MAX_PUE = 100;

const PUE_KPIS: ReadonlySet<string> = new Set([PUE_KPI, LIVE_PUE_KPI]);

export function finiteKpi(v: KpiValue): KpiValue {
  const badInputs = Object.entries(v.inputs ?? {}).filter(([, x]) => !Number.isFinite(x));
  const badValue = v.value !== undefined && !Number.isFinite(v.value);
  const absurd = v.value !== undefined && Number.isFinite(v.value) && PUE_KPIS.has(v.kpi) && v.value > MAX_PUE;
  if (!badValue && badInputs.length === 0 && !absurd) return v;
  const { value, ...rest } = v;
  const inputs = Object.fromEntries(Object.entries(v.inputs ?? {}).filter(([, x]) => Number.isFinite(x)));
  const what = [
    ...(badValue ? [`the value is ${String(value)}`] : []),
    ...(absurd ? [`PUE ${value} is above ${MAX_PUE}: an IT meter reading next to nothing`] : []),
    ...badInputs.map(([k, x]) => `${k} is ${String(x)}`),
  ].join('; ');
  return {
    ...rest,
    ...(v.inputs !== undefined ? { inputs } : {}),
    ok: false,
    reason: `DCIM_E_KPI_NOT_FINITE: ${what}`,
    reason_code: 'DCIM_E_KPI_NOT_FINITE',
    quality: 'insufficient',
    status: 'grey',
  };
}
