import { describe, expect, it } from 'vitest';
import type { DeviceProfile, ModbusProfile, RedfishProfile, SnmpProfile } from '../../contract/index.js';
import { decodeWords } from '../../shared/codec/modbus-words.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { decodeModbusValue } from '../../agent/decode/modbus-value.js';
import { decodeSnmpValue } from '../../agent/decode/snmp-value.js';
import { resolveJsonPointer } from '../../shared/codec/json-pointer.js';
import { decodeRedfishValue } from '../../agent/decode/redfish-value.js';
import { followLink } from '../../agent/decode/redfish-links.js';
import { fullRowIndex } from '../../shared/codec/table-index.js';
import { exponentTermOid } from '../../shared/codec/exponent.js';
import { SnmpType } from '../../agent/snmp/asn1-types.js';
import { encodeModbusImage, readImage } from '../../simulators/encode/modbus-registers.js';
import { encodeRedfishDocuments } from '../../simulators/encode/redfish-documents.js';
import { encodeSnmpValues, type SnmpServedValue } from '../../simulators/encode/snmp-values.js';
import type { DeviceQuantities, QuantityValue } from '../../simulators/model/quantities.js';

/**
 * Every catalogue test vector, run backwards: from the expected engineering value the simulator
 * must produce the raw data the vector names (the same words, varbind, JSON value; the same
 * exponent or scale factor). Where the vector shows a device choosing another exponent or scale
 * factor than the simulator would (Raritan digits 1, a SunSpec W_SF of 1), the simulator's own
 * raw data must still decode, with the agent's decoders, to the expected value.
 */
const profiles = loadProfiles();
type Vector = DeviceProfile['test_vectors'][number];
const q = (values: Record<string, QuantityValue>, rows: DeviceQuantities['rows'] = {}): DeviceQuantities => ({ values, rows });
/** Bools travel as 0/1 quantities (the model's convention). */
const quantity = (expected: Vector['expected']): QuantityValue => (typeof expected === 'boolean' ? (expected ? 1 : 0) : (expected as QuantityValue));

// The simulators serve no Prometheus exporter: those profiles' vectors run in the agent's decoders only.
const vectors = [...profiles.values()].filter((p) => p.protocol !== 'prometheus').flatMap((p) =>
  p.test_vectors.filter((v) => v.expected !== null).map((v) => ({ profile: p, v, label: `${p.id} ${v.point} = ${String(v.expected)}` })),
);

describe('encoders run the profile test vectors backwards', () => {
  it('has vectors of every protocol to run', () => {
    expect(new Set(vectors.map((x) => x.profile.protocol))).toEqual(new Set(['snmp', 'modbus', 'redfish']));
  });

  it.each(vectors)('$label', ({ profile, v }) => {
    if (profile.protocol === 'snmp') snmpBackwards(profile, v);
    else if (profile.protocol === 'modbus') modbusBackwards(profile, v);
    else redfishBackwards(profile, v);
  });
});

const wireTag: Record<SnmpServedValue['type'], number> = {
  integer: SnmpType.Integer,
  gauge32: SnmpType.Gauge32,
  counter32: SnmpType.Counter32,
  counter64: SnmpType.Counter64,
  timeticks: SnmpType.TimeTicks,
  octet_string: SnmpType.OctetString,
  object_identifier: SnmpType.OID,
};

