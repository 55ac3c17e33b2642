import { describe, expect, it } from 'vitest';
import { KpiEngine } from '../../collector/kpi-engine.js';
import { replayKpis, type RecordedPoll } from '../../collector/recompute/kpi-replay.js';
import { DcimError } from '../../contract/errors.js';
import { SiteInventorySchema } from '../../contract/inventory.js';
import { KpiValueSchema, type KpiValue, type Reading } from '../../contract/messages.js';
import { loadProfiles } from '../../profiles/catalogue.js';

const profiles = loadProfiles();
import { DAY, day, inventory, JAN1, MIN, poll, r, snmp } from './support/hand-site.js';

const feed = (e: KpiEngine, polls: readonly RecordedPoll[]) => {
  for (const p of polls) e.ingest(p.site, p.device, p.ts, p.readings);
};
const pick = (vals: readonly KpiValue[], kpi: string, window: string) => {
  const v = vals.find((x) => x.kpi === kpi && x.window === window);
  if (!v) throw new Error(`no ${kpi} ${window}`);
  return v;
};
// Jan 2 00:01:00 local: the settled edge is Jan 2 00:00.
const NOW = JAN1 + DAY + MIN;

describe('KpiEngine: one hand-checked day', () => {
  const e = KpiEngine.create({ inventories: [inventory('pdu_out')], profiles });
  feed(e, day());
  const vals = e.evaluate('hs', NOW);

  it('every value matches the contract schema', () => {
    for (const v of vals) expect(KpiValueSchema.parse(v)).toEqual(v);
    expect(new Set(vals.map((v) => `${v.kpi}/${v.window}`)).size).toBe(vals.length);
  });

  it('energy PUE: 3,120 kWh facility (120 + 10 kW × 24 h) / 2,412 kWh IT (100.5 kW × 24 h) = 1.2935, category 2', () => {
    for (const w of ['15m', '1h', '1d', '1mo', 'ytd']) {
      expect(pick(vals, 'pue', w)).toMatchObject({ ok: true, value: 1.2935, category: 2, quality: 'measured', coverage: 1, status: 'red', basis: 'energy' });
    }
    expect(pick(vals, 'pue', '1d')).toMatchObject({ window_start: JAN1, window_end: JAN1 + DAY, inputs: { facility_kwh: 3120, it_kwh: 2412 } });
    // One day of a trailing year, and no data in 2025: no value, no verdict.
    expect(pick(vals, 'pue', '12mo')).toMatchObject({ ok: false, quality: 'insufficient', status: 'grey' });
    expect(pick(vals, 'pue', '1y')).toMatchObject({ ok: false, window_start: Date.UTC(2024, 11, 31, 16), window_end: JAN1 });
  });

  it('live PUE and live green share from the latest power', () => {
    // Live at 00:01 Jan 2: the last readings are from 00:00 (fresh). 130 / 100.5; PV 10 / 130.
    expect(pick(vals, 'pue_live', 'instant')).toMatchObject({ ok: true, value: 1.2935, basis: 'power' });
    expect(pick(vals, 'green_share_live_ratio', 'instant')).toMatchObject({ ok: true, value: 0.0769, basis: 'power_metered' });
  });

  it('occupancy: r1 on, r2 below 1 kW, r4 without devices, r3 reserved → 1 / 3', () => {
    expect(pick(vals, 'rack_occupancy_ratio', '1d')).toMatchObject({
      ok: true,
      value: 0.3333,
      quality: 'measured',
      status: 'red',
      inputs: { racks_available: 3, racks_on: 1, racks_metered: 2, racks_reserved: 1, standard_racks_available: 54, standard_racks_on: 48 },
    });
    expect(pick(vals, 'rack_occupancy_ratio', '1mo')).toMatchObject({ ok: true, value: 0.3333, basis: 'mean_of_days' });
    // 2,412 kWh / (24 h × 135 kW) = 0.7444.
    expect(pick(vals, 'it_load_utilisation_ratio', '1d')).toMatchObject({ ok: true, value: 0.7444 });
  });

  it('green share: (240 kWh PV + 1 certificate + 500 kWh traded) / 3,120 kWh = 0.5577', () => {
    expect(pick(vals, 'green_share_ratio', '1mo')).toMatchObject({ ok: true, value: 0.5577, inputs: { certificate_kwh: 1000, trade_kwh: 500, green_onsite_kwh: 240 } });
    expect(pick(vals, 'green_share_ratio', 'ytd')).toMatchObject({ ok: true, value: 0.5577 });
    // The day counts the physical supply only: 240 / 3,120.
    expect(pick(vals, 'green_share_ratio', '1d')).toMatchObject({ ok: true, value: 0.0769, basis: 'energy_physical' });
    expect(pick(vals, 'ref_ratio', '1y')).toMatchObject({ ok: false, basis: 'iso_iec_30134_3' });
  });

  it('compute: 8 × H100 (989.4 TFLOPS FP16 dense) and 2 × EPYC 7742 (4.608 TFLOPS FP32)', () => {
    expect(pick(vals, 'compute_ai_pflops', 'instant')).toMatchObject({ ok: true, value: 7.9152, basis: 'fp16_dense' });
    expect(pick(vals, 'compute_general_pflops', 'instant')).toMatchObject({ ok: true, value: 0.009216, basis: 'fp32' });
    expect(pick(vals, 'compute_ai_share_ratio', 'instant').value).toBeCloseTo(7915.2 / (7915.2 + 9.216), 5);
    expect(pick(vals, 'accelerator_utilisation_pct', 'instant')).toMatchObject({ ok: true, value: 50 });
  });

  it('counts what it used and ignored', () => {
    const s = e.stats();
    expect(s.readings_invalid).toBe(0);
    expect(s.resets + s.spikes + s.rollovers).toBe(0);
    expect(s.readings_ignored).toBeGreaterThan(0); // phase currents, UPS voltages, gpu-1 energy (it_in is not the PUE level)
  });
});

