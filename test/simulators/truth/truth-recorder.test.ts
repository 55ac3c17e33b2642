import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SiteInventorySchema, type SiteInventory } from '../../../contract/index.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { loadYamlFile } from '../../../shared/config/load.js';
import { createSiteModel } from '../../../simulators/model/site.js';
import { writeTruthFile } from '../../../simulators/truth/truth-file.js';
import { TruthRecorder, type TruthSource } from '../../../simulators/truth/truth-recorder.js';
import { repoPath } from '../../support/repo-path.js';

const H = 3_600_000;
const MIN = 60_000;
/** 2026-01-10 00:00 in Asia/Shanghai. */
const DAY0 = Date.UTC(2026, 0, 10) - 8 * H;

/** A scripted site: the test sets each meter's power; energy integrates it exactly (power held per interval). */
class ScriptedSite implements TruthSource {
  readonly deviceIds: string[];
  readonly power: Float64Array;
  readonly energy: Float64Array;
  private readonly index: Map<string, number>;
  private t = 0;

  constructor(ids: string[], start: number) {
    this.deviceIds = ids;
    this.power = new Float64Array(ids.length);
    this.energy = new Float64Array(ids.length).fill(1000);
    this.index = new Map(ids.map((id, i) => [id, i]));
    this.t = start;
  }

  set(id: string, w: number): void {
    this.power[this.index.get(id)!] = w;
  }

  /** Advance to `to` holding the current powers: energy grows by P × Δt. */
  advance(to: number): void {
    const h = (to - this.t) / H;
    for (let i = 0; i < this.power.length; i++) this.energy[i]! += (this.power[i]! / 1000) * h;
    this.t = to;
  }

  deviceIndex(id: string): number {
    return this.index.get(id) ?? -1;
  }

  truePowerW(i: number): number {
    return this.power[i]!;
  }

  trueEnergyKwh(i: number): number {
    return this.energy[i]!;
  }

  siteLive() {
    return { sim_ts: this.t, outdoor_temp_c: 10, wet_bulb_c: 8 };
  }
}

const addr = (unit: number) => ({ protocol: 'modbus', host: '127.0.0.1', port: 15020, unit_id: unit });

function smallSite(extraRacks: unknown[] = [], certificates: unknown[] = [], pue_it_level: string | null = 'pdu_out'): SiteInventory {
  return SiteInventorySchema.parse({
    site: { id: 'truth', name: 'Truth', ...(pue_it_level !== null ? { pue_it_level } : {}) },
    halls: [{ id: 'h1' }],
    racks: [{ id: 'r1', hall: 'h1', rated_kw: 10 }, { id: 'r2', hall: 'h1', rated_kw: 2 }, { id: 'r3', hall: 'h1', rated_kw: 6 }, { id: 'r4', hall: 'h1', rated_kw: 6, status: 'reserved' }, ...extraRacks],
    devices: [
      { id: 'inc', profile: 'eastron-sdm630', address: addr(1), meter: { role: 'facility_in' } },
      { id: 'feed', profile: 'eastron-sdm630', address: addr(2), meter: { role: 'green_feed' } },
      { id: 'pv', profile: 'sunspec-inverter', address: addr(3), meter: { role: 'green_onsite', behind_meter: true } },
      { id: 'exp', profile: 'eastron-sdm630', address: addr(4), meter: { role: 'export' } },
      { id: 'cool', profile: 'eastron-sdm630', address: addr(5), meter: { role: 'cooling' } },
      { id: 'pdu1', profile: 'apc-rpdu2', rack: 'r1', address: addr(6), meter: { role: 'it', level: 'pdu_out' } },
      { id: 'pdu2', profile: 'apc-rpdu2', rack: 'r2', address: addr(7), meter: { role: 'it', level: 'pdu_out' } },
      // A UPS output meter: IT at another level, never summed into the pdu_out PUE.
      { id: 'ups', profile: 'rfc1628-ups', address: addr(8), meter: { role: 'it', level: 'ups_out' } },
    ],
    green_certificates: certificates,
  });
}

function scripted(inv: SiteInventory, start: number) {
  const src = new ScriptedSite(
    inv.devices.map((d) => d.id),
    start,
  );
  return { src, rec: new TruthRecorder({ model: src, inventory: inv, device_window: 8 }) };
}

