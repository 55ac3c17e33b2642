import { describe, expect, it } from 'vitest';
import { SiteInventorySchema, type SiteInventory } from '../../contract/index.js';
import { LOAD_MODEL, buildSiteModel, initialSiteState, outdoorTemperature, overheadRatios, stepSiteState, type SiteModelConfig, type SiteModelState } from '../../simulators/model/site-model.js';
import { loadState, powerFactor } from '../../simulators/model/quantities.js';

function inventory(devices: unknown[], racks: unknown[] = [{ id: 'r01', hall: 'h1', rated_kw: 12 }]): SiteInventory {
  return SiteInventorySchema.parse({ site: { id: 'demo', name: 'Demo' }, halls: [{ id: 'h1' }], racks, devices });
}

const snmp = (port = 16161) => ({ protocol: 'snmp', host: '127.0.0.1', port });
const modbus = (unit_id = 1) => ({ protocol: 'modbus', host: '127.0.0.1', port: 15020, unit_id });

const DEMO = inventory([
  { id: 'pdu-a', profile: 'apc-rpdu2', rack: 'r01', address: snmp(), meter: { role: 'it', level: 'pdu_out', rated_kw: 12 }, sim: { load_kw: 8 } },
  { id: 'pdu-b', profile: 'apc-rpdu2', rack: 'r01', address: snmp(16162), meter: { role: 'it', level: 'pdu_out', rated_kw: 10 } },
  { id: 'inc-1', profile: 'eastron-sdm630', hall: 'h1', address: modbus(1), meter: { role: 'facility_in', rated_kw: 40 } },
  { id: 'inc-2', profile: 'eastron-sdm630', hall: 'h1', address: modbus(2), meter: { role: 'facility_in', rated_kw: 40 } },
]);

function build(inv: SiteInventory, seed = 7): SiteModelConfig {
  const r = buildSiteModel(inv, seed);
  if (!r.ok) throw new Error(r.problems.join('\n'));
  return r.config;
}

function run(config: SiteModelConfig, seed: number, start: number, steps: number, dtMs: number): SiteModelState[] {
  const out = [initialSiteState(config, seed, start)];
  for (let i = 0; i < steps; i++) out.push(stepSiteState(config, out[out.length - 1]!, dtMs));
  return out;
}

const JAN = Date.UTC(2026, 0, 15, 4); // 12:00 in Asia/Shanghai
const JUL = Date.UTC(2026, 6, 15, 7); // 15:00, the hottest hour of the hottest season

describe('site model: configuration from the seed', () => {
  it('takes sim.load_kw, else 60 % of the meter rating', () => {
    const c = build(DEMO);
    expect(c.it_loads.map((l) => [l.device, l.mean_w])).toEqual([
      ['pdu-a', 8000],
      ['pdu-b', 10_000 * LOAD_MODEL.default_load_ratio],
    ]);
    expect(c.facility_in).toEqual(['inc-1', 'inc-2']);
  });

  it('falls back to the rack rating, and reports an IT meter it cannot size', () => {
    const fromRack = build(inventory([{ id: 'p', profile: 'apc-rpdu2', rack: 'r01', address: snmp(), meter: { role: 'it', level: 'pdu_out' } }]));
    expect(fromRack.it_loads[0]?.mean_w).toBeCloseTo(12_000 * 0.6, 6);
    const r = buildSiteModel(inventory([{ id: 'p', profile: 'apc-rpdu2', address: snmp(), meter: { role: 'it', level: 'pdu_out' } }]), 1);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems[0]).toMatch(/devices\[0\] \(p\): an it meter needs sim.load_kw/);
  });

  it('needs an IT load to have a PUE at all', () => {
    const r = buildSiteModel(inventory([{ id: 'inc', profile: 'eastron-sdm630', address: modbus(), meter: { role: 'facility_in' } }]), 1);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.join()).toMatch(/at least one it meter/);
  });

  it('rejects an unknown time zone at start', () => {
    const inv = { ...DEMO, site: { ...DEMO.site, timezone: 'Mars/Olympus_Mons' } };
    const r = buildSiteModel(inv, 1);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems[0]).toMatch(/site.timezone/);
  });

  it.each([
    ['no meter role', { id: 'x', profile: 'apc-rpdu2', address: snmp(16170) }, /no meter role/],
    ['an upstream IT level', { id: 'x', profile: 'eastron-sdm630', address: modbus(9), meter: { role: 'it', level: 'ups_out', rated_kw: 50 } }, /upstream of pdu_out/],
    ['a role not modelled yet', { id: 'x', profile: 'eastron-sdm630', address: modbus(9), meter: { role: 'green_onsite' } }, /green_onsite/],
  ])('skips a device with %s, saying why', (_label, device, reason) => {
    const r = buildSiteModel(inventory([...DEMO.devices, device]), 1);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.skipped).toHaveLength(1);
      expect(r.skipped[0]?.reason).toMatch(reason);
      expect(r.config.devices.x).toBeUndefined();
    }
  });
});