describe('KpiEngine: IT at UPS output, integrated from power summed over the lines', () => {
  it('PUE₁ = 3,120 kWh / (102 kW × 24 h) = 1.2745', () => {
    const e = KpiEngine.create({ inventories: [inventory('ups_out')], profiles });
    feed(e, day());
    const v = e.evaluate('hs', NOW);
    expect(pick(v, 'pue', '1d')).toMatchObject({ ok: true, value: 1.2745, category: 1, quality: 'measured', inputs: { it_kwh: 2448 } });
    expect(pick(v, 'pue_live', 'instant')).toMatchObject({ ok: true, value: 1.2745, category: 1 });
  });

  it('a UPS poll with a line missing is refused, not summed short', () => {
    const e = KpiEngine.create({ inventories: [inventory('ups_out')], profiles });
    feed(e, day(JAN1, JAN1 + 10 * MIN));
    const partial = poll('ups-1', JAN1 + 11 * MIN);
    e.ingest('hs', 'ups-1', partial.ts, partial.readings.filter((x) => x.index?.line !== '3'));
    expect(e.stats().power_polls_incomplete).toBe(1);
  });
});

describe('KpiEngine: faults', () => {
  it('a stale IT meter: live PUE unknown and the 15-minute PUE insufficient, never a wrong value', () => {
    const e = KpiEngine.create({ inventories: [inventory('pdu_out')], profiles });
    feed(e, day(JAN1, JAN1 + DAY, (d, t) => d === 'pdu-r2' && t > JAN1 + DAY - 30 * MIN));
    const v = e.evaluate('hs', NOW);
    expect(pick(v, 'pue_live', 'instant')).toMatchObject({ ok: false, reason_code: 'DCIM_E_KPI_STALE', reason: expect.stringMatching(/^DCIM_E_KPI_STALE: no fresh power from pdu-r2/) });
    // The last quarter hour: pdu-r2 has no data → half the IT meter-time missing → no value.
    expect(pick(v, 'pue', '15m')).toMatchObject({ ok: false, quality: 'insufficient', status: 'grey' });
    // The day: pdu-r2 missing 30 of 1,440 minutes → 1 − 30 / 2,880 = 98.96 % covered → partial,
    // its energy estimated from what it covered: the value stays right.
    expect(pick(v, 'pue', '1d')).toMatchObject({ ok: true, value: 1.2935, quality: 'partial' });
  });

  it('a stale IT meter whose backlog arrives after an evaluation: the next evaluation uses its data, not the fill', () => {
    const e = KpiEngine.create({ inventories: [inventory('pdu_out')], profiles });
    const silent = (d: string, t: number) => d === 'pdu-r2' && t > JAN1 + DAY - 30 * MIN;
    const all = day();
    feed(e, all.filter((p) => !silent(p.device, p.ts)));
    expect(pick(e.evaluate('hs', NOW), 'pue', '1d')).toMatchObject({ quality: 'partial' });
    feed(e, all.filter((p) => silent(p.device, p.ts)));
    const v = e.evaluate('hs', NOW);
    expect(pick(v, 'pue', '1d')).toMatchObject({ ok: true, value: 1.2935, quality: 'measured' });
    expect(pick(v, 'pue', '15m')).toMatchObject({ ok: true, quality: 'measured' });
  });

  it('a counter reset (meter swap) keeps the value and drops the quality to partial', () => {
    const e = KpiEngine.create({ inventories: [inventory('pdu_out')], profiles });
    const swapAt = JAN1 + 12 * 60 * MIN;
    const polls = day().map((p) => (p.device === 'pdu-r1' && p.ts >= swapAt ? poll('pdu-r1', p.ts, { 'pdu-r1': -100 * 12 + (100 / 60) * 1 - 1000 + 1000 }) : p));
    feed(e, polls);
    const v = e.evaluate('hs', NOW);
    const d = pick(v, 'pue', '1d');
    expect(d).toMatchObject({ ok: true, quality: 'partial' });
    expect(d.value).toBeCloseTo(1.2935, 2);
    expect(e.stats().resets).toBe(1);
    expect(e.meterEvents('hs')['pdu-r1']).toMatchObject({ resets: 1 });
  });

  it('duplicated and replayed polls do not count energy twice', () => {
    const e = KpiEngine.create({ inventories: [inventory('pdu_out')], profiles });
    const polls = day();
    feed(e, polls);
    feed(e, polls.slice(0, 500));
    expect(pick(e.evaluate('hs', NOW), 'pue', '1d')).toMatchObject({ value: 1.2935, inputs: { facility_kwh: 3120, it_kwh: 2412 } });
    expect(e.stats().readings_duplicate + e.stats().readings_absorbed).toBeGreaterThan(0);
  });

  it('an outage then its backlog replayed out of order: takeClosed re-issues the windows it fixes', () => {
    const e = KpiEngine.create({ inventories: [inventory('pdu_out')], profiles });
    const outage = (d: string, t: number) => d === 'in-1' && t > JAN1 + 2 * 60 * MIN && t < JAN1 + 4 * 60 * MIN;
    const all = day();
    const live = all.filter((p) => !outage(p.device, p.ts));
    const backlog = all.filter((p) => outage(p.device, p.ts));
    // Live data up to 08:00 local, then the backlog arrives; windows are taken as we go.
    const first = live.filter((p) => p.ts <= JAN1 + 8 * 60 * MIN);
    feed(e, first);
    // The first call also issues the past windows it can compute (a backfill after a start).
    const before = e.takeClosed(JAN1 + 8 * 60 * MIN + 2 * MIN);
    const hour4 = before.find((c) => c.value.kpi === 'pue' && c.value.window === '1h' && c.value.window_end === JAN1 + 4 * 60 * MIN);
    // The counter integrated through the gap, so 03:00–04:00 already has its energy (split evenly).
    expect(hour4?.value).toMatchObject({ ok: true, value: 1.2935, quality: 'measured' });
    feed(e, [...backlog].reverse());
    const after = e.takeClosed(JAN1 + 8 * 60 * MIN + 3 * MIN);
    expect(e.stats().readings_late).toBeGreaterThan(0);
    // Nothing changed in value (the counter had it right), so nothing new for the past hours…
    expect(after.filter((c) => c.value.window === '1h').every((c) => c.value.window_end === JAN1 + 8 * 60 * MIN)).toBe(true);
    feed(e, live.filter((p) => p.ts > JAN1 + 8 * 60 * MIN));
    expect(pick(e.evaluate('hs', NOW), 'pue', '1d')).toMatchObject({ ok: true, value: 1.2935, quality: 'measured' });
  });

  it('a power-only meter back after a long gap: the gap stays missing until the backlog fills it, then takeClosed re-issues the past windows', () => {
    const e = KpiEngine.create({ inventories: [inventory('ups_out')], profiles });
    const gap = (d: string, t: number) => d === 'ups-1' && t > JAN1 + 60 * MIN && t < JAN1 + 90 * MIN;
    const all = day(JAN1, JAN1 + 3 * 60 * MIN);
    feed(e, all.filter((p) => !gap(p.device, p.ts)));
    const at = JAN1 + 3 * 60 * MIN + 2 * MIN;
    e.takeClosed(at);
    const pastHour = () => e.takeClosed(at).find((c) => c.value.kpi === 'pue' && c.value.window === '1h' && c.value.window_end === JAN1 + 2 * 60 * MIN);
    expect(pastHour()).toBeUndefined();
    feed(e, all.filter((p) => gap(p.device, p.ts)));
    const fixed = pastHour();
    expect(fixed?.value).toMatchObject({ ok: true, value: 1.2745, quality: 'measured' });
  });

  it('nasty inputs are counted and dropped, never a crash or NaN', () => {
    const e = KpiEngine.create({ inventories: [inventory('pdu_out')], profiles });
    feed(e, day(JAN1, JAN1 + 10 * MIN));
    const t = JAN1 + 11 * MIN;
    const bad: Reading[] = [
      r('energy_kwh', Number.NaN, 'kWh'),
      r('energy_kwh', -5, 'kWh'),
      r('energy_kwh', 'lots', 'kWh'),
      r('energy_kwh', 5, 'VA'),
      r('active_power_w', Number.POSITIVE_INFINITY, 'W'),
      r('active_power_w', 'n/a', 'W'),
      { point: 'energy_kwh', value: null, quality: 'bad', error: 'DCIM_E_SNMP_TIMEOUT' },
    ];
    const res = e.ingest('hs', 'pdu-r1', t, bad);
    expect(res).toMatchObject({ invalid: 6, ignored: 1, used: 0 });
    expect(e.ingest('nowhere', 'pdu-r1', t, bad)).toMatchObject({ ignored: 7 });
    expect(e.ingest('hs', 'no-such-device', t, bad)).toMatchObject({ ignored: 7 });
    expect(e.ingest('hs', 'pdu-r1', Number.NaN, bad)).toMatchObject({ ignored: 7 });
    // Counter64 as a decimal string is a number; a huge jump from a 120 kW meter is a spike.
    expect(e.ingest('hs', 'pdu-r1', t + MIN, [r('energy_kwh', '1000000000000', 'kWh')])).toMatchObject({ used: 1 });
    expect(e.stats().spikes).toBe(1);
    expect(e.ingest('hs', 'gpu-1', t, [r('gpu_utilisation_pct', 250, '%', { gpu: '0' }), r('gpu_model', 7, undefined, { gpu: '0' })])).toMatchObject({ invalid: 2 });
    for (const v of e.evaluate('hs', t + 2 * MIN)) {
      expect(KpiValueSchema.parse(v)).toEqual(v);
      if (v.value !== undefined) expect(Number.isFinite(v.value)).toBe(true);
    }
    expect(e.evaluate('nowhere', t)).toEqual([]);
  });

  it('a bad time zone is a config error naming the site', () => {
    const inv = { ...inventory('pdu_out'), site: { ...inventory('pdu_out').site, timezone: 'Mars/Olympus' } };
    expect(() => KpiEngine.create({ inventories: [inv], profiles })).toThrow(DcimError);
    expect(() => KpiEngine.create({ inventories: [inv], profiles })).toThrow(/site hs: site.timezone/);
  });
});