describe('truth: PUE windows are ratios of energy sums in the site time zone', () => {
  it('hand-checked: 15 min, hour and day windows across local midnight', () => {
    const inv = smallSite();
    const start = DAY0 + 23 * H; // 23:00 local on 10 January
    const { src, rec } = scripted(inv, start);
    // Facility = inc 90 + feed 30 + pv 10 − export 0 = 130 kW; IT (pdu_out) = 80 + 20 = 100 kW.
    src.set('inc', 90_000);
    src.set('feed', 30_000);
    src.set('pv', 10_000);
    src.set('cool', 20_000);
    src.set('pdu1', 80_000);
    src.set('pdu2', 20_000);
    src.set('ups', 104_000);
    rec.record(start);
    for (let t = start + MIN; t <= start + H; t += MIN) {
      src.advance(t);
      rec.record(t);
    }
    // After local midnight the IT load drops to 65 kW; facility to 97.5 kW (PUE 1.5).
    src.set('inc', 57_500);
    src.set('pdu1', 50_000);
    src.set('pdu2', 15_000);
    for (let t = start + H + MIN; t <= start + 2 * H; t += MIN) {
      src.advance(t);
      rec.record(t);
    }
    const truth = rec.truth();
    const hours = truth.windows['1h'];
    expect(hours.map((w) => [w.window_start, w.coverage_ratio])).toEqual([
      [start, 1],
      [start + H, 1],
    ]);
    expect(hours[0]!.pue).toBeCloseTo(1.3, 12);
    expect(hours[1]!.pue).toBeCloseTo(1.5, 12);
    const h0 = hours[0]!;
    for (const [got, want] of [[h0.facility_kwh, 130], [h0.it_kwh, 100], [h0.cooling_kwh, 20], [h0.green_onsite_kwh, 10], [h0.green_feed_kwh, 30]] as const) expect(got).toBeCloseTo(want, 9);
    const quarters = truth.windows['15m'];
    expect(quarters).toHaveLength(8);
    expect(quarters.every((q) => q.window_end - q.window_start === 15 * MIN)).toBe(true);
    expect(quarters[3]!.pue).toBeCloseTo(1.3, 12);
    expect(quarters[4]!.pue).toBeCloseTo(1.5, 12);
    // Days split at local midnight (16:00 UTC): each day holds one hour here, covering 1/24 of it.
    const days = truth.windows['1d'];
    expect(days.map((d) => [d.window_start, d.window_end])).toEqual([
      [DAY0, DAY0 + 24 * H],
      [DAY0 + 24 * H, DAY0 + 48 * H],
    ]);
    expect(days[0]!.coverage_ratio).toBeCloseTo(1 / 24, 12);
    // Two hours together: (130 + 97.5) / (100 + 65) = 1.3788, not the mean of ratios 1.4.
    expect(truth.energy_kwh.facility / truth.energy_kwh.it).toBeCloseTo(227.5 / 165, 12);
    expect(truth).toMatchObject({ pue_it_level: 'pdu_out', category: 2, timezone: 'Asia/Shanghai' });
    expect(truth.live).toMatchObject({ facility_power_w: 97_500, it_power_w: 65_000, pue: 1.5 });
  });

  it('energy of an interval that spans a window boundary is split in proportion to time', () => {
    const inv = smallSite();
    const { src, rec } = scripted(inv, DAY0);
    src.set('inc', 60_000);
    src.set('pdu1', 50_000);
    rec.record(DAY0);
    // One 21-minute interval: 15 minutes fall in the first quarter, 6 in the second.
    src.advance(DAY0 + 21 * MIN);
    rec.record(DAY0 + 21 * MIN);
    const q = rec.truth().windows['15m'];
    expect(q.map((w) => [w.facility_kwh, w.it_kwh, w.coverage_ratio])).toEqual([
      [15, 12.5, 1],
      [6, 5, 6 / 15],
    ]);
  });

  it('without a pinned level the most upstream IT level counts (here the UPS output: category 1)', () => {
    const inv = smallSite([], [], null);
    const { src, rec } = scripted(inv, DAY0);
    src.set('inc', 120_000);
    src.set('pdu1', 90_000);
    src.set('ups', 100_000);
    rec.record(DAY0);
    src.advance(DAY0 + 15 * MIN);
    rec.record(DAY0 + 15 * MIN);
    const t = rec.truth();
    expect(t).toMatchObject({ pue_it_level: 'ups_out', category: 1 });
    expect(t.windows['15m'][0]!.pue).toBeCloseTo(1.2, 12);
  });

  it('export counts against facility; a window without IT energy has no PUE', () => {
    const inv = smallSite();
    const { src, rec } = scripted(inv, DAY0);
    src.set('pv', 30_000);
    src.set('exp', 10_000);
    rec.record(DAY0);
    src.advance(DAY0 + 15 * MIN);
    rec.record(DAY0 + 15 * MIN);
    const w = rec.truth().windows['15m'][0]!;
    expect(w.facility_kwh).toBeCloseTo(5, 12);
    expect(w.pue).toBeNull();
    expect(rec.truth().live.pue).toBeNull();
  });
});

