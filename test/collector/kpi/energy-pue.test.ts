import { describe, expect, it } from 'vitest';
import { EnergyBuckets, EVENT_RESET } from '../../../collector/ledger/energy-buckets.js';
import { pueFromTotals } from '../../../collector/kpi/energy-pue.js';
import { combineTotals, emptyGroupSums, energyTotals, type GroupSums } from '../../../collector/kpi/energy-totals.js';
import { declaredGreen, greenShareFromTotals } from '../../../collector/kpi/green-share.js';
import { METER_GROUPS, type MeterGroup } from '../../../collector/kpi/site-model.js';
import { QUARTER_MS, siteCalendar } from '../../../shared/time/site-calendar.js';
import type { WindowBounds } from '../../../collector/kpi/windows.js';
import { KpiValueSchema } from '../../../contract/messages.js';

const T0 = Date.UTC(2025, 11, 31, 16);
const cal = siteCalendar('Asia/Shanghai');
const W30: WindowBounds = { window: '1h', start: T0, end: T0 + 2 * QUARTER_MS };

/** Group sums with one meter per named group, fully covered unless `covered` says otherwise. */
function sums(kwh: Partial<Record<MeterGroup, number>>, covered: Partial<Record<MeterGroup, number>> = {}, window_ms = 2 * QUARTER_MS): GroupSums {
  const meters = Object.fromEntries(METER_GROUPS.map((g) => [g, kwh[g] !== undefined ? 1 : 0])) as Record<MeterGroup, number>;
  const s = emptyGroupSums(meters);
  for (const g of METER_GROUPS) if (kwh[g] !== undefined) Object.assign(s[g], { kwh: kwh[g], covered_ms: (covered[g] ?? 1) * window_ms });
  return s;
}

describe('energy PUE (ratio of sums)', () => {
  it('DESIGN §5 vector: buckets E_fac = [30, 30], E_IT = [25, 20] → 1.333, not 1.35', () => {
    const fac = new EnergyBuckets({ calendar: cal, quarter_capacity: 96, day_capacity: 4 });
    const it = new EnergyBuckets({ calendar: cal, quarter_capacity: 96, day_capacity: 4 });
    fac.add(T0, T0 + QUARTER_MS, 30, true, 0, 1);
    fac.add(T0 + QUARTER_MS, T0 + 2 * QUARTER_MS, 30, true, 0, 1);
    it.add(T0, T0 + QUARTER_MS, 25, true, 0, 1);
    it.add(T0 + QUARTER_MS, T0 + 2 * QUARTER_MS, 20, true, 0, 1);
    const s = emptyGroupSums({ ...Object.fromEntries(METER_GROUPS.map((g) => [g, 0])), facility_in: 1, it: 1 } as Record<MeterGroup, number>);
    Object.assign(s.facility_in, fac.windowSum(W30.start, W30.end));
    Object.assign(s.it, it.windowSum(W30.start, W30.end));
    const v = pueFromTotals({ window: W30, totals: energyTotals(s, W30.end - W30.start), category: 2, target: 1.2 });
    expect(v).toMatchObject({ ok: true, value: 1.3333, quality: 'measured', coverage: 1, category: 2, status: 'red', basis: 'energy', window: '1h' });
    expect(KpiValueSchema.parse(v)).toEqual(v);
  });

  it.each<[string, GroupSums, Record<string, unknown>]>([
    // Facility = 100 + 20 (green feed) − 10 (export) + 10 (PV behind the meter) = 120; IT 100 → 1.2.
    ['facility = Σ incomers + green feeds − export + behind-meter PV', sums({ facility_in: 100, green_feed: 20, export: 10, green_onsite_behind: 10, green_onsite_front: 999, it: 100, cooling: 5 }), { ok: true, value: 1.2, status: 'green', quality: 'measured' }],
    ['DESIGN §5 vector: E_IT > E_fac is a boundary error, not a value', sums({ facility_in: 97, it: 100 }), { ok: false, reason_code: 'DCIM_E_KPI_BOUNDARY', quality: 'insufficient', status: 'grey' }],
    ['PUE exactly 1 is a value', sums({ facility_in: 100, it: 100 }), { ok: true, value: 1 }],
    ['amber within 0.05 of the target', sums({ facility_in: 124, it: 100 }), { ok: true, value: 1.24, status: 'amber' }],
    ['no IT energy', sums({ facility_in: 100, it: 0 }), { ok: false, reason_code: 'DCIM_E_KPI_INSUFFICIENT' }],
    ['a declared group without any data: no value', sums({ facility_in: 100, it: 80 }, { it: 0 }), { ok: false, reason: expect.stringMatching(/no data from the it meters/) }],
    // 99.5 % covered: measured; the missing 0.5 % is estimated at the measured mean (90 / 0.995).
    ['99.5 % covered: measured, energy scaled to the window', sums({ facility_in: 120, it: 99.5 }, { it: 0.995 }), { ok: true, value: 1.2, quality: 'measured', coverage: 0.995 }],
    ['97 % covered: partial', sums({ facility_in: 120, it: 97 }, { it: 0.97 }), { ok: true, quality: 'partial', status: 'green' }],
    ['85 % covered: estimated', sums({ facility_in: 102, it: 85 }, { facility_in: 0.85, it: 0.85 }), { ok: true, value: 1.2, quality: 'estimated' }],
    ['79 % covered: insufficient, no value, no verdict', sums({ facility_in: 94.8, it: 79 }, { it: 0.79 }), { ok: false, quality: 'insufficient', status: 'grey', reason: expect.stringMatching(/cover 79 %/) }],
  ])('%s', (_name, s, want) => {
    const v = pueFromTotals({ window: W30, totals: energyTotals(s, W30.end - W30.start), category: 1, target: 1.2 });
    expect(v).toMatchObject(want);
    if (!v.ok) expect(v.value).toBeUndefined();
    expect(() => KpiValueSchema.parse(v)).not.toThrow();
  });

  it('a counter reset in the window makes it partial at best', () => {
    const s = sums({ facility_in: 120, it: 100 });
    s.it.resets = 1;
    expect(pueFromTotals({ window: W30, totals: energyTotals(s, W30.end - W30.start), category: 2, target: 1.2 })).toMatchObject({ ok: true, value: 1.2, quality: 'partial' });
    expect(EVENT_RESET).toBe(1);
  });

  it('cluster: energy-weighted is the ratio of the summed energies, coverage the worst site', () => {
    // Site A 120/100, site B 260/200 (97 % covered): (120 + 260) / (100 + 200) = 1.2667.
    const a = energyTotals(sums({ facility_in: 120, it: 100 }), W30.end - W30.start);
    const b = energyTotals(sums({ facility_in: 260, it: 194 }, { it: 0.97 }), W30.end - W30.start);
    const v = pueFromTotals({ window: W30, totals: combineTotals([a, b]), category: 2, target: 1.2, basis: 'energy_weighted' });
    expect(v).toMatchObject({ ok: true, value: 1.2667, quality: 'partial', coverage: 0.97, basis: 'energy_weighted' });
  });
});

