import { describe, expect, it } from 'vitest';
import { KpiEngine } from '../../collector/kpi-engine.js';
import { ManualClock } from '../../contract/clock.js';
import { SiteInventorySchema } from '../../contract/inventory.js';
import { KPI_INPUTS_VERSION, KpiValueSchema, type KpiValue, type Reading } from '../../contract/messages.js';
import { loadProfiles } from '../../profiles/catalogue.js';

/**
 * The engine publishes what its meters measured, plus substitution only within the quality
 * ladder's bound — never a window scaled up from the minutes since the collector started. A
 * ManualClock drives the polls (every 5 s) and the evaluations; the site draws a constant 75 kW
 * at the incomer and 60 kW at the IT PDU, so each window's energy is known exactly.
 */
const profiles = loadProfiles();
const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
// 2026-02-10 10:00 in Asia/Shanghai: a quarter-hour (and hour) edge in the middle of a month.
const EDGE = Date.UTC(2026, 1, 10, 2);
const FAC_KW = 75;
const IT_KW = 60;
const POLL = 5 * SEC;

const inventory = SiteInventorySchema.parse({
  site: { id: 'cov', name: 'Coverage', pue_it_level: 'pdu_out' },
  halls: [{ id: 'h1' }],
  racks: [{ id: 'r1', hall: 'h1', rated_kw: 120 }],
  devices: [
    { id: 'in-1', profile: 'eastron-sdm630', address: { protocol: 'modbus', host: '127.0.0.1', unit_id: 1 }, interval_s: 5, meter: { role: 'facility_in' } },
    { id: 'pdu-r1', profile: 'apc-rpdu2', rack: 'r1', address: { protocol: 'snmp', host: '127.0.0.1', community: 'r1' }, interval_s: 5, meter: { role: 'it', level: 'pdu_out' } },
  ],
});

const reading = (point: string, value: number, unit: Reading['unit']): Reading => ({ point, value, unit, quality: 'good' });

/** A collector whose meters' first poll is at `first_ms`, polled every 5 s until `until_ms`, then evaluated at the clock's now. */
function runFrom(first_ms: number, until_ms: number): { engine: KpiEngine; clock: ManualClock } {
  const clock = new ManualClock(first_ms);
  const engine = KpiEngine.create({ inventories: [inventory], profiles });
  const poll = () => {
    const t = clock.now();
    const h = (t - first_ms) / HOUR;
    engine.ingest('cov', 'in-1', t, [reading('active_power_w', FAC_KW * 1000, 'W'), reading('energy_kwh', 5000 + FAC_KW * h, 'kWh')]);
    engine.ingest('cov', 'pdu-r1', t, [reading('active_power_w', IT_KW * 1000, 'W'), reading('energy_kwh', 800 + IT_KW * h, 'kWh')]);
  };
  for (poll(); clock.now() + POLL <= until_ms; poll()) clock.advance(POLL);
  return { engine, clock };
}

const pick = (vals: readonly KpiValue[], kpi: string, window: string) => {
  const v = vals.find((x) => x.kpi === kpi && x.window === window);
  if (!v) throw new Error(`no ${kpi} ${window}`);
  return v;
};

describe('KpiEngine: a collector that started 5 minutes before the settled edge', () => {
  // Polls from 09:55 to 10:02 local; at 10:02 the settled edge (60 s settle) is 10:00.
  const { engine, clock } = runFrom(EDGE - 5 * MIN, EDGE + 2 * MIN);
  const vals = engine.evaluate('cov', clock.now());
  const published = engine.takeClosed(clock.now()).map((c) => c.value);

  it.each([
    ['15m', 'the quarter hour holding the first reading counts only from it'],
    ['1h', 'the hour'],
    ['1mo', 'the month to date: those 5 minutes, not 75 kW × 9 days'],
    ['ytd', 'the year to date'],
  ])('%s: %s — inputs are the 5 measured minutes, labelled measured, no total', (window) => {
    for (const [name, set] of [
      ['evaluate', vals],
      ['takeClosed', published],
    ] as const) {
      const v = pick(set, 'pue', window);
      expect(v, `${name} ${window}`).toMatchObject({ ok: false, quality: 'insufficient', status: 'grey', reason_code: 'DCIM_E_KPI_INSUFFICIENT', inputs_version: KPI_INPUTS_VERSION });
      // 75 kW × 5 min = 6.25 kWh; 60 kW × 5 min = 5 kWh.
      expect(v.inputs!.facility_measured_kwh, `${name} ${window}`).toBeCloseTo(6.25, 3);
      expect(v.inputs!.it_measured_kwh, `${name} ${window}`).toBeCloseTo(5, 3);
      expect(v.inputs).toMatchObject({ facility_substituted_kwh: 0, it_substituted_kwh: 0, substituted_ratio: 0 });
      expect(v.inputs).not.toHaveProperty('facility_kwh');
      expect(v.inputs).not.toHaveProperty('it_kwh');
      expect(KpiValueSchema.parse(v)).toEqual(v);
    }
  });

  it('green share of the month carries the measured part only; utilisation (to the last complete day) has nothing yet', () => {
    const green = pick(vals, 'green_share_ratio', '1mo');
    expect(green).toMatchObject({ ok: false, quality: 'insufficient' });
    expect(green.inputs!.facility_measured_kwh).toBeCloseTo(6.25, 3);
    expect(green.inputs).not.toHaveProperty('facility_kwh');
    const util = pick(vals, 'it_load_utilisation_ratio', '1mo');
    expect(util).toMatchObject({ ok: false, quality: 'insufficient', inputs_version: KPI_INPUTS_VERSION });
    // Its month ends with the last complete local day, before the first reading: nothing measured, nothing invented.
    expect(util.inputs).toMatchObject({ it_measured_kwh: 0, it_substituted_kwh: 0 });
    expect(util.inputs).not.toHaveProperty('it_kwh');
  });

  it('nothing published holds energy from before the first reading', () => {
    for (const v of published) {
      for (const [k, x] of Object.entries(v.inputs ?? {})) if (k.endsWith('_kwh') && !k.startsWith('certificate') && !k.startsWith('trade')) expect(x, `${v.kpi} ${v.window} ${k}`).toBeLessThanOrEqual(6.25 + 1e-3);
    }
  });
});