describe('truth: rack occupancy per local day', () => {
  it('hand-checked: on-rack when IT ≥ max(0.3 kW, 10 % of rated) for half the day; reserved racks do not count', () => {
    const inv = smallSite();
    const { src, rec } = scripted(inv, DAY0);
    // r1 (10 kW, threshold 1 kW) at 5 kW all day → on. r2 (2 kW, threshold 0.3 kW): 0.5 kW for 11 h,
    // then 0.2 kW → 11/24 < 50 % → off. r3 has no IT meter → off. r4 is reserved → not available.
    src.set('pdu1', 5000);
    src.set('pdu2', 500);
    src.set('inc', 7000);
    rec.record(DAY0);
    for (let t = DAY0 + 10 * MIN; t <= DAY0 + 24 * H; t += 10 * MIN) {
      src.advance(t);
      rec.record(t);
      if (t === DAY0 + 11 * H) src.set('pdu2', 200);
    }
    const day = rec.truth().occupancy[0]!;
    expect(day).toMatchObject({ date: '2026-01-10', window_start: DAY0, window_end: DAY0 + 24 * H, racks_available: 3, racks_on: 1, coverage_ratio: 1, rated_kw: 18 });
    expect(day.occupancy_ratio).toBeCloseTo(1 / 3, 12);
    // E_IT = 5 × 24 + 0.5 × 11 + 0.2 × 13 = 128.1 kWh over 24 h × 18 kW.
    expect(day.it_kwh).toBeCloseTo(128.1, 9);
    expect(day.utilisation_ratio).toBeCloseTo(128.1 / (24 * 18), 12);
  });

  it("the occupancy test vector (docs/design.md §5): 1,000 available racks, 720 with devices, 40 of them below the threshold → 68.0 %", () => {
    const racks = Array.from({ length: 1000 }, (_, i) => ({ id: `x${i}`, hall: 'h1', rated_kw: 5 }));
    const devices = Array.from({ length: 720 }, (_, i) => ({ id: `p${i}`, profile: 'apc-rpdu2', rack: `x${i}`, address: { protocol: 'snmp', host: '127.0.0.1', port: 16161, community: `p${i}` }, meter: { role: 'it', level: 'pdu_out' } }));
    const inv = SiteInventorySchema.parse({ site: { id: 'v', name: 'V' }, halls: [{ id: 'h1' }], racks, devices });
    const { src, rec } = scripted(inv, DAY0);
    for (let i = 0; i < 720; i++) src.set(`p${i}`, i < 40 ? 100 : 2000);
    rec.record(DAY0);
    src.advance(DAY0 + 24 * H);
    rec.record(DAY0 + 24 * H);
    expect(rec.truth().occupancy[0]).toMatchObject({ racks_available: 1000, racks_on: 680, occupancy_ratio: 0.68 });
  });
});

describe('truth: green share per month and year', () => {
  it('hand-checked with certificates, capped at 1', () => {
    const inv = smallSite([], [
      { id: 'gec-1', period: '2026-01', certificates: 1 },
      { id: 'gec-2', period: '2026-02', certificates: 5 },
    ]);
    const { src, rec } = scripted(inv, DAY0);
    // Facility 100 kW for a day = 2,400 kWh; PV 10 kW (240 kWh); green feed 30 kW (720 kWh).
    src.set('inc', 60_000);
    src.set('feed', 30_000);
    src.set('pv', 10_000);
    src.set('pdu1', 80_000);
    rec.record(DAY0);
    src.advance(DAY0 + 24 * H);
    rec.record(DAY0 + 24 * H);
    const month = rec.truth().green_share['1mo'];
    expect(month).toHaveLength(1);
    expect(month[0]).toMatchObject({ period: '2026-01', facility_kwh: 2400, green_onsite_kwh: 240, green_feed_kwh: 720, certificate_kwh: 1000 });
    expect(month[0]!.green_share_ratio).toBeCloseTo((240 + 720 + 1000) / 2400, 12);
    expect(month[0]!.window_start).toBe(Date.UTC(2026, 0, 1) - 8 * H);
    expect(month[0]!.coverage_ratio).toBeCloseTo(1 / 31, 12);
    const year = rec.truth().green_share['1y'][0]!;
    expect(year).toMatchObject({ period: '2026', certificate_kwh: 6000, green_share_ratio: 1 });
    expect(rec.truth().live.green_share_onsite_ratio).toBeCloseTo(0.1, 12);
  });
});