describe('replayKpis: offline equals online', () => {
  it('the same polls give the same closed windows', () => {
    const polls = day();
    const offline = replayKpis(KpiEngine.create({ inventories: [inventory('pdu_out')], profiles }), polls, { from_ms: JAN1, to_ms: JAN1 + DAY });
    const d = offline.find((c) => c.value.kpi === 'pue' && c.value.window === '1d');
    expect(d?.value).toMatchObject({ ok: true, value: 1.2935, window_end: JAN1 + DAY });
    expect(offline.filter((c) => c.value.kpi === 'pue' && c.value.window === '15m')).toHaveLength(96);
    expect(offline.filter((c) => c.value.kpi === 'pue' && c.value.window === '15m').every((c) => c.value.value === 1.2935)).toBe(true);
    expect(offline.every((c) => c.value.window_end > JAN1 && c.value.window_end <= JAN1 + DAY)).toBe(true);
  });
});

describe('occupancy at scale: DESIGN §5 vector through the engine', () => {
  it('1,000 available racks, 720 with a PDU, 40 of them below the threshold all day → 68.0 %', () => {
    const racks = Array.from({ length: 1000 }, (_, i) => ({ id: `r${i}`, hall: 'h1', rated_kw: 5 }));
    const devices = Array.from({ length: 720 }, (_, i) => ({ id: `pdu-${i}`, profile: 'apc-rpdu2', rack: `r${i}`, address: snmp(`c${i}`), interval_s: 900, meter: { role: 'it', level: 'pdu_out', rated_kw: 5 } }));
    const inv = SiteInventorySchema.parse({ site: { id: 'big', name: 'Big' }, halls: [{ id: 'h1' }], racks, devices });
    const e = KpiEngine.create({ inventories: [inv], profiles });
    // Threshold max(0.3, 10 % × 5) = 0.5 kW: 680 racks draw 2 kW, 40 draw 0.2 kW.
    for (let t = JAN1; t <= JAN1 + DAY; t += 15 * MIN) {
      for (let i = 0; i < 720; i++) {
        const kw = i < 680 ? 2 : 0.2;
        e.ingest('big', `pdu-${i}`, t, [r('energy_kwh', 100 + (kw * (t - JAN1)) / 3_600_000, 'kWh')]);
      }
    }
    const v = pick(e.evaluate('big', NOW), 'rack_occupancy_ratio', '1d');
    expect(v).toMatchObject({ ok: true, value: 0.68, quality: 'measured', inputs: { racks_available: 1000, racks_on: 680, racks_metered: 720 } });
  });
});

