import { describe, expect, it } from 'vitest';
import { RedfishProfileSchema, type RedfishProfile } from '../../../contract/index.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { resolveJsonPointer } from '../../../shared/codec/json-pointer.js';
import { collectionMembers, followLink, linkPath, matchesWhere, memberIndex } from '../../../agent/decode/redfish-links.js';
import { decodeRedfishValue } from '../../../agent/decode/redfish-value.js';
import { encodeRedfishDocuments, encodeRedfishValue, followTarget, type JsonObject } from '../../../simulators/encode/redfish-documents.js';
import type { DeviceQuantities, QuantityValue } from '../../../simulators/model/quantities.js';

const gpuServer = loadProfiles().get('redfish-gpu-server') as RedfishProfile;
const q = (values: Record<string, QuantityValue>, rows: DeviceQuantities['rows'] = {}): DeviceQuantities => ({ values, rows });

const gpuRow = (i: number) => ({
  gpu_model: 'NVIDIA H100 80GB HBM3',
  gpu_power_w: 650 + i,
  gpu_utilisation_pct: 90 + i / 10,
  gpu_temp_c: 70 + i,
  gpu_memory_total_mib: 81559,
  gpu_memory_utilisation_pct: 80.5,
});
const server = q(
  { active_power_w: 6480.5, energy_kwh: 12_345.678 },
  { gpu: new Map(Array.from({ length: 8 }, (_, i) => [i + 1, gpuRow(i + 1)])), cpu: new Map([1, 2].map((c) => [c, { cpu_model: 'AMD EPYC 9654 96-Core Processor' }])) },
);

/** Every @odata.id inside a document except its own. */
function linksIn(doc: JsonObject | undefined): string[] {
  const out: string[] = [];
  const gather = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(gather);
    else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k !== '@odata.id') gather(x);
        else if (x !== doc?.['@odata.id']) out.push(x as string);
      }
    }
  };
  gather(doc);
  return out;
}

/** A reader's walk (what the agent's Redfish reader does), with the agent's pure helpers. */
function read(profile: RedfishProfile, docs: Map<string, JsonObject>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const decode = (name: string, p: { pointer: string; type: 'number' | 'string' | 'bool' | 'enum'; scale: number; offset: number }, doc: unknown) => {
    const v = resolveJsonPointer(doc, p.pointer);
    const d = decodeRedfishValue(p, v.ok ? v.value : undefined);
    out[name] = d.ok ? d.value : d.error;
  };
  for (const r of profile.resources) for (const p of r.points) decode(p.name, p, docs.get(r.path));
  for (const c of profile.collections) {
    const members = collectionMembers(docs.get(c.collection));
    if (!members.ok) throw new Error(members.reason);
    for (const path of members.value) {
      const member = docs.get(path);
      if (!matchesWhere(member, c.where)) continue;
      const index = memberIndex(member, c.index_pointer);
      if (!index.ok) throw new Error(index.reason);
      for (const p of c.points) {
        let doc: unknown = member;
        if (p.follow !== undefined) {
          const link = followLink(member, p.follow);
          if (!link.ok) throw new Error(link.reason);
          doc = docs.get(link.value);
        }
        decode(`${p.name}[${index.value}]`, p, doc);
      }
    }
  }
  return out;
}

