import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { NAME_PATTERN, unitForName, UNITS, type DeviceProfile } from '../../contract/index.js';
import { builtinProfileDir, loadProfiles, loadProfileTemplates, templateChain } from '../../profiles/catalogue.js';
import { allPoints, checkProfile } from '../../agent/profile-checks.js';
import { decodeVector } from '../agent/profile-vectors.js';
import { checkPoints, profilePointObjects } from '../../agent/plausibility/plausibility.js';
import { widensDefault } from '../../agent/plausibility/bounds.js';

/**
 * Invariants over every built-in profile (like zigbee-herdsman-converters' catalogue test). Adding a profile
 * adds it here automatically.
 */
const profiles = loadProfiles();
const all = [...profiles.values()];

/**
 * How a point turns raw data into a value, without its name and address: two points with the
 * same signature (voltage L1 and L2 of a meter) share one decode path, so one vector covers both.
 */
function decodeSignature(profile: DeviceProfile, name: string): string {
  const raw = rawPoints(profile).find((p) => p.name === name) ?? {};
  const { name: _n, oid: _o, address: _a, model: _mo, column: _c, description: _d, kpi: _k, unit: _u, precision: _p, counter_max: _m, pointer: _ptr, follow: _f, min: _lo, max: _hi, range_why: _w, live: _l, stuck_polls: _sp, ...how } = raw as Record<string, unknown>;
  return JSON.stringify(how, Object.keys(how).sort());
}

function rawPoints(profile: DeviceProfile): { name: string }[] {
  if (profile.protocol === 'modbus') return profile.points;
  if (profile.protocol === 'snmp') return [...profile.points, ...profile.tables.flatMap((t) => t.columns)];
  if (profile.protocol === 'prometheus') return [...profile.points, ...profile.tables.flatMap((t) => t.columns)];
  return [...profile.resources.flatMap((r) => r.points), ...profile.collections.flatMap((c) => c.points)];
}

