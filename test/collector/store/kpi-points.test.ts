import { describe, expect, it } from 'vitest';
import { kpiPoint } from '../../../collector/store/kpi-points.js';
import { encodePoint } from '../../../collector/store/line-protocol.js';
import type { KpiValue } from '../../../contract/messages.js';

const END = Date.UTC(2026, 0, 1, 16, 0, 0);
const START = END - 900_000;
const base: KpiValue = { kpi: 'pue', window: '15m', window_start: START, window_end: END, basis: 'energy', category: 2, coverage: 1, quality: 'measured', target: 1.2, status: 'amber', ok: true, value: 1.25, inputs: { facility_kwh: 2.5, it_kwh: 2 } };
const line = (scope: string, k: KpiValue) => {
  const r = encodePoint(kpiPoint(scope, k));
  if (!r.ok) throw new Error(r.reason);
  return r.value.line;
};

describe('KPI value → kpi point (docs/design.md §7)', () => {
  it.each<[string, string, KpiValue, string]>([
    ['an energy PUE, stamped at its window end', 'demo', base, `kpi,basis=energy,category=2,kpi=pue,site=demo,window=15m coverage=1,facility_kwh=2.5,it_kwh=2,ok=true,quality="measured",quality_rank=3i,status="amber",target=1.2,value=1.25,window_start_ms=${START}i ${END}`],
    [
      'an unknown PUE: no value, the reason and its code',
      'demo',
      { ...base, ok: false, value: undefined, quality: 'insufficient', status: 'grey', coverage: 0.5, reason: 'DCIM_E_KPI_INSUFFICIENT: inputs cover 50 % of the window (80 % needed)', reason_code: 'DCIM_E_KPI_INSUFFICIENT', inputs: {} },
      `kpi,basis=energy,category=2,kpi=pue,site=demo,window=15m coverage=0.5,ok=false,quality="insufficient",quality_rank=0i,reason="DCIM_E_KPI_INSUFFICIENT: inputs cover 50 % of the window (80 % needed)",reason_code="DCIM_E_KPI_INSUFFICIENT",status="grey",target=1.2,window_start_ms=${START}i ${END}`,
    ],
    [
      'an insufficient PUE keeps its measured energy under measured names, with the inputs version (an integer field)',
      'demo',
      { ...base, ok: false, value: undefined, quality: 'insufficient', status: 'grey', coverage: 0.333333, reason_code: 'DCIM_E_KPI_INSUFFICIENT', inputs_version: 2, inputs: { facility_measured_kwh: 6.25, facility_substituted_kwh: 0, it_measured_kwh: 5, it_substituted_kwh: 0, substituted_ratio: 0 } },
      `kpi,basis=energy,category=2,kpi=pue,site=demo,window=15m coverage=0.333333,facility_measured_kwh=6.25,facility_substituted_kwh=0,inputs_version=2i,it_measured_kwh=5,it_substituted_kwh=0,ok=false,quality="insufficient",quality_rank=0i,reason_code="DCIM_E_KPI_INSUFFICIENT",status="grey",substituted_ratio=0,target=1.2,window_start_ms=${START}i ${END}`,
    ],
    [
      'occupancy without a category, a cluster as the scope',
      'guian',
      { kpi: 'rack_occupancy_ratio', window: '1d', window_start: END - 86_400_000, window_end: END, basis: 'mean_of_sites', coverage: 1, quality: 'partial', target: 0.7, status: 'green', ok: true, value: 0.72 },
      `kpi,basis=mean_of_sites,kpi=rack_occupancy_ratio,site=guian,window=1d coverage=1,ok=true,quality="partial",quality_rank=2i,status="green",target=0.7,value=0.72,window_start_ms=${END - 86_400_000}i ${END}`,
    ],
    [
      'an input named like a fixed field is left out',
      'demo',
      { ...base, inputs: { value: 99, quality_rank: 7, it_kwh: 2 } },
      `kpi,basis=energy,category=2,kpi=pue,site=demo,window=15m coverage=1,it_kwh=2,ok=true,quality="measured",quality_rank=3i,status="amber",target=1.2,value=1.25,window_start_ms=${START}i ${END}`,
    ],
  ])('%s', (_name, scope, k, expected) => {
    expect(line(scope, k)).toBe(expected);
  });

  it('is deterministic: the order of the inputs does not change a byte', () => {
    expect(line('demo', { ...base, inputs: { it_kwh: 2, facility_kwh: 2.5 } })).toBe(line('demo', base));
  });

  it('the same window recomputed with another quality is the same point (same tags and time), not a second series', () => {
    const identity = (l: string) => `${l.split(' ')[0]} ${l.split(' ').at(-1)}`;
    const partial = line('demo', { ...base, quality: 'partial', value: 1.26, coverage: 0.97 });
    expect(identity(partial)).toBe(identity(line('demo', base)));
    expect(partial).not.toBe(line('demo', base));
  });
});