describe('Redfish documents of a GPU server', () => {
  const enc = encodeRedfishDocuments(gpuServer, server, { name: 'gpu-h1-r07-s1' });

  it('reads back every quantity through the profile, as the agent will', () => {
    expect(enc.problems).toEqual([]);
    const got = read(gpuServer, enc.documents);
    expect(got).toMatchObject({ active_power_w: 6480.5, energy_kwh: 12_345.678, 'gpu_model[GPU1]': 'NVIDIA H100 80GB HBM3', 'gpu_power_w[GPU8]': 658, 'gpu_temp_c[GPU3]': 73, 'gpu_utilisation_pct[GPU5]': 90.5, 'gpu_memory_total_mib[GPU2]': 81559, 'gpu_memory_utilisation_pct[GPU7]': 80.5, 'cpu_model[CPU2]': 'AMD EPYC 9654 96-Core Processor' });
    // 2 chassis points + 8 GPUs × 6 + 2 CPUs × 1, and no GPU counted as a CPU or the reverse.
    expect(Object.keys(got)).toHaveLength(2 + 8 * 6 + 2);
  });

  it('is browsable from the service root: every document shaped, every link resolving', () => {
    for (const [path, doc] of enc.documents) {
      expect(doc['@odata.id']).toBe(path);
      expect(doc['@odata.type']).toMatch(/^#[A-Za-z]+(\.v\d+_\d+_\d+)?\.[A-Za-z]+$/);
      expect(typeof doc.Id).toBe('string');
      expect(typeof doc.Name).toBe('string');
      expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
    }
    // Every @odata.id anywhere inside a document names a document.
    for (const doc of enc.documents.values()) for (const l of linksIn(doc)) expect(enc.documents.has(l), l).toBe(true);
    // …and every document is reachable from the root.
    const seen = new Set<string>();
    const walk = (path: string) => {
      if (seen.has(path)) return;
      seen.add(path);
      linksIn(enc.documents.get(path)).forEach(walk);
    };
    walk('/redfish/v1');
    expect([...enc.documents.keys()].filter((p) => !seen.has(p))).toEqual([]);
  });

  it('serves the standard resource types and collection counts', () => {
    const doc = (p: string) => enc.documents.get(p)!;
    expect(doc('/redfish/v1')).toMatchObject({ '@odata.type': '#ServiceRoot.v1_17_0.ServiceRoot', Chassis: { '@odata.id': '/redfish/v1/Chassis' }, Systems: { '@odata.id': '/redfish/v1/Systems' } });
    expect(doc('/redfish/v1/Chassis/1')).toMatchObject({ '@odata.type': '#Chassis.v1_25_0.Chassis', Name: 'gpu-h1-r07-s1', EnvironmentMetrics: { '@odata.id': '/redfish/v1/Chassis/1/EnvironmentMetrics' } });
    expect(doc('/redfish/v1/Systems/1/Processors')).toMatchObject({ '@odata.type': '#ProcessorCollection.ProcessorCollection', 'Members@odata.count': 10 });
    expect(doc('/redfish/v1/Systems/1/Processors/GPU4')).toMatchObject({
      '@odata.type': '#Processor.v1_20_0.Processor',
      Id: 'GPU4',
      ProcessorType: 'GPU',
      Model: 'NVIDIA H100 80GB HBM3',
      Metrics: { '@odata.id': '/redfish/v1/Systems/1/Processors/GPU4/ProcessorMetrics' },
      EnvironmentMetrics: { '@odata.id': '/redfish/v1/Systems/1/Processors/GPU4/EnvironmentMetrics' },
      MemorySummary: { TotalMemorySizeMiB: 81559, Metrics: { '@odata.id': '/redfish/v1/Systems/1/Processors/GPU4/MemorySummary/MemoryMetrics' } },
    });
    expect(doc('/redfish/v1/Systems/1/Processors/GPU4/ProcessorMetrics')['@odata.type']).toBe('#ProcessorMetrics.v1_6_4.ProcessorMetrics');
    expect(doc('/redfish/v1/Systems/1/Processors/GPU4/MemorySummary/MemoryMetrics')['@odata.type']).toBe('#MemoryMetrics.v1_7_3.MemoryMetrics');
    expect(enc.documents.has('/redfish/v1/Systems/1/Processors/GPU4/MemorySummary')).toBe(false);
  });

  it('publishes null where the model has no reading, which the agent reads as unavailable', () => {
    const e = encodeRedfishDocuments(gpuServer, q({ active_power_w: 5000 }, { gpu: new Map([[1, { gpu_model: 'Huawei Ascend 910B' }]]) }));
    expect(e.problems).toEqual([]);
    const got = read(gpuServer, e.documents);
    expect(got).toMatchObject({ active_power_w: 5000, energy_kwh: 'DCIM_E_VALUE_UNAVAILABLE', 'gpu_model[GPU1]': 'Huawei Ascend 910B', 'gpu_power_w[GPU1]': 'DCIM_E_VALUE_UNAVAILABLE' });
  });

  it('reports quantities it cannot publish and writes null instead', () => {
    const e = encodeRedfishDocuments(gpuServer, q({ active_power_w: Number.NaN, energy_kwh: 'lots' }));
    expect(e.problems).toEqual([expect.stringMatching(/active_power_w: value NaN has no finite raw value/), expect.stringMatching(/energy_kwh: "lots" is not a number/)]);
    expect(resolveJsonPointer(e.documents.get('/redfish/v1/Chassis/1/EnvironmentMetrics'), '/PowerWatts/Reading')).toEqual({ ok: true, value: null });
  });
});

describe('Redfish documents: other profile shapes', () => {
  const profile = RedfishProfileSchema.parse({
    id: 'odd',
    class: 'gpu',
    vendor: 'test',
    model: 'test',
    protocol: 'redfish',
    resources: [{ path: '/redfish/v1/Chassis/HGX_Baseboard_0/Sensors/Inlet', points: [{ name: 'weird', pointer: '/Oem/a~1b/__proto__', type: 'number' }] }],
    collections: [
      {
        collection: '/redfish/v1/Systems/HGX_Baseboard_0/Processors',
        where: { pointer: '/ProcessorType', equals: 'GPU' },
        index_tag: 'gpu',
        index_pointer: '/Location/PartLocation/LocationOrdinalValue',
        points: [
          { name: 'healthy', pointer: '/Status/Health', type: 'enum', enum: { '0': 'ok', '1': 'warning' } },
          { name: 'busy', pointer: '/Oem/Vendor/Busy', type: 'bool' },
          { name: 'sm_clock', follow: '/Oem/Vendor/Clocks', pointer: '/SMClockMHz', type: 'number', scale: 0.001 },
        ],
      },
    ],
    test_vectors: [{ point: 'weird', raw: 1, expected: 1 }],
  }) as RedfishProfile;

  it('writes escaped and hostile pointer tokens as plain data', () => {
    const e = encodeRedfishDocuments(profile, q({ weird: 7 }));
    const doc = e.documents.get('/redfish/v1/Chassis/HGX_Baseboard_0/Sensors/Inlet')!;
    expect(resolveJsonPointer(doc, '/Oem/a~1b/__proto__')).toEqual({ ok: true, value: 7 });
    expect(Object.getPrototypeOf((doc.Oem as JsonObject)['a/b'])).toBe(Object.prototype);
    expect(JSON.parse(JSON.stringify(doc)).Oem['a/b'].__proto__).toBe(7);
  });

  it('puts the row index where index_pointer says, and follows links under Oem', () => {
    // Status/Health replaces the "OK" every member carries with the profile's raw enum value.
    const e = encodeRedfishDocuments(profile, q({}, { gpu: new Map([[3, { healthy: 'warning', busy: 1, sm_clock: 1.98 }]]) }));
    const member = e.documents.get('/redfish/v1/Systems/HGX_Baseboard_0/Processors/GPU3')!;
    expect(memberIndex(member, '/Location/PartLocation/LocationOrdinalValue')).toEqual({ ok: true, value: '3' });
    expect(resolveJsonPointer(member, '/Status/Health')).toEqual({ ok: true, value: 1 });
    expect(resolveJsonPointer(member, '/Oem/Vendor/Busy')).toEqual({ ok: true, value: true });
    const link = followLink(member, '/Oem/Vendor/Clocks');
    expect(link).toEqual({ ok: true, value: '/redfish/v1/Systems/HGX_Baseboard_0/Processors/GPU3/Oem/Vendor/Clocks' });
    expect(resolveJsonPointer(e.documents.get(link.ok ? link.value : ''), '/SMClockMHz')).toEqual({ ok: true, value: 1980 });
    expect(e.problems).toEqual([]);
  });

  it.each([
    ['/Metrics', 'Processor', '/m/Processor/ProcessorMetrics'],
    ['/EnvironmentMetrics', 'Processor', '/m/Processor/EnvironmentMetrics'],
    ['/MemorySummary/Metrics', 'Processor', '/m/Processor/MemorySummary/MemoryMetrics'],
    ['', 'Processor', undefined],
    ['/a~1b', 'Processor', undefined],
    ['/../x', 'Processor', undefined],
  ])('followTarget(%j)', (follow, owner, expected) => {
    expect(followTarget('/m/Processor', owner, follow)).toBe(expected);
  });

  it.each([
    ['number with scale', { type: 'number' as const, scale: 0.001, offset: 0 }, 1.98, { ok: true, value: 1980 }],
    ['no binary noise', { type: 'number' as const, scale: 1, offset: 0 }, 0.1 + 0.2, { ok: true, value: 0.3 }],
    ['string', { type: 'string' as const, scale: 1, offset: 0 }, 910, { ok: true, value: '910' }],
    ['bool from 0', { type: 'bool' as const, scale: 1, offset: 0 }, 0, { ok: true, value: false }],
    ['enum', { type: 'enum' as const, scale: 1, offset: 0, enum: { '2': 'on' } }, 'on', { ok: true, value: 2 }],
    ['enum unknown', { type: 'enum' as const, scale: 1, offset: 0, enum: { '2': 'on' } }, 'off', { ok: false, problem: 'no raw value maps to "off"' }],
    ['missing', { type: 'number' as const, scale: 1, offset: 0 }, undefined, { ok: true, value: null }],
  ])('encodeRedfishValue: %s', (_name, point, v, expected) => {
    expect(encodeRedfishValue(point, v)).toEqual(expected);
  });

  it('never links outside the service', () => {
    const e = encodeRedfishDocuments(gpuServer, server);
    for (const doc of e.documents.values()) {
      for (const [, v] of Object.entries(doc)) {
        if (v !== null && typeof v === 'object' && !Array.isArray(v) && '@odata.id' in v) expect(linkPath(v).ok).toBe(true);
      }
    }
  });
});