describe('green share 绿电占比 and REF', () => {
  const inv = {
    green_certificates: [
      { id: 'gec-1', period: '2026-01', certificates: 150 },
      { id: 'gec-2', period: '2026-02', certificates: 10 },
    ],
    green_trades: [{ id: 'trade-1', period: '2026-01', kwh: 700_000 }],
  };
  const month: WindowBounds = { window: '1mo', start: T0, end: T0 + 31 * 86_400_000, period: '2026-01' };

  it('green-share test vector: 700 MWh traded + 150 certificates + 50 MWh on-site over 1,000 MWh → 90 %', () => {
    const t = energyTotals(sums({ facility_in: 950_000, green_onsite_behind: 50_000, it: 800_000 }, {}, month.end - month.start), month.end - month.start);
    const v = greenShareFromTotals({ window: month, totals: t, declared: declaredGreen(inv, '2026-01'), target: 0.8 });
    expect(v).toMatchObject({ ok: true, value: 0.9, status: 'green', quality: 'measured', inputs: { certificate_kwh: 150_000, trade_kwh: 700_000, facility_kwh: 1_000_000 } });
  });

  it('the same vector when the certificates are the ones bundled in the trade (declared once): 75 %', () => {
    const bundled = { green_certificates: [], green_trades: inv.green_trades };
    const t = energyTotals(sums({ facility_in: 950_000, green_onsite_behind: 50_000, it: 800_000 }, {}, month.end - month.start), month.end - month.start);
    expect(greenShareFromTotals({ window: month, totals: t, declared: declaredGreen(bundled, '2026-01'), target: 0.8 })).toMatchObject({ ok: true, value: 0.75, status: 'amber' }) // 5 points short: amber;
  });

  it('capped at 1 (REF cannot exceed 1 either), year periods take every month of the year', () => {
    expect(declaredGreen(inv, '2026')).toEqual({ certificate_kwh: 160_000, trade_kwh: 700_000 });
    const t = energyTotals(sums({ facility_in: 100_000, it: 80_000 }, {}, month.end - month.start), month.end - month.start);
    expect(greenShareFromTotals({ window: month, totals: t, declared: declaredGreen(inv, '2026'), target: 0.8, kpi: 'ref_ratio', basis: 'iso_iec_30134_3' })).toMatchObject({ kpi: 'ref_ratio', value: 1 });
  });

  it('each certificate and trade id counts once across a cluster', () => {
    const seen = new Set<string>();
    expect(declaredGreen(inv, '2026-01', seen)).toEqual({ certificate_kwh: 150_000, trade_kwh: 700_000 });
    expect(declaredGreen(inv, '2026-01', seen)).toEqual({ certificate_kwh: 0, trade_kwh: 0 });
  });
});
