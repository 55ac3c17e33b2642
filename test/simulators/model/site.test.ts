import { beforeAll, describe, expect, it } from 'vitest';
import { SiteInventorySchema, type SiteInventory } from '../../../contract/index.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { PLANT } from '../../../simulators/model/site-plan.js';
import { createSiteModel, type SiteModel } from '../../../simulators/model/site.js';

const PROFILES = loadProfiles();
const H = 3_600_000;
/** Local midnight in Asia/Shanghai of a 2026 date. */
const localMidnight = (month: number, day: number) => Date.UTC(2026, month - 1, day) - 8 * H;

interface SiteOpts {
  loadKw?: number;
  racks?: number;
  chillerServes?: 'split' | 'shared';
  extraDevices?: unknown[];
  sim?: Record<string, unknown>;
}

/** Two pods of general racks, one GPU rack, incomers, a green feed, PV, chillers and CRAHs. */
function site(o: SiteOpts = {}): SiteInventory {
  const n = o.racks ?? 8;
  const racks: unknown[] = [];
  const devices: unknown[] = [];
  let port = 20_000;
  const snmp = (c: string) => ({ protocol: 'snmp', host: '127.0.0.1', port: 16161, community: c });
  let unit = 0;
  const modbus = () => ({ protocol: 'modbus', host: '127.0.0.1', port: 15020, unit_id: ++unit });
  for (let r = 1; r <= n; r++) {
    const id = `r${r}`;
    const pod = r <= n / 2 ? 'pod-a' : 'pod-b';
    racks.push({ id, hall: 'h1', rated_kw: 12, sim: { workload: 'general', load_kw: o.loadKw ?? 6, cooling_group: pod } });
    devices.push({ id: `pdu-${id}`, profile: 'apc-rpdu2', rack: id, address: snmp(`pdu-${id}`), meter: { role: 'it', level: 'pdu_out', rated_kw: 12 } });
    devices.push({ id: `th-${id}`, profile: 'xy-md02-th', rack: id, address: { ...modbus(), port: 15030, transport: 'rtu_over_tcp' } });
  }
  racks.push({ id: 'gpu1', hall: 'h1', rated_kw: 40, sim: { workload: 'gpu_training', servers: 4, cooling_group: 'pod-b' } });
  devices.push({ id: 'pdu-gpu1', profile: 'raritan-px2', rack: 'gpu1', address: snmp('pdu-gpu1'), meter: { role: 'it', level: 'pdu_out', rated_kw: 40 } });
  for (let s = 1; s <= 4; s++) devices.push({ id: `gpu1-${s}`, profile: 'redfish-gpu-server', rack: 'gpu1', address: { protocol: 'redfish', host: '127.0.0.1', port: port++, scheme: 'http' }, meter: { role: 'it', level: 'it_in' } });
  devices.push({ id: 'ups-a', profile: 'rfc1628-ups', hall: 'h1', address: snmp('ups-a'), meter: { role: 'it', level: 'ups_out' }, sim: { capacity_kw: 120 } });
  devices.push({ id: 'ups-b', profile: 'rfc1628-ups', hall: 'h1', address: snmp('ups-b'), meter: { role: 'it', level: 'ups_out' }, sim: { capacity_kw: 120 } });
  devices.push({ id: 'inc-1', profile: 'eastron-sdm630', hall: 'h1', address: modbus(), meter: { role: 'facility_in' } });
  devices.push({ id: 'inc-2', profile: 'schneider-pm5000', hall: 'h1', address: modbus(), meter: { role: 'facility_in' } });
  devices.push({ id: 'green', profile: 'wattnode-wnd', hall: 'h1', address: modbus(), meter: { role: 'green_feed' } });
  devices.push({ id: 'cool', profile: 'carlo-gavazzi-em24-e1', hall: 'h1', address: modbus(), meter: { role: 'cooling' } });
  devices.push({ id: 'light', profile: 'eastron-sdm630', hall: 'h1', address: modbus(), meter: { role: 'other' } });
  devices.push({ id: 'pv', profile: 'sunspec-inverter', hall: 'h1', address: modbus(), meter: { role: 'green_onsite', behind_meter: true }, sim: { kwp: 20 } });
  const split = (o.chillerServes ?? 'split') === 'split';
  devices.push({ id: 'chiller-a', profile: 'chiller-bms', hall: 'h1', address: modbus(), sim: { serves: split ? ['pod-a'] : ['pod-a', 'pod-b'] } });
  devices.push({ id: 'chiller-b', profile: 'chiller-bms', hall: 'h1', address: modbus(), sim: { serves: split ? ['pod-b'] : ['pod-a', 'pod-b'] } });
  for (const pod of ['a', 'b']) for (let k = 1; k <= 2; k++) devices.push({ id: `crah-${pod}${k}`, profile: 'crah-bms', hall: 'h1', address: modbus(), sim: { cooling_group: `pod-${pod}` } });
  devices.push(...(o.extraDevices ?? []));
  return SiteInventorySchema.parse({
    site: { id: 'test', name: 'Test', pue_it_level: 'pdu_out' },
    halls: [{ id: 'h1' }],
    racks,
    devices,
    sim: { green_feed_share: 0.25, lighting_kw: 2, ...o.sim },
  });
}