describe('truth: per device, at the time it was served', () => {
  it('returns the state on the wire at ts, refuses a ts older than the window', () => {
    const inv = smallSite();
    const { src, rec } = scripted(inv, DAY0);
    const served: number[] = [];
    for (let k = 0; k < 12; k++) {
      src.advance(DAY0 + k * MIN);
      src.set('pdu1', 1000 * (k + 1));
      served.push(src.energy[src.deviceIndex('pdu1')]!);
      rec.record(DAY0 + k * MIN);
    }
    const t = rec.truth(DAY0 + 9 * MIN + 30_000);
    expect(t.ts).toBe(DAY0 + 9 * MIN);
    expect(t.devices.pdu1).toEqual({ power_w: 10_000, energy_kwh: served[9] });
    expect(rec.truth().devices.pdu1!.power_w).toBe(12_000);
    // device_window 8: the oldest served state kept is the fifth.
    expect(() => rec.truth(DAY0 + 3 * MIN)).toThrow(RangeError);
    expect(rec.truth(DAY0 + 4 * MIN).ts).toBe(DAY0 + 4 * MIN);
    expect(rec.truth(undefined, { devices: false }).devices).toEqual({});
    expect(() => rec.record(DAY0)).toThrow(/before the last record/);
  });

  it('is plain JSON: no NaN, no undefined, survives a round trip', () => {
    const inv = smallSite();
    const { src, rec } = scripted(inv, DAY0);
    rec.record(DAY0);
    src.advance(DAY0 + MIN);
    rec.record(DAY0 + MIN);
    const t = rec.truth();
    expect(JSON.parse(JSON.stringify(t))).toEqual(t);
  });
});

describe('truth: with the physical model', () => {
  it('demo seed: live truth equals the sums of its meters, PUE in the demo band', () => {
    const inv = loadYamlFile(SiteInventorySchema, repoPath('seeds', 'demo.yaml'));
    const built = createSiteModel(inv, 1, { profiles: loadProfiles() });
    if (!built.ok) throw new Error(built.problems.join('\n'));
    const m = built.model;
    const start = Date.UTC(2026, 3, 1, 4);
    m.reset(start);
    const rec = new TruthRecorder({ model: m, inventory: inv });
    rec.record(start);
    for (let k = 1; k <= 900; k++) {
      m.step(1000);
      rec.record(start + k * 1000);
    }
    const t = rec.truth();
    const p = (id: string) => t.devices[id]!.power_w;
    // Per-device powers are kept as float32 (7 digits), the site sums in float64.
    expect(t.live.facility_power_w).toBeCloseTo(p('meter-incomer-1') + p('meter-incomer-2') + p('meter-green-feed') + p('pv-roof-1'), 1);
    expect(t.live.facility_power_w).toBeCloseTo(m.siteLive().facility_power_w, 6);
    expect(t.live.pue).toBeGreaterThan(1.12);
    expect(t.live.pue).toBeLessThan(1.3);
    expect(t.windows['15m'].at(-1)!.pue).toBeCloseTo(t.energy_kwh.facility / t.energy_kwh.it, 9);
    expect(t.category).toBe(2);
    expect(t.occupancy[0]!.racks_available).toBe(15);
  });

  it('writeTruthFile rewrites the file atomically', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dcim-truth-'));
    const file = join(dir, 'truth.json');
    const inv = smallSite();
    const { src, rec } = scripted(inv, DAY0);
    rec.record(DAY0);
    src.advance(DAY0 + MIN);
    rec.record(DAY0 + MIN);
    await writeTruthFile(file, rec.truth());
    await writeTruthFile(file, { sites: [rec.truth()] });
    const back = JSON.parse(await readFile(file, 'utf8')) as { sites: unknown[] };
    expect(back.sites).toEqual([rec.truth()]);
    expect(await readdir(dir)).toEqual(['truth.json']);
  });
});
