import { describe, expect, it } from 'vitest';
import { inletBand, siteFloor, type FloorHall } from '../../../collector/live/site-floor.js';
import { powerPointOf } from '../../../collector/kpi/power-meters.js';
import { DEFAULT_LOADS_KW, demoFloorInput, demoInventory, demoProfiles } from './demo-floor.js';

/**
 * The floor view from the demo seed with scripted latest values: rack power from the racks' IT
 * meters, racks with power against the on-rack threshold, headroom, the hall PUE only where the
 * hall's own meters allow one, inlet bands (ASHRAE A1), cooling states; stale values are missing.
 */
const NOW = Date.UTC(2026, 0, 12, 3, 37);
const hallOf = (input = demoFloorInput({ now: NOW })): FloorHall => siteFloor(input).halls[0]!;

describe('inletBand (ASHRAE: recommended 18–27 °C, allowable 15–32 °C)', () => {
  it.each([
    [14.9, 'outside'],
    [15, 'allowable'],
    [17.9, 'allowable'],
    [18, 'recommended'],
    [27, 'recommended'],
    [27.1, 'allowable'],
    [32, 'allowable'],
    [32.1, 'outside'],
  ])('%f °C is %s', (t, band) => {
    expect(inletBand(t)).toBe(band);
  });
});

describe('siteFloor', () => {
  it('sums each rack’s PDUs, counts racks with power, and gives headroom against rated kW', () => {
    const h = hallOf();
    expect(h.id).toBe('h1');
    expect(h.racks).toHaveLength(16);
    const r11 = h.racks.find((r) => r.id === 'r11')!;
    expect(r11).toMatchObject({ power_w: 31_000, rated_kw: 40, powered: true, inlet_temp_c: 26.1, inlet_band: 'recommended' });
    // r14 draws 0.1 kW, below max(0.3 kW, 10 % of 10 kW); r15 has no meter; r16 is reserved.
    expect(h.racks.filter((r) => !r.powered).map((r) => r.id)).toEqual(['r14', 'r15', 'r16']);
    expect(h.racks_available).toBe(15);
    expect(h.racks_powered).toBe(13);
    const it_kw = Object.values(DEFAULT_LOADS_KW).reduce((a, b) => a + b, 0);
    expect(h.rated_kw).toBe(230);
    expect(h.headroom_kw).toBeCloseTo(230 - it_kw, 1);
    expect([h.inlet_min_c, h.inlet_max_c]).toEqual([20.5, 33.4]);
  });

  it('counts racks with power by the occupancy KPI’s on-rack rule', () => {
    // At 6 kW minimum, r06 (4.5 kW), r10 (4 kW), r03/r04/r08/r13 (5–5.5 kW) and r14 fall below.
    const h = siteFloor({ ...demoFloorInput({ now: NOW }), on_rack: { min_kw: 6, min_ratio: 0.1, day_ratio: 0.5 } }).halls[0]!;
    expect(h.racks.filter((r) => r.powered).map((r) => r.id)).toEqual(['r01', 'r02', 'r05', 'r07', 'r09', 'r11', 'r12']);
  });

  it('gives the hall a PUE from its own incomers, green feed and IT meters', () => {
    const h = hallOf(demoFloorInput({ now: NOW, facility_w: 150_000 }));
    const it_w = Object.values(DEFAULT_LOADS_KW).reduce((a, b) => a + b, 0) * 1000;
    expect(h.pue).toEqual({ ok: true, value: Math.round((150_000 / it_w) * 1000) / 1000, facility_power_w: 150_000, it_power_w: it_w });
  });

  it('subtracts what a hall exports from its facility power', () => {
    const input = demoFloorInput({ now: NOW, facility_w: 150_000 });
    const exporter = { id: 'meter-export', profile: 'eastron-sdm630', hall: 'h1', address: { protocol: 'modbus' as const, host: '127.0.0.1', port: 15021, unit_id: 9, transport: 'tcp' as const }, interval_s: 5, meter: { role: 'export' as const, behind_meter: false, rated_kw: 250 } };
    const inventory = { ...demoInventory, devices: [...demoInventory.devices, exporter] };
    const series = (d: string) => (d === 'meter-export' ? [{ point: powerPointOf(demoProfiles.get('eastron-sdm630')), value: 20_000, quality: 'good' as const, ts_ms: NOW - 1000 }] : input.series(d));
    const it_w = Object.values(DEFAULT_LOADS_KW).reduce((a, b) => a + b, 0) * 1000;
    expect(siteFloor({ ...input, inventory, series }).halls[0]!.pue).toMatchObject({ ok: true, facility_power_w: 130_000, it_power_w: it_w });
  });

  it('has no hall PUE when a facility meter belongs to no hall', () => {
    const input = demoFloorInput({ now: NOW });
    const inventory = { ...demoInventory, devices: demoInventory.devices.map((d) => (d.id === 'meter-incomer-2' ? { ...d, hall: undefined } : d)) };
    expect(siteFloor({ ...input, inventory }).halls[0]!.pue).toEqual({ ok: false, reason: 'no_hall_meters' });
  });

  it('shows a silent PDU’s rack and the hall PUE as missing, not at their old values', () => {
    const h = hallOf(demoFloorInput({ now: NOW, silent: ['pdu-r11-b', 'th-r03'] }));
    expect(h.racks.find((r) => r.id === 'r11')).toMatchObject({ power_w: null, powered: false });
    expect(h.racks.find((r) => r.id === 'r03')).toMatchObject({ inlet_temp_c: null, inlet_band: null });
    expect(h.pue).toEqual({ ok: false, reason: 'stale_or_missing' });
    expect(h.racks_powered).toBe(12);
    // r11's 40 kW is neither load nor headroom while its power is unknown.
    expect(h.racks_unknown).toBe(1);
    const it_kw = Object.values(DEFAULT_LOADS_KW).reduce((a, b) => a + b, 0) - DEFAULT_LOADS_KW.r11!;
    expect(h.headroom_kw).toBeCloseTo(230 - 40 - it_kw, 1);
  });

  it.each([
    ['running with supply and return', {}, 'chiller-1', { state: 'running', supply_temp_c: 12.1, return_temp_c: 17.9, power_w: 21_000, alarms: [] }],
    ['an alarm point set', {}, 'crah-b2', { state: 'alarm', alarms: ['common_alarm'], supply_temp_c: 19.5, return_temp_c: 31.2 }],
    ['down by its agent', { statuses: { 'crah-a1': { state: 'down' as const, since: NOW - 60_000, last_ok: NOW - 120_000 } } }, 'crah-a1', { state: 'offline' }],
    ['silent', { silent: ['chiller-2'] }, 'chiller-2', { state: 'unknown', supply_temp_c: null, power_w: null }],
  ])('a cooling unit %s', (_what, opts, id, want) => {
    const h = hallOf(demoFloorInput({ now: NOW, ...opts }));
    expect(h.cooling.map((u) => u.id)).toEqual(['chiller-1', 'chiller-2', 'crah-a1', 'crah-a2', 'crah-b1', 'crah-b2']);
    expect(h.cooling.find((u) => u.id === id)).toMatchObject(want);
  });
});