describe('KpiEngine: the first quarter hour, by how much of it the collector saw', () => {
  // The first reading falls `seen` minutes before the 10:00 edge; the rest of the quarter hour before it is uncovered.
  it.each<[number, string, boolean]>([
    [15, 'measured', true],
    [14.75, 'partial', true], // 15 s of 15 min uncovered: 1.7 %
    [14.25, 'partial', true], // 5 %
    [12, 'estimated', true], // 20 %: the most substitution may fill
    [11.5, 'insufficient', false], // 23 %: measured only
    [5, 'insufficient', false],
  ])('first reading %s minutes before the edge: %s', (seen, quality, total) => {
    const { engine, clock } = runFrom(EDGE - seen * MIN, EDGE + 2 * MIN);
    const v = pick(engine.evaluate('cov', clock.now()), 'pue', '15m');
    const share = (15 - seen) / 15;
    expect(v.quality).toBe(quality);
    expect(v.coverage).toBeCloseTo(1 - share, 6);
    // Published inputs are rounded to the Wh.
    expect(v.inputs!.facility_measured_kwh).toBeCloseTo((FAC_KW * seen) / 60, 2);
    expect(v.inputs!.it_measured_kwh).toBeCloseTo((IT_KW * seen) / 60, 2);
    if (total) {
      // The uncovered minutes substituted at the measured rate and named: the quarter hour's full energy.
      expect(v).toMatchObject({ ok: true, value: 1.25 });
      expect(v.inputs!.substituted_ratio).toBeCloseTo(share, 6);
      expect(v.inputs!.facility_substituted_kwh).toBeCloseTo((FAC_KW * (15 - seen)) / 60, 2);
      expect(v.inputs!.facility_kwh).toBeCloseTo(FAC_KW / 4, 3);
      expect(v.inputs!.it_kwh).toBeCloseTo(IT_KW / 4, 3);
    } else {
      expect(v).toMatchObject({ ok: false, inputs: { facility_substituted_kwh: 0, it_substituted_kwh: 0, substituted_ratio: 0 } });
      expect(v.inputs).not.toHaveProperty('facility_kwh');
    }
  });
});

describe('KpiEngine: a meter that went silent', () => {
  it('is carried at its last rate within the bound, named as substituted; beyond it the window is measured only', () => {
    // Both meters from 09:00. The incomer draws 60 kW, 90 kW from 09:52, and stops answering at
    // 09:57: 3 of the last 15 minutes silent (20 %), carried at its last rate, 90 kW.
    const clock = new ManualClock(EDGE - HOUR);
    const engine = KpiEngine.create({ inventories: [inventory], profiles });
    const first = clock.now();
    const step = EDGE - 8 * MIN;
    const facKw = (t: number) => (t <= step ? 60 : 90);
    const facKwh = (t: number) => 5000 + (60 * (Math.min(t, step) - first) + 90 * Math.max(0, t - step)) / HOUR;
    for (; clock.now() <= EDGE + 2 * MIN; clock.advance(POLL)) {
      const t = clock.now();
      if (t <= EDGE - 3 * MIN) engine.ingest('cov', 'in-1', t, [reading('active_power_w', facKw(t) * 1000, 'W'), reading('energy_kwh', facKwh(t), 'kWh')]);
      engine.ingest('cov', 'pdu-r1', t, [reading('active_power_w', IT_KW * 1000, 'W'), reading('energy_kwh', 800 + (IT_KW * (t - first)) / HOUR, 'kWh')]);
    }
    const vals = engine.evaluate('cov', clock.now());
    const q = pick(vals, 'pue', '15m');
    // Measured 7 min × 60 kW + 5 min × 90 kW = 14.5 kWh; carried 3 min × 90 kW = 4.5 kWh (the
    // measured mean would have given 3.625); IT 15 kWh → 19 / 15, within the float32 register's
    // resolution the ledger holds a poll's energy to (≈ 0.0006 kWh at 5,000 kWh).
    expect(q).toMatchObject({ ok: true, quality: 'estimated' });
    expect(q.value!).toBeCloseTo(19 / 15, 3);
    expect(q.inputs!.facility_measured_kwh).toBeCloseTo(14.5, 3);
    expect(q.inputs!.facility_substituted_kwh).toBeCloseTo(4.5, 3);
    expect(q.inputs!.substituted_ratio).toBeCloseTo(0.2, 6);
    // The hour: 3 of 60 minutes, 5 %: partial.
    expect(pick(vals, 'pue', '1h')).toMatchObject({ ok: true, quality: 'partial', inputs: { substituted_ratio: 0.05 } });

    // At 10:17 the 10:00–10:15 quarter is settled: the incomer was silent all through it (100 %
    // of its meter-time), so nothing is carried and the window holds what was measured: nothing.
    clock.set(EDGE + 17 * MIN);
    const later = pick(engine.evaluate('cov', clock.now()), 'pue', '15m');
    expect(later).toMatchObject({ ok: false, quality: 'insufficient', window_start: EDGE });
    expect(later.inputs).toMatchObject({ facility_measured_kwh: 0, facility_substituted_kwh: 0 });
    expect(later.inputs).not.toHaveProperty('facility_kwh');
  });
});