function model(inv: SiteInventory = site(), seed = 7, start = localMidnight(7, 15)): SiteModel {
  const r = createSiteModel(inv, seed, { profiles: PROFILES, file: 'test.yaml' });
  if (!r.ok) throw new Error(r.problems.join('\n'));
  r.model.reset(start);
  return r.model;
}

function pearson(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

describe('site model: built from the seed', () => {
  it('lists every problem of a seed at once, with file and path', () => {
    const inv = site({
      extraDevices: [
        { id: 'th-loose', profile: 'xy-md02-th', address: { protocol: 'modbus', host: '127.0.0.1', port: 15040, unit_id: 1 } },
        { id: 'chiller-x', profile: 'chiller-bms', address: { protocol: 'modbus', host: '127.0.0.1', port: 15040, unit_id: 2 }, sim: { serves: ['pod-z'] } },
      ],
    });
    const r = createSiteModel(inv, 1, { profiles: PROFILES, file: 'seeds/x.yaml' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.problems).toEqual([expect.stringMatching(/^seeds\/x\.yaml: devices\[\d+\]\.rack: a rack inlet sensor needs a rack$/), expect.stringMatching(/^seeds\/x\.yaml: devices\[\d+\]\.sim\.serves\[0\]: unknown cooling group pod-z/)]);
    }
  });

  it('reports bad sim hints with their paths before anything else', () => {
    const inv = site();
    const bad = { ...inv, racks: inv.racks.map((r, i) => (i === 0 ? { ...r, sim: { workload: 'gpu', load_kw: 6 } } : r)), devices: inv.devices.map((d, i) => (i === 0 ? { ...d, sim: { loadkw: 3 } } : d)) };
    const r = createSiteModel(bad, 1, { profiles: PROFILES, file: 'seeds/y.yaml' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.problems).toHaveLength(2);
      expect(r.problems[0]).toMatch(/^seeds\/y\.yaml: racks\[0\]\.sim\.workload: /);
      expect(r.problems[1]).toMatch(/^seeds\/y\.yaml: devices\[0\]\.sim: .*loadkw/);
    }
  });

  it('rejects a GPU rack whose servers exceed its rating, and an unknown time zone', () => {
    const inv = site();
    const tooMany = { ...inv, racks: inv.racks.map((r) => (r.id === 'gpu1' ? { ...r, sim: { workload: 'gpu_training', servers: 8 } } : r)) };
    const r = createSiteModel(tooMany, 1, { profiles: PROFILES, file: 'z.yaml' });
    expect(!r.ok && r.problems[0]).toMatch(/racks\[\d+\]: \(gpu1\) 8 × 8 NVIDIA H100 80GB HBM3 need .* kW at full load, above rated_kw 40/);
    const tz = createSiteModel({ ...inv, site: { ...inv.site, timezone: 'Mars/Olympus_Mons' } }, 1, { profiles: PROFILES, file: 'z.yaml' });
    expect(!tz.ok && tz.problems[0]).toMatch(/z\.yaml: site\.timezone: unknown time zone/);
  });

  it('skips a device it has no model for, saying why', () => {
    const r = createSiteModel(site({ extraDevices: [{ id: 'mystery', profile: 'acme-thing', address: { protocol: 'modbus', host: '127.0.0.1', port: 15040, unit_id: 1 } }] }), 1, { profiles: PROFILES });
    expect(r.ok && r.skipped).toEqual([{ device: 'mystery', reason: expect.stringMatching(/no device kind/) }]);
  });
});

describe('site model: deterministic for a seed', () => {
  it('the same seed and steps give the same numbers; another seed does not', () => {
    const run = (seed: number) => {
      const m = model(site(), seed);
      for (let i = 0; i < 600; i++) m.step(1000);
      return m.deviceIds.map((_, i) => [m.truePowerW(i), m.trueEnergyKwh(i)]);
    };
    expect(run(3)).toEqual(run(3));
    expect(run(3)).not.toEqual(run(4));
  });

  it('a reset starts over: the same numbers after a reset as from a fresh model', () => {
    const m = model(site(), 3);
    const fresh = m.deviceIds.map((_, i) => m.trueEnergyKwh(i));
    for (let i = 0; i < 100; i++) m.step(1000);
    m.setEquipmentFailure('chiller-a', true);
    m.reset(localMidnight(7, 15));
    expect(m.deviceIds.map((_, i) => m.trueEnergyKwh(i))).toEqual(fresh);
    expect(m.isFailed('chiller-a')).toBe(false);
  });
});

describe('site model: PUE moves realistically with weather and load', () => {
  // One simulated year in 1 h steps: hourly live PUE, wet bulb, free cooling.
  const year = { pue: [] as number[], wb: [] as number[], fac: 0, itE: 0, freeHours: 0, monthly: new Map<number, { f: number; i: number }>() };
  beforeAll(() => {
    const m = model(site(), 11, localMidnight(1, 1));
    for (let h = 0; h < 8760; h++) {
      m.step(H);
      const l = m.siteLive();
      year.pue.push(l.pue);
      year.wb.push(l.wet_bulb_c);
      year.fac += l.facility_power_w;
      year.itE += l.it_power_w;
      if (l.free_cooling_ratio >= 1) year.freeHours++;
      const month = new Date(l.sim_ts + 8 * H).getUTCMonth() + 1;
      const s = year.monthly.get(month) ?? { f: 0, i: 0 };
      s.f += l.facility_power_w;
      s.i += l.it_power_w;
      year.monthly.set(month, s);
    }
  });

  it('every hour of the year sits in 1.10–1.42, the year near 1.2', () => {
    expect(Math.min(...year.pue)).toBeGreaterThan(1.1);
    expect(Math.max(...year.pue)).toBeLessThan(1.42);
    expect(year.fac / year.itE).toBeGreaterThan(1.15);
    expect(year.fac / year.itE).toBeLessThan(1.3);
  });

  it('winter months beat summer months; free cooling covers a third to three quarters of the year', () => {
    const pm = (mo: number) => year.monthly.get(mo)!.f / year.monthly.get(mo)!.i;
    expect(pm(1)).toBeLessThan(pm(7) - 0.05);
    expect(pm(12)).toBeLessThan(pm(8) - 0.05);
    expect(year.freeHours).toBeGreaterThan(0.33 * 8760);
    expect(year.freeHours).toBeLessThan(0.75 * 8760);
  });

  it('PUE follows the outdoor wet bulb', () => {
    expect(pearson(year.wb, year.pue)).toBeGreaterThan(0.8);
  });

  it('PUE rises when the same site carries less IT load', () => {
    const dayPue = (loadKw: number) => {
      const d = model(site({ loadKw }), 5, localMidnight(4, 1));
      let f = 0;
      let i = 0;
      for (let s = 0; s < 24 * 12; s++) {
        d.step(300_000);
        f += d.siteLive().facility_power_w;
        i += d.siteLive().it_power_w;
      }
      return f / i;
    };
    const low = dayPue(2);
    const high = dayPue(10);
    expect(low).toBeGreaterThan(high + 0.03);
  });

  it('within a summer day the PUE moves by several points', () => {
    const d = model(site(), 5, localMidnight(7, 20));
    const day: number[] = [];
    for (let s = 0; s < 24 * 12; s++) {
      d.step(300_000);
      day.push(d.siteLive().pue);
    }
    expect(Math.max(...day) - Math.min(...day)).toBeGreaterThan(0.02);
  });
});

describe('site model: cooling failures heat the racks they serve, over minutes', () => {
  const inlet = (m: SiteModel, rack: string) => m.quantities(`th-${rack}`)!.values.inlet_temp_c as number;

  it('a failed chiller warms its pod past 32 °C within 15 min and the pod recovers after repair; the other pod stays put', () => {
    const m = model(site(), 2, localMidnight(7, 15) + 14 * H);
    const a0 = inlet(m, 'r1');
    const b0 = inlet(m, 'r8');
    expect(a0).toBeLessThan(27);
    m.setEquipmentFailure('chiller-a', true);
    const q = m.quantities('chiller-a')!.values;
    expect(q).toMatchObject({ running: 0, compressor_alarm: 1 });
    expect(m.isFailed('chiller-a')).toBe(true);
    // The lag: hardly warmer after a minute, hot after fifteen.
    m.step(60_000);
    expect(inlet(m, 'r1') - a0).toBeGreaterThan(0.5);
    expect(inlet(m, 'r1') - a0).toBeLessThan(6);
    for (let s = 0; s < 14; s++) m.step(60_000);
    expect(inlet(m, 'r1')).toBeGreaterThan(32);
    expect(Math.abs(inlet(m, 'r8') - b0)).toBeLessThan(0.5);
    expect(m.groupInletC('pod-a')).toBeGreaterThan(m.groupInletC('pod-b')! + 8);
    expect(m.groupInletC('pod-z')).toBeUndefined();
    m.setEquipmentFailure('chiller-a', false);
    expect(m.quantities('chiller-a')!.values).toMatchObject({ compressor_alarm: 0 });
    for (let s = 0; s < 40; s++) m.step(60_000);
    expect(Math.abs(inlet(m, 'r1') - a0)).toBeLessThan(0.5);
  });

  it('with chillers shared by both pods, one failure is carried by the other (N+1)', () => {
    const m = model(site({ chillerServes: 'shared' }), 2, localMidnight(7, 15) + 14 * H);
    const a0 = inlet(m, 'r1');
    m.setEquipmentFailure('chiller-a', true);
    for (let s = 0; s < 15; s++) m.step(60_000);
    expect(Math.abs(inlet(m, 'r1') - a0)).toBeLessThan(0.5);
  });

  it('a failed CRAH of an N+1 pair warms its pod a little, its partner speeds up', () => {
    const m = model(site(), 2, localMidnight(7, 15) + 14 * H);
    const a0 = inlet(m, 'r1');
    const fan0 = m.quantities('crah-a2')!.values.fan_speed_pct as number;
    m.setEquipmentFailure('crah-a1', true);
    for (let s = 0; s < 30; s++) m.step(60_000);
    expect(m.quantities('crah-a1')!.values).toMatchObject({ unit_on: 0, common_alarm: 1, fan_speed_pct: 0 });
    expect(m.quantities('crah-a2')!.values.fan_speed_pct as number).toBeGreaterThan(fan0);
    const rise = inlet(m, 'r1') - a0;
    expect(rise).toBeGreaterThan(0.5);
    expect(rise).toBeLessThanOrEqual(PLANT.inlet_rise_failed_crah_c / 2 + 0.1);
  });

  it('only chillers and CRAHs can fail', () => {
    const m = model();
    expect(m.canFail('chiller-a')).toBe(true);
    expect(m.canFail('crah-b2')).toBe(true);
    expect(m.canFail('pdu-r1')).toBe(false);
    expect(() => m.setEquipmentFailure('pdu-r1', true)).toThrow(RangeError);
    expect(() => m.setEquipmentFailure('nope', true)).toThrow(/not a chiller or CRAH/);
  });
});

describe('site model: counters and consistency', () => {
  it('every energy counter is the integral of its power (trapezoid), to rounding', () => {
    const m = model(site(), 4, localMidnight(3, 10) + 6 * H);
    const n = m.deviceIds.length;
    const e0 = m.deviceIds.map((_, i) => m.trueEnergyKwh(i));
    const integral = new Float64Array(n);
    let prev = m.deviceIds.map((_, i) => m.truePowerW(i));
    for (let s = 0; s < 3600; s++) {
      m.step(1000);
      for (let i = 0; i < n; i++) {
        integral[i]! += ((prev[i]! + m.truePowerW(i)) / 2) * (1 / 3600 / 1000);
      }
      prev = m.deviceIds.map((_, i) => m.truePowerW(i));
    }
    for (let i = 0; i < n; i++) expect(m.trueEnergyKwh(i) - e0[i]!).toBeCloseTo(integral[i]!, 6);
    const pv = m.deviceIndex('pv');
    expect(m.trueEnergyKwh(pv)).toBeGreaterThan(0);
  });

  it('incomers + green feed + PV behind the meter = facility; green feed carries its share', () => {
    const m = model(site(), 4, localMidnight(6, 10) + 12 * H);
    m.step(1000);
    const p = (id: string) => m.truePowerW(m.deviceIndex(id));
    const l = m.siteLive();
    expect(p('inc-1') + p('inc-2') + p('green') + p('pv')).toBeCloseTo(l.facility_power_w, 6);
    expect(p('green') / (p('inc-1') + p('inc-2') + p('green'))).toBeCloseTo(0.25, 9);
    expect(p('pv')).toBeGreaterThan(0);
    expect(p('cool')).toBeCloseTo(l.cooling_power_w, 6);
    expect(p('light')).toBeCloseTo(l.lighting_power_w, 6);
    let pdus = 0;
    for (const id of m.deviceIds) if (id.startsWith('pdu-')) pdus += p(id);
    expect(pdus).toBeCloseTo(l.it_power_w, 6);
    expect(p('ups-a') + p('ups-b')).toBeCloseTo(l.it_power_w + l.distribution_loss_w, 6);
  });

  it('device points agree with each other the way real devices do', () => {
    const m = model(site(), 4, localMidnight(6, 10) + 12 * H);
    m.step(1000);
    const pdu = m.quantities('pdu-r1')!;
    const w = pdu.values.active_power_w as number;
    let outlets = 0;
    for (const row of pdu.rows.outlet!.values()) outlets += row.outlet_power_w as number;
    expect(outlets / w).toBeCloseTo(0.996, 9);
    for (const row of pdu.rows.phase!.values()) {
      const vi = (row.phase_voltage_v as number) * (row.phase_current_a as number);
      expect(vi * (pdu.values.power_factor_ratio as number)).toBeCloseTo(row.phase_power_w as number, 6);
    }
    const ups = m.quantities('ups-a')!;
    let out = 0;
    let inp = 0;
    for (const row of ups.rows.line!.values()) {
      out += row.output_power_w as number;
      inp += row.input_power_w as number;
    }
    expect(out).toBeCloseTo(ups.values.active_power_w as number, 6);
    expect(inp).toBeGreaterThan(out);
    expect(ups.values).toMatchObject({ battery_status: 'battery_normal', output_source: 'normal' });
    const gpu = m.quantities('gpu1-1')!;
    let gpuW = 0;
    for (const row of gpu.rows.gpu!.values()) gpuW += row.gpu_power_w as number;
    expect(gpu.rows.gpu!.size).toBe(8);
    expect(gpuW).toBeLessThan(gpu.values.active_power_w as number);
    expect(gpu.rows.cpu!.get(1)).toEqual({ cpu_model: 'Intel(R) Xeon(R) Platinum 8480+' });
    const th = m.quantities('th-r1')!.values;
    expect(th.humidity_pct).toBeGreaterThan(20);
    expect(th.humidity_pct).toBeLessThan(70);
    const pv = m.quantities('pv')!.values;
    expect(pv.operating_state).toBe('mppt');
    expect(pv.dc_power_w as number).toBeGreaterThan(pv.active_power_w as number);
    expect(m.quantities('not-here')).toBeUndefined();
  });

  it('GPU racks train in bursts: idle gaps, jobs near full load, checkpoint dips', () => {
    const m = model(site(), 9, localMidnight(5, 1));
    const r = m.plan.racks.ids.indexOf('gpu1');
    const seen: number[] = [];
    for (let s = 0; s < 3 * 24 * 60; s++) {
      m.step(60_000);
      seen.push(m.rackPowers()[r]!);
    }
    const max = Math.max(...seen);
    const min = Math.min(...seen);
    expect(max).toBeGreaterThan(25_000);
    expect(min).toBeLessThan(6_000);
  });
});