describe('clusters', () => {
  it('energy-weighted and mean of sites, labelled; a site this collector does not serve blanks the roll-up', () => {
    const a = inventory('pdu_out');
    const b = { ...inventory('ups_out'), site: { ...inventory('ups_out').site, id: 'hs2' } };
    const e = KpiEngine.create({
      inventories: [a, b],
      profiles,
      clusters: [
        { id: 'c1', name: 'C1', targets: { pue: 1.25, rack_occupancy: 0.7, green_share: 0.8 }, sites: ['hs', 'hs2'] },
        { id: 'c2', name: 'C2', targets: { pue: 1.2, rack_occupancy: 0.7, green_share: 0.8 }, sites: ['hs', 'elsewhere'] },
      ],
    });
    const polls = day();
    feed(e, polls);
    feed(e, polls.map((p) => ({ ...p, site: 'hs2' })));
    const v = e.evaluateCluster('c1', NOW);
    const pue = v.filter((x) => x.kpi === 'pue' && x.window === '1d');
    // Energy-weighted: (3,120 + 3,120) / (2,412 + 2,448) = 1.2840; mean of sites (1.2935 + 1.2745) / 2 = 1.284.
    expect(pue.find((x) => x.basis === 'energy_weighted')).toMatchObject({ ok: true, value: 1.284, status: 'amber', quality: 'measured' });
    expect(pue.find((x) => x.basis === 'mean_of_sites')).toMatchObject({ ok: true, value: 1.284 });
    // The sites have different categories: the roll-up has none.
    expect(pue.find((x) => x.basis === 'energy_weighted')?.category).toBeUndefined();
    // Each certificate id counts once even if two sites declare it: (2 × 240 + 1,000 + 500) / 6,240.
    expect(v.find((x) => x.kpi === 'green_share_ratio' && x.window === '1mo' && x.basis === 'energy_weighted')).toMatchObject({ value: 0.3173 });
    expect(v.find((x) => x.kpi === 'rack_occupancy_ratio' && x.window === '1d' && x.basis === 'pooled')).toMatchObject({ ok: true, value: 0.3333 });
    expect(v.find((x) => x.kpi === 'compute_ai_pflops')).toMatchObject({ ok: true, value: 15.8304, basis: 'sum:fp16_dense' });
    for (const x of v) expect(KpiValueSchema.parse(x)).toEqual(x);
    const c2 = e.evaluateCluster('c2', NOW);
    expect(c2.find((x) => x.kpi === 'pue' && x.window === '1d' && x.basis === 'energy_weighted')).toMatchObject({ ok: false, reason: expect.stringMatching(/elsewhere/) });
    expect(e.evaluateCluster('nope', NOW)).toEqual([]);
  });
});
