import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IT_LEVEL_CATEGORY, SiteInventorySchema, type SiteInventory } from '../contract/index.js';
import { loadProfiles } from '../profiles/catalogue.js';
import { loadYamlFile } from '../shared/config/load.js';
import { renderSeeds } from '../seeds/generate.js';
import { parseSimHints } from '../simulators/sim-hints.js';
import { createSiteModel, type SiteModel } from '../simulators/model/site.js';
import { repoPath } from './support/repo-path.js';

const SEEDS = repoPath('seeds');
const PROFILES = loadProfiles();
const H = 3_600_000;
const load = (rel: string) => loadYamlFile(SiteInventorySchema, join(SEEDS, rel));
const CLUSTER = readdirSync(join(SEEDS, 'cluster')).filter((f) => f.endsWith('.yaml')).map((f) => `cluster/${f}`);
const ALL = ['demo.yaml', 'guian.yaml', 'minimal.yaml', ...CLUSTER];

function modelOf(rel: string): { inv: SiteInventory; model: SiteModel } {
  const inv = load(rel);
  const r = createSiteModel(inv, 1, { profiles: PROFILES, file: `seeds/${rel}` });
  if (!r.ok) throw new Error(r.problems.join('\n'));
  expect(r.skipped).toEqual([]);
  return { inv, model: r.model };
}

function kinds(model: SiteModel): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of model.deviceIds) out[model.kind(id)!] = (out[model.kind(id)!] ?? 0) + 1;
  return out;
}

/** Hourly live PUE over a local day starting at `start`, 5-minute steps. */
function dayOfPue(model: SiteModel, start: number): number[] {
  model.reset(start);
  const out: number[] = [];
  for (let s = 0; s < 24 * 12; s++) {
    model.step(300_000);
    out.push(model.siteLive().pue);
  }
  return out;
}

describe('seeds: the committed files are the generator\'s output', () => {
  it.each(renderSeeds().map((f) => [f.path, f.text]))('seeds/%s', (path, text) => {
    expect(readFileSync(join(SEEDS, path), 'utf8')).toBe(text);
  });

  it('the generator writes every committed seed but the hand-written minimal one', () => {
    expect(renderSeeds().map((f) => f.path).sort()).toEqual(ALL.filter((f) => f !== 'minimal.yaml').sort());
  });
});

describe.each(ALL)('seeds/%s', (rel) => {
  it('loads, its sim hints parse, every profile exists, the model covers every device', () => {
    const { inv, model } = modelOf(rel);
    expect(parseSimHints(inv, rel)).toBeDefined();
    for (const d of inv.devices) expect(PROFILES.has(d.profile), `${d.id}: ${d.profile}`).toBe(true);
    expect(model.deviceIds).toHaveLength(inv.devices.length);
  });

  it('every point of every device is a finite number or a non-empty string, day and night', () => {
    const { model } = modelOf(rel);
    for (const start of [Date.UTC(2026, 6, 1, 4), Date.UTC(2026, 6, 1, 16)]) {
      model.reset(start);
      model.step(60_000);
      for (const id of model.deviceIds) {
        const q = model.quantities(id)!;
        const all = [...Object.entries(q.values), ...Object.values(q.rows).flatMap((rows) => [...rows!.values()].flatMap((r) => Object.entries(r)))];
        expect(all.length, id).toBeGreaterThan(0);
        for (const [name, v] of all) expect(typeof v === 'string' ? v.length > 0 : Number.isFinite(v), `${id} ${name} = ${v}`).toBe(true);
      }
    }
  });

  it('listens on loopback only; Modbus ports carry ≤ 247 units, Redfish one BMC per port', () => {
    const inv = load(rel);
    const unitsPerPort = new Map<string, number>();
    const redfishPorts = new Set<number>();
    for (const d of inv.devices) {
      expect(d.address.host).toBe('127.0.0.1');
      if (d.address.protocol === 'modbus') unitsPerPort.set(`${d.address.port}`, (unitsPerPort.get(`${d.address.port}`) ?? 0) + 1);
      if (d.address.protocol === 'redfish') {
        expect(redfishPorts.has(d.address.port)).toBe(false);
        redfishPorts.add(d.address.port);
      }
    }
    for (const n of unitsPerPort.values()) expect(n).toBeLessThanOrEqual(247);
  });
});

