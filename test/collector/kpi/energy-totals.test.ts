import { describe, expect, it } from 'vitest';
import { pueFromTotals } from '../../../collector/kpi/energy-pue.js';
import { combineTotals, emptyGroupSums, energyTotals, groupEnergy, sideKwh, type GroupSum, type GroupSums } from '../../../collector/kpi/energy-totals.js';
import { greenShareFromTotals } from '../../../collector/kpi/green-share.js';
import { qualityFromDegradedShare } from '../../../collector/kpi/quality.js';
import { METER_GROUPS, type MeterGroup } from '../../../collector/kpi/site-model.js';
import type { WindowBounds } from '../../../collector/kpi/windows.js';
import { KPI_INPUTS_VERSION, KpiValueSchema } from '../../../contract/messages.js';

/**
 * What a window's energy may hold: measured meter-time, plus substitution only within the
 * `estimated` bound (20 % of a group's meter-time), each part named. Beyond the bound the part
 * that was measured is all there is — never scaled to the window.
 */
const MIN = 60_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 31, 16); // 2026-02-01 00:00 Asia/Shanghai
const MONTH: WindowBounds = { window: '1mo', start: T0, end: T0 + 28 * 24 * HOUR, period: '2026-02' };
const Q: WindowBounds = { window: '15m', start: T0, end: T0 + 15 * MIN };
const len = (w: WindowBounds) => w.end - w.start;

/** A group of `meters` meters at `kw` each, covered `covered_ms` of meter-time in total. */
const group = (meters: number, kw: number, covered_ms: number, extra: Partial<GroupSum> = {}): GroupSum => ({ meters, kwh: (meters > 0 ? kw * covered_ms : 0) / HOUR, covered_ms, resets: 0, spikes: 0, ...extra });

function sums(groups: Partial<Record<MeterGroup, GroupSum>>): GroupSums {
  const s = emptyGroupSums(Object.fromEntries(METER_GROUPS.map((g) => [g, groups[g]?.meters ?? 0])) as Record<MeterGroup, number>);
  for (const g of METER_GROUPS) if (groups[g]) s[g] = groups[g];
  return s;
}

describe('groupEnergy: measured plus substitution within the bound', () => {
  it.each<[string, GroupSum, number, Record<string, unknown>]>([
    // 75 kW for the 5 minutes since the collector started, in a 28-day month: 6.25 kWh, not 75 kW × 672 h.
    ['5 minutes of a month: the measured 6.25 kWh, nothing substituted, not a total', group(1, 75, 5 * MIN), len(MONTH), { measured_kwh: 6.25, substituted_kwh: 0, substituted_ratio: 0, within_bounds: false }],
    ['the quarter hour holding the first reading, 5 of 15 minutes: measured only', group(1, 75, 5 * MIN), len(Q), { measured_kwh: 6.25, substituted_kwh: 0, within_bounds: false }],
    ['fully covered: all measured', group(2, 60, 2 * 15 * MIN), len(Q), { measured_kwh: 30, substituted_kwh: 0, coverage: 1, substituted_ratio: 0, within_bounds: true }],
    // 12 of 15 minutes (80 %): the missing 3 minutes at the measured mean 75 kW = 3.75 kWh.
    ['80 % covered: 20 % substituted at the measured mean', group(1, 75, 12 * MIN), len(Q), { measured_kwh: 15, substituted_kwh: 3.75, coverage: 0.8, substituted_ratio: 0.2, within_bounds: true }],
    ['79 % covered: nothing substituted', group(1, 75, 0.79 * 15 * MIN), len(Q), { substituted_kwh: 0, substituted_ratio: 0, within_bounds: false }],
    // One of ten meters silent for the last 9 minutes at 30 kW (its last rate), the others at 75 kW:
    // the tail is filled at the meter's own rate, 4.5 kWh, not the group's mean.
    ['a silent meter is filled at its last rate', group(10, 75, 10 * 15 * MIN - 9 * MIN, { kwh: 9 * 75 * 0.25 + (30 * 6 * MIN) / HOUR, silent_tail_ms: 9 * MIN, silent_tail_kwh: (30 * 9 * MIN) / HOUR }), len(Q), { substituted_kwh: 4.5, substituted_ratio: 0.06, within_bounds: true }],
    ['no meters declared: nothing to measure', group(0, 0, 0), len(Q), { measured_kwh: 0, substituted_kwh: 0, coverage: 1, within_bounds: true }],
    ['declared meters without data: missing', group(3, 75, 0), len(Q), { measured_kwh: 0, substituted_kwh: 0, coverage: 0, within_bounds: false }],
  ])('%s', (_name, g, window_ms, want) => {
    const e = groupEnergy(g, window_ms);
    for (const [k, v] of Object.entries(want)) expect(e[k as keyof typeof e], k).toBeCloseTo(v as number, 9);
  });

  it('the quality grade follows the substituted share, and nothing is substituted beyond 20 %', () => {
    for (const covered of [1, 0.995, 0.99, 0.97, 0.95, 0.9, 0.8, 0.7999, 0.5, 0.01]) {
      const s = sums({ facility_in: group(1, 120, covered * len(Q)), it: group(4, 25, 4 * len(Q)) });
      const v = pueFromTotals({ window: Q, totals: energyTotals(s, len(Q)), category: 2, target: 1.2 });
      const share = Math.round((1 - covered) * 1e9) / 1e9;
      expect(v.quality, `covered ${covered}`).toBe(qualityFromDegradedShare(share));
      if (share <= 0.2) {
        // 30 kWh in the quarter hour whatever the coverage: what was missing was substituted, and said so.
        expect(v, `covered ${covered}`).toMatchObject({ ok: true, value: 1.2, inputs: { substituted_ratio: share, facility_kwh: 30 } });
        expect(v.inputs!.facility_measured_kwh! + v.inputs!.facility_substituted_kwh!).toBeCloseTo(30, 3);
        expect(v.inputs!.facility_substituted_kwh).toBeCloseTo(30 * share, 3);
      } else {
        expect(v, `covered ${covered}`).toMatchObject({ ok: false, inputs: { substituted_ratio: 0, facility_substituted_kwh: 0, facility_measured_kwh: Math.round(30 * covered * 1000) / 1000 } });
        expect(v.inputs).not.toHaveProperty('facility_kwh');
        expect(v.value).toBeUndefined();
      }
      expect(KpiValueSchema.parse(v)).toEqual(v);
    }
  });
});