describe('site model: physics', () => {
  const config = build(DEMO);

  it('is deterministic for a seed and differs between seeds', () => {
    const a = run(config, 42, JAN, 300, 1000);
    const b = run(build(DEMO), 42, JAN, 300, 1000);
    const c = run(config, 43, JAN, 300, 1000);
    expect(b).toEqual(a);
    expect(c.at(-1)?.it_power_w).not.toBe(a.at(-1)?.it_power_w);
  });

  it('facility = IT × (1 + overhead), split evenly over the incomers', () => {
    const s = run(config, 1, JUL, 10, 1000).at(-1)!;
    const it = (s.devices['pdu-a']?.power_w ?? 0) + (s.devices['pdu-b']?.power_w ?? 0);
    expect(s.it_power_w).toBeCloseTo(it, 6);
    const o = s.overhead;
    expect(s.facility_power_w).toBeCloseTo(it * (1 + o.ups_loss_ratio + o.cooling_ratio + o.lighting_ratio), 6);
    expect(s.devices['inc-1']?.power_w).toBeCloseTo(s.facility_power_w / 2, 6);
    expect(s.devices['inc-2']?.power_w).toBe(s.devices['inc-1']?.power_w);
  });

  it('keeps the PUE in 1.15–1.35 through a year, higher in summer than in winter', () => {
    const year = run(config, 3, Date.UTC(2026, 0, 1), 365 * 24, 3_600_000);
    const pues = year.map((s) => s.facility_power_w / s.it_power_w);
    expect(Math.min(...pues)).toBeGreaterThanOrEqual(1.15);
    expect(Math.max(...pues)).toBeLessThanOrEqual(1.35);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const january = pues.slice(0, 31 * 24);
    const july = pues.slice(181 * 24, 212 * 24);
    expect(mean(july)).toBeGreaterThan(mean(january) + 0.04);
  });

  it('follows a daily rhythm of about ±10 % around the mean load', () => {
    const day = run(config, 5, JAN, 24 * 60, 60_000).map((s) => s.devices['pdu-a']!.power_w);
    const max = Math.max(...day);
    const min = Math.min(...day);
    expect(max / 8000).toBeGreaterThan(1.05);
    expect(max / 8000).toBeLessThan(1.2);
    expect(min / 8000).toBeLessThan(0.95);
    expect(min / 8000).toBeGreaterThan(0.8);
  });

  it('changes power by less than 0.1 % per simulated second', () => {
    const hour = run(config, 9, JUL, 3600, 1000);
    let worst = 0;
    for (let i = 1; i < hour.length; i++) {
      for (const key of ['it_power_w', 'facility_power_w'] as const) worst = Math.max(worst, Math.abs(hour[i]![key] / hour[i - 1]![key] - 1));
    }
    expect(worst).toBeLessThan(0.001);
    expect(worst).toBeGreaterThan(0); // it does move
  });

  it('integrates each energy counter from its power (trapezoid)', () => {
    const hour = run(config, 11, JAN, 3600, 1000);
    for (const id of ['pdu-a', 'inc-1']) {
      let expected = hour[0]!.devices[id]!.energy_kwh;
      for (let i = 1; i < hour.length; i++) expected += ((hour[i - 1]!.devices[id]!.power_w + hour[i]!.devices[id]!.power_w) / 2) * (1 / 3_600_000);
      expect(hour.at(-1)!.devices[id]!.energy_kwh).toBeCloseTo(expected, 9);
      expect(hour.at(-1)!.devices[id]!.energy_kwh).toBeGreaterThan(hour[0]!.devices[id]!.energy_kwh);
    }
  });

  it('a zero or negative step changes nothing', () => {
    const s = initialSiteState(config, 1, JAN);
    expect(stepSiteState(config, s, 0)).toBe(s);
    expect(stepSiteState(config, s, -5)).toBe(s);
  });
});

describe('site model: overhead and electrical helpers', () => {
  it.each([
    [-5, 0.12],
    [10, 0.12],
    [22.5, 0.185],
    [35, 0.25],
    [45, 0.25],
  ])('cooling overhead at %d °C outdoors is %d', (temp, ratio) => {
    expect(overheadRatios(8000, 10_000, temp).cooling_ratio).toBeCloseTo(ratio, 9);
  });

  it('UPS losses grow as the load falls', () => {
    expect(overheadRatios(10_000, 10_000, 20).ups_loss_ratio).toBeCloseTo(0.04, 9);
    expect(overheadRatios(0, 10_000, 20).ups_loss_ratio).toBeCloseTo(0.06, 9);
  });

  it('is coldest in January nights and warmest on July afternoons', () => {
    expect(outdoorTemperature(3, 15)).toBeLessThan(5);
    expect(outdoorTemperature(15, 196)).toBeGreaterThan(28);
  });

  it.each([
    [0.01, 'low_load'],
    [0.5, 'normal'],
    [0.85, 'near_overload'],
    [1.2, 'overload'],
  ])('load ratio %d is %s', (ratio, state) => {
    expect(loadState(ratio)).toBe(state);
  });

  it('power factor stays within 0.93–0.98', () => {
    expect(powerFactor(-1)).toBeCloseTo(0.93, 9);
    expect(powerFactor(0.5)).toBeCloseTo(0.955, 9);
    expect(powerFactor(3)).toBeCloseTo(0.98, 9);
  });
});