function snmpBackwards(profile: SnmpProfile, v: Vector): void {
  const value = quantity(v.expected);
  const table = profile.tables.find((t) => t.columns.some((c) => c.name === v.point));
  const point = table ? table.columns.find((c) => c.name === v.point)! : profile.points.find((p) => p.name === v.point)!;
  const full = table ? fullRowIndex(table, 1) : undefined;
  const oid = table ? `${table.entry}.${(point as { column: number }).column}.${full}` : (point as { oid: string }).oid;
  const enc = table ? encodeSnmpValues(profile, q({}, { [table.index_tag]: new Map([[1, { [v.point]: value }]]) })) : encodeSnmpValues(profile, q({ [v.point]: value }));
  expect(enc.problems).toEqual([]);
  const served = enc.values.find((x) => x.oid === oid);
  expect(served, oid).toBeDefined();
  const exponents = (point.exponent_from ?? []).map((t) => enc.values.find((x) => x.oid === exponentTermOid(t, table, full))?.value);
  expect(enc.values).toHaveLength(1 + exponents.length);
  if (v.exponents === undefined || JSON.stringify(v.exponents) === JSON.stringify(exponents)) {
    expect(served!.value).toEqual(v.raw);
  } else {
    const wire = served!.type === 'counter64' ? Buffer.from((served!.value as bigint).toString(16).padStart(2, '0'), 'hex') : served!.value;
    expect(decodeSnmpValue(point, wireTag[served!.type], wire, exponents)).toEqual({ ok: true, value: v.expected });
  }
}

function modbusBackwards(profile: ModbusProfile, v: Vector): void {
  const p = profile.points.find((x) => x.name === v.point)!;
  // Other points get a value too, so the image is complete; only this one is checked.
  const all = Object.fromEntries(profile.points.map((x) => [x.name, x.name === v.point ? quantity(v.expected) : 0]));
  // SunSpec repeating blocks (model 160 modules) take their values from rows: this one in row 1.
  const tags = [...new Set(profile.points.flatMap((x) => (x.model?.repeat ? [x.model.repeat.index_tag] : [])))];
  const enc = encodeModbusImage(profile, q(all, Object.fromEntries(tags.map((t) => [t, new Map([[1, all], [2, all]])]))));
  expect([enc.missing, enc.problems]).toEqual([[], []]);
  const raw = Array.isArray(v.raw) ? v.raw : [Number(v.raw)];
  const read = readImage(enc.image, p.register, p.address, raw.length);
  if (!read.ok) throw new Error(`exception ${read.exception}`);
  if (p.bit !== undefined) {
    // Other bits of a status word belong to other points.
    expect(((read.words[0] as number) >> p.bit) & 1).toBe((((raw[0] as number) >> p.bit) & 1) as number);
    return;
  }
  const sfRead = p.scale_factor ? readImage(enc.image, p.scale_factor.register, p.scale_factor.address, 1) : undefined;
  const sf = sfRead?.ok ? decodeWords(sfRead.words, 'int16') : undefined;
  const vectorSf = v.sf === undefined ? undefined : v.sf > 0x7fff ? v.sf - 0x10000 : v.sf;
  if (vectorSf === sf) expect(read.words).toEqual(raw);
  else expect(decodeModbusValue(p, { words: read.words, sf: sf as number })).toEqual({ ok: true, value: v.expected });
}

function redfishBackwards(profile: RedfishProfile, v: Vector): void {
  const value = quantity(v.expected);
  const resource = profile.resources.find((r) => r.points.some((p) => p.name === v.point));
  if (resource) {
    const p = resource.points.find((x) => x.name === v.point)!;
    const enc = encodeRedfishDocuments(profile, q({ [v.point]: value }));
    expect(enc.problems).toEqual([]);
    expect(resolveJsonPointer(enc.documents.get(resource.path), p.pointer)).toEqual({ ok: true, value: v.raw });
    return;
  }
  const coll = profile.collections.find((c) => c.points.some((p) => p.name === v.point))!;
  const p = coll.points.find((x) => x.name === v.point)!;
  const enc = encodeRedfishDocuments(profile, q({}, { [coll.index_tag]: new Map([[1, { [v.point]: value }]]) }));
  expect(enc.problems).toEqual([]);
  let doc: unknown = enc.documents.get(`${coll.collection}/${coll.index_tag.toUpperCase()}1`);
  if (p.follow !== undefined) {
    const link = followLink(doc, p.follow);
    if (!link.ok) throw new Error(link.reason);
    doc = enc.documents.get(link.value);
  }
  const found = resolveJsonPointer(doc, p.pointer);
  expect(found).toEqual({ ok: true, value: v.raw });
  expect(decodeRedfishValue(p, found.ok ? found.value : undefined)).toEqual({ ok: true, value: v.expected });
}