describe('energyTotals and the published inputs', () => {
  it('a collector started 5 minutes before the month edge: PUE inputs are those 5 minutes, labelled measured', () => {
    const s = sums({ facility_in: group(1, 75, 5 * MIN), it: group(2, 30, 2 * 5 * MIN) });
    const v = pueFromTotals({ window: MONTH, totals: energyTotals(s, len(MONTH)), category: 2, target: 1.2 });
    expect(v).toMatchObject({
      ok: false,
      quality: 'insufficient',
      status: 'grey',
      inputs_version: KPI_INPUTS_VERSION,
      inputs: { facility_measured_kwh: 6.25, facility_substituted_kwh: 0, it_measured_kwh: 5, it_substituted_kwh: 0, substituted_ratio: 0 },
    });
    expect(v.inputs).not.toHaveProperty('facility_kwh');
    expect(v.inputs).not.toHaveProperty('it_kwh');
    expect(v.reason).toMatch(/measured part only/);
  });

  it('the facility side is as good as its worst group: a half-silent export meter leaves it measured only', () => {
    // The incomers are 90 % covered (their 10 % could be substituted on their own), the export meter 50 %.
    const s = sums({ facility_in: group(4, 50, 0.9 * 4 * len(Q)), export: group(1, 10, 0.5 * len(Q)), it: group(1, 150, len(Q)) });
    const t = energyTotals(s, len(Q));
    expect(t.facility).toMatchObject({ within_bounds: false, substituted_kwh: 0, substituted_ratio: 0, coverage: 0.5 });
    // 0.9 × 4 × 12.5 kWh in, 1.25 kWh out (measured half of the export).
    expect(t.facility.measured_kwh).toBeCloseTo(45 - 1.25, 9);
    expect(sideKwh(t.facility)).toBeUndefined();
    expect(pueFromTotals({ window: Q, totals: t, category: 2, target: 1.2 })).toMatchObject({ ok: false, quality: 'insufficient' });
  });

  it('green share: every side named; an uncovered PV meter withholds the total, not just the value', () => {
    const s = sums({ facility_in: group(1, 100, len(MONTH)), green_onsite_behind: group(1, 20, 24 * HOUR), it: group(1, 90, len(MONTH)) });
    const v = greenShareFromTotals({ window: MONTH, totals: energyTotals(s, len(MONTH)), declared: { certificate_kwh: 1000, trade_kwh: 0 }, target: 0.8 });
    expect(v).toMatchObject({ ok: false, quality: 'insufficient', inputs: { green_onsite_measured_kwh: 480, green_onsite_substituted_kwh: 0, certificate_kwh: 1000 } });
    expect(v.inputs).not.toHaveProperty('green_onsite_kwh');
    expect(v.inputs).not.toHaveProperty('facility_kwh');
  });

  it('a cluster with one site beyond the bound is measured only; within it, parts add', () => {
    const full = energyTotals(sums({ facility_in: group(1, 120, len(Q)), it: group(1, 100, len(Q)) }), len(Q));
    const ninety = energyTotals(sums({ facility_in: group(1, 120, 0.9 * len(Q)), it: group(1, 100, len(Q)) }), len(Q));
    const five = energyTotals(sums({ facility_in: group(1, 120, 5 * MIN), it: group(1, 100, 5 * MIN) }), len(Q));
    const ok = combineTotals([full, ninety]);
    expect(ok.facility).toMatchObject({ within_bounds: true, coverage: 0.9, substituted_ratio: 0.1 });
    expect(ok.facility.measured_kwh).toBeCloseTo(30 + 27, 9);
    expect(ok.facility.substituted_kwh).toBeCloseTo(3, 9);
    const bad = combineTotals([full, five]);
    expect(bad.facility).toMatchObject({ within_bounds: false, substituted_kwh: 0 });
    expect(bad.facility.measured_kwh).toBeCloseTo(30 + 10, 9);
    expect(pueFromTotals({ window: Q, totals: bad, category: 2, target: 1.2, basis: 'energy_weighted' })).toMatchObject({ ok: false, quality: 'insufficient' });
  });
});

describe('which groups a KPI needs', () => {
  it('PUE does not wait for a front-of-meter PV inverter; green share does', () => {
    const t = energyTotals(sums({ facility_in: group(1, 120, len(Q)), green_onsite_front: group(1, 20, 0), it: group(1, 100, len(Q)) }), len(Q));
    expect(t.missing).toEqual(['green_onsite_front']);
    expect(pueFromTotals({ window: Q, totals: t, category: 2, target: 1.2 })).toMatchObject({ ok: true, value: 1.2, quality: 'measured' });
    expect(greenShareFromTotals({ window: Q, totals: t, declared: { certificate_kwh: 0, trade_kwh: 0 }, target: 0.8 })).toMatchObject({ ok: false, reason: expect.stringMatching(/no data from the green_onsite_front meters/) });
  });
});