describe('seeds/demo.yaml', () => {
  const { inv, model } = modelOf('demo.yaml');

  it('≈50 devices in one hall, every device kind at least once, the ids tests and README use', () => {
    expect(inv.devices.length).toBeGreaterThanOrEqual(40);
    expect(inv.devices.length).toBeLessThanOrEqual(60);
    expect(inv.halls).toHaveLength(1);
    expect(Object.keys(kinds(model)).sort()).toEqual(['chiller', 'crah', 'gpu', 'meter', 'pdu', 'pv_inverter', 'sensor', 'ups']);
    // One profile of each family the simulators model (every protocol and encoding: SNMP tables and
    // device exponents, Modbus word orders and SunSpec scale factors, Redfish, RTU sensors); the other
    // profiles are proven against the device corpus, not served by the simulators.
    const used = [...new Set(inv.devices.map((d) => d.profile))].sort();
    expect(used).toEqual(['apc-rpdu2', 'carlo-gavazzi-em24-e1', 'chiller-bms', 'crah-bms', 'eastron-sdm630', 'raritan-px2', 'redfish-gpu-server', 'rfc1628-ups', 'schneider-pm5000', 'sunspec-inverter', 'wattnode-wnd', 'xy-md02-th']);
    for (const id of used) expect(PROFILES.get(id)?.class, id).not.toBe('generic');
    expect(inv.devices.find((d) => d.id === 'pdu-r01-a')).toMatchObject({ profile: 'apc-rpdu2', address: { protocol: 'snmp', port: 16161, community: 'public' } });
    expect(inv.devices.find((d) => d.id === 'meter-incomer-1')).toMatchObject({ profile: 'eastron-sdm630', address: { protocol: 'modbus', port: 15020, unit_id: 1 } });
  });

  it('live PUE stays green-ish: 1.12–1.30 on a winter and a spring day, ≤ 1.36 on a hot summer afternoon', () => {
    for (const start of [Date.UTC(2026, 0, 15) - 8 * H, Date.UTC(2026, 3, 15) - 8 * H]) {
      const day = dayOfPue(model, start);
      expect(Math.min(...day)).toBeGreaterThan(1.12);
      expect(Math.max(...day)).toBeLessThan(1.3);
    }
    expect(Math.max(...dayOfPue(model, Date.UTC(2026, 6, 20) - 8 * H))).toBeLessThan(1.36);
  });
});

describe("seeds/guian.yaml: a Gui'an-like site", () => {
  const { inv, model } = modelOf('guian.yaml');

  it('2 halls, ≈400 racks of every workload, ≈1,000 devices, PUE category 2, certificates declared', () => {
    expect(inv.halls).toHaveLength(2);
    expect(inv.racks.length).toBe(400);
    expect(inv.devices.length).toBeGreaterThanOrEqual(950);
    expect(inv.devices.length).toBeLessThanOrEqual(1100);
    const workloads = new Set(inv.racks.map((r) => r.sim?.workload));
    expect(workloads).toEqual(new Set(['general', 'gpu_training', 'storage', 'idle', 'empty']));
    expect(new Set(inv.racks.map((r) => r.status))).toEqual(new Set(['available', 'reserved', 'planned']));
    expect(inv.site.pue_it_level).toBe('pdu_out');
    expect(IT_LEVEL_CATEGORY[inv.site.pue_it_level!]).toBe(2);
    expect(inv.green_certificates.length).toBeGreaterThan(0);
    expect(kinds(model)).toMatchObject({ pdu: 476, gpu: 160, sensor: 324, ups: 8, chiller: 4, crah: 24, pv_inverter: 6, meter: 8 });
    const v3 = inv.devices.filter((d) => d.address.protocol === 'snmp' && d.address.version === '3');
    expect(v3.length).toBeGreaterThan(0);
    expect(v3.every((d) => d.address.protocol === 'snmp' && d.address.context === d.id && d.address.priv_protocol === 'aes')).toBe(true);
  });

  it('PUE sits in 1.12–1.40 through a winter and a summer day, and moves', () => {
    const winter = dayOfPue(model, Date.UTC(2026, 0, 15) - 8 * H);
    const summer = dayOfPue(model, Date.UTC(2026, 6, 20) - 8 * H);
    for (const day of [winter, summer]) {
      expect(Math.min(...day)).toBeGreaterThan(1.12);
      expect(Math.max(...day)).toBeLessThan(1.4);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(summer)).toBeGreaterThan(mean(winter) + 0.05);
  });
});

describe('seeds/cluster: the bureau view', () => {
  it('3–5 sites of the guian cluster with distinct ids and disjoint ports', () => {
    expect(CLUSTER.length).toBeGreaterThanOrEqual(3);
    expect(CLUSTER.length).toBeLessThanOrEqual(5);
    const ids = new Set<string>();
    const ports = new Map<number, string>();
    for (const rel of [...CLUSTER, 'guian.yaml', 'demo.yaml']) {
      const inv = load(rel);
      expect(inv.site.cluster).toBe('guian');
      expect(ids.has(inv.site.id)).toBe(false);
      ids.add(inv.site.id);
      for (const d of inv.devices) {
        const owner = ports.get(d.address.port);
        expect(owner === undefined || owner === inv.site.id, `port ${d.address.port} of ${inv.site.id} also used by ${owner}`).toBe(true);
        ports.set(d.address.port, inv.site.id);
      }
    }
  });
});