describe('profile catalogue', () => {
  it('loads every device kind of issues 2 and 3', () => {
    expect([...profiles.keys()].sort()).toEqual(
      expect.arrayContaining([
        'apc-rpdu2',
        'carlo-gavazzi-em24-e1',
        'chiller-bms',
        'crah-bms',
        'eastron-sdm630',
        'raritan-px2',
        'redfish-gpu-server',
        'rfc1628-ups',
        'schneider-pm5000',
        'sunspec-inverter',
        'wattnode-wnd',
        'xy-md02-th',
      ]),
    );
  });

  it('covers every protocol, word order and Modbus register kind the contract offers', () => {
    const modbus = all.flatMap((p) => (p.protocol === 'modbus' ? p.points : []));
    expect(new Set(all.map((p) => p.protocol))).toEqual(new Set(['snmp', 'modbus', 'redfish', 'prometheus']));
    expect(new Set(modbus.filter((p) => p.type !== 'int16' && p.type !== 'uint16' && p.register !== 'coil' && p.register !== 'discrete').map((p) => p.order))).toEqual(
      new Set(['ABCD', 'CDAB']),
    );
    expect(new Set(modbus.map((p) => p.register))).toEqual(new Set(['holding', 'input', 'coil', 'discrete']));
    expect(modbus.some((p) => p.scale_factor)).toBe(true);
    expect(modbus.some((p) => p.type === 'int64')).toBe(true);
    expect(all.some((p) => p.protocol === 'snmp' && p.tables.some((t) => t.index_prefix !== undefined && t.columns.some((c) => c.exponent_from)))).toBe(true);
  });

  it('uses every template, and no template reaches into another protocol', () => {
    const templates = loadProfileTemplates();
    expect([...templates.keys()]).toEqual(expect.arrayContaining(['ups-mib']));
    const files = readdirSync(builtinProfileDir()).filter((f) => /\.ya?ml$/.test(f));
    const extended = new Set(files.flatMap((f) => templateChain(parse(readFileSync(join(builtinProfileDir(), f), 'utf8')), templates)));
    for (const id of templates.keys()) expect(extended.has(id), `template ${id} is extended by no profile`).toBe(true);
  });

  it('gives every SNMP device profile but the generic one a detection rule, every UPS that reads UPS-MIB the UPS-MIB probe, and every other UPS a probe of the MIB it reads', () => {
    for (const p of all) {
      if (p.protocol !== 'snmp' || p.id === 'generic-snmp') continue;
      expect(p.match, p.id).toBeDefined();
      if (p.class !== 'ups') continue;
      const probes = p.match?.probe?.map((x) => x.oid) ?? [];
      const oids = [...p.points.map((x) => x.oid), ...p.tables.map((t) => t.entry)];
      // Vendor-MIB UPS cards (PowerNet, PPC-MIB) serve no UPS-MIB: their probe is in the subtree they are read from.
      if (oids.some((o) => o.startsWith('1.3.6.1.2.1.33.'))) expect(probes, p.id).toContain('1.3.6.1.2.1.33.1.1.1');
      else expect(probes.some((probe) => oids.some((o) => o.startsWith(`${probe}.`))), p.id).toBe(true);
    }
    expect(['eaton-ups', 'huawei-ups', 'vertiv-liebert-ups', 'delta-ups', 'rfc1628-ups'].every((id) => profiles.has(id))).toBe(true);
  });

  it('names each file after its profile id, ids unique', () => {
    const files = readdirSync(builtinProfileDir()).filter((f) => /\.ya?ml$/.test(f));
    const stems = files.map((f) => basename(f).replace(/\.ya?ml$/, '')).sort();
    expect(stems).toEqual(all.map((p) => p.id).sort());
    expect(new Set(stems).size).toBe(stems.length);
  });

  describe.each(all.map((p) => [p.id, p] as const))('%s', (_id, profile) => {
    it('passes the agent profile checks', () => {
      expect(checkProfile(profile)).toEqual([]);
    });

    it('uses snake_case point names whose unit suffix matches the unit', () => {
      for (const pt of allPoints(profile)) {
        expect(pt.name).toMatch(NAME_PATTERN);
        expect(pt.unit, pt.name).toBe(unitForName(pt.name));
      }
    });

    it('has a test vector for every way its points decode', () => {
      const tested = new Set(profile.test_vectors.map((v) => decodeSignature(profile, v.point)));
      const untested = allPoints(profile).filter((pt) => !tested.has(decodeSignature(profile, pt.name)));
      expect(untested.map((pt) => pt.name)).toEqual([]);
    });

    it('has a test vector for every KPI point', () => {
      const tested = new Set(profile.test_vectors.map((v) => v.point));
      for (const pt of allPoints(profile).filter((x) => x.kpi)) expect(tested.has(pt.name), pt.name).toBe(true);
    });

    it.each(profile.test_vectors.map((v, i) => [i, v.point, v] as const))('vector %i (%s) decodes to its expected value', (_i, _p, v) => {
      const d = decodeVector(profile, v);
      if (v.expected === null) expect(d.ok).toBe(false);
      else expect(d).toEqual({ ok: true, value: v.expected });
    });

    it('declares plausibility checks over its own points, with units that can be compared', () => {
      const points = new Map(allPoints(profile).map((p) => [p.name, p]));
      for (const c of profile.checks ?? []) {
        for (const name of checkPoints(c)) expect(points.has(name), `${c.kind}: ${name}`).toBe(true);
        if (c.kind === 'power_vs_vi') {
          expect(['W', 'kW', 'VA'], c.power).toContain(points.get(c.power)?.unit);
          for (const v of [c.voltage].flat()) expect(points.get(v)?.unit, v).toBe('V');
          for (const a of [c.current].flat()) expect(points.get(a)?.unit, a).toBe('A');
        } else {
          const q = (name: string) => UNITS[points.get(name)?.unit ?? 'count'].quantity;
          for (const part of c.parts) expect(q(part), part).toBe(q(c.total));
        }
      }
    });

    it('gives ranges inside its units’ physical bounds, or says why not', () => {
      for (const p of profilePointObjects(profile)) {
        if (p.min !== undefined && p.max !== undefined) expect(p.min, p.name).toBeLessThan(p.max);
        if (widensDefault(p.unit, p.min, p.max)) expect((p as { range_why?: string }).range_why, `${p.name} widens its unit's bounds`).toBeTruthy();
      }
    });

    it('carries exponents only for exponent_from points and sf only for scale_factor points', () => {
      for (const v of profile.test_vectors) {
        if (v.exponents !== undefined) expect(profile.protocol, v.point).toBe('snmp');
        if (v.sf !== undefined) expect(profile.protocol === 'modbus' && profile.points.find((p) => p.name === v.point)?.scale_factor !== undefined, v.point).toBe(true);
      }
    });
  });
});
