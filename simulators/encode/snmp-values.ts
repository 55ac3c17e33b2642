import type { ExponentTerm, SnmpProfile } from '../../contract/index.js';
import { toRaw } from '../../shared/codec/scale.js';
import { exponentTermOid, MAX_EXPONENT } from '../../shared/codec/exponent.js';
import { fullRowIndex } from '../../shared/codec/table-index.js';
import type { DeviceQuantities, QuantityValue } from '../model/quantities.js';

/**
 * Encode a device's quantities into the varbinds its SNMP profile reads: the inverse of the
 * agent's decode (value = raw * scale * 10^exponent + offset; enum names back to their raw keys).
 * Pure.
 *
 * - Multi-part table indexes (Raritan `{pduId, outletId, sensorType}`) are rebuilt from the
 *   table's `index_prefix` / `index_suffix` around the row number the model gives.
 * - A point with `exponent_from` is served with its exponent objects too (Raritan
 *   `…SensorDecimalDigits`), like a device that keeps both in its MIB. The exponent follows the
 *   point's `precision` (a PX3 reports current with 3 digits): stable from poll to poll, as on a
 *   real PDU where DecimalDigits is configuration, and coarser only when the finer one would not
 *   fit the value's type.
 * - Energy counters (`counter_max`) wrap at their type's range like the device's register; other
 *   values clamp.
 */

/** SMIv2 wire types the simulator serves. */
export type SnmpWireType = 'integer' | 'counter32' | 'gauge32' | 'counter64' | 'octet_string' | 'timeticks' | 'object_identifier';

export interface SnmpServedValue {
  oid: string;
  type: SnmpWireType;
  /** Integers as numbers; Counter64 as bigint; strings as strings. */
  value: number | bigint | string;
}

export interface SnmpEncoding {
  /**
   * In profile order (each point followed by its exponent objects); a point the quantities lack
   * is absent (served as noSuchInstance). Not sorted: the endpoint orders OIDs.
   */
  values: SnmpServedValue[];
  /** Points that have a quantity which cannot be encoded (wrong kind, unknown enum name). */
  problems: string[];
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const UINT32 = 4294967296;
const UINT64 = 1n << 64n;

interface PointLike {
  name: string;
  type: SnmpProfile['points'][number]['type'];
  scale: number;
  offset: number;
  precision?: number | undefined;
  counter_max?: number | undefined;
  enum?: Record<string, string> | undefined;
  exponent_from?: ExponentTerm[] | undefined;
}

export function encodeSnmpValues(profile: SnmpProfile, q: DeviceQuantities): SnmpEncoding {
  const values: SnmpServedValue[] = [];
  const problems: string[] = [];
  const served = new Map<string, SnmpServedValue>();
  const push = (v: SnmpServedValue, point: string) => {
    const prev = served.get(v.oid);
    if (prev === undefined) {
      served.set(v.oid, v);
      values.push(v);
    } else if (prev.value !== v.value) {
      // Two points share an exponent object (one ENTITY-SENSOR scale for a row) but asked for different ones.
      problems.push(`${profile.id}: ${point}: ${v.oid} already served as ${String(prev.value)}, wanted ${String(v.value)}`);
    }
  };
  const add = (oid: string, point: PointLike, v: QuantityValue | undefined, termOid: (t: ExponentTerm) => string | undefined) => {
    if (v === undefined) return;
    const terms = point.type !== 'string' && typeof v === 'number' ? (point.exponent_from ?? []) : [];
    const exp = terms.length > 0 && typeof v === 'number' ? chooseExponent(point, v, terms) : { exponent: 0, termValues: [] as number[] };
    if (typeof exp === 'string') {
      problems.push(`${profile.id}: ${point.name}: ${exp}`);
      return;
    }
    const r = encodeSnmpValue(point, v, exp.exponent);
    if (typeof r === 'string') {
      problems.push(`${profile.id}: ${point.name}: ${r}`);
      return;
    }
    push({ oid, ...r }, point.name);
    terms.forEach((t, i) => {
      const at = termOid(t);
      const tv = exp.termValues[i] as number;
      if (at === undefined) problems.push(`${profile.id}: ${point.name}: exponent term ${i + 1} has no OID`);
      // Non-negative exponents are served as Unsigned32 (Raritan DecimalDigits), others as INTEGER.
      else push({ oid: at, type: tv >= 0 ? 'gauge32' : 'integer', value: tv }, point.name);
    });
  };
  for (const p of profile.points) add(p.oid, p, q.values[p.name], (t) => exponentTermOid(t));
  for (const t of profile.tables) {
    const rows = q.rows[t.index_tag];
    if (!rows) continue;
    const sorted = [...rows].sort((a, b) => a[0] - b[0]);
    for (const c of t.columns) {
      for (const [index, row] of sorted) {
        const full = fullRowIndex(t, index);
        add(`${t.entry}.${c.column}.${full}`, c, row[c.name], (term) => exponentTermOid(term, t, full));
      }
    }
  }
  return { values, problems };
}

/** Largest raw value each wire type carries; the exponent coarsens until a value fits. */
const RAW_RANGE: Record<PointLike['type'], [number, number] | undefined> = {
  integer: [INT32_MIN, INT32_MAX],
  enum: [INT32_MIN, INT32_MAX],
  gauge: [0, UINT32 - 1],
  timeticks: [0, UINT32 - 1],
  counter32: [0, UINT32 - 1],
  counter64: undefined,
  string: undefined,
};

/**
 * The exponent a device would report for this value, and the raw values of the terms that make
 * it (value = raw * scale * 10^exponent + offset). Starts at the resolution `precision` asks for.
 */
export function chooseExponent(point: PointLike, v: number, terms: readonly ExponentTerm[]): { exponent: number; termValues: number[] } | string {
  const target = point.precision !== undefined ? -point.precision - Math.round(Math.log10(Math.abs(point.scale))) : 0;
  const range = RAW_RANGE[point.type];
  let fallback: { exponent: number; termValues: number[] } | undefined;
  for (let e = target; e <= MAX_EXPONENT; e++) {
    const termValues = solveTerms(terms, e);
    if (!termValues) continue;
    fallback ??= { exponent: e, termValues };
    const raw = Math.round(toRaw(v, point.scale, point.offset, e));
    // A counter keeps its resolution and wraps, as the device's register does.
    if (!range || point.counter_max !== undefined || (raw >= range[0] && raw <= range[1])) return { exponent: e, termValues };
  }
  return fallback ?? `no exponent term values give 10^${target} or coarser`;
}

/**
 * Term values whose Σ factor * max(v + bias, at_least) is `exponent`: every term but one sits at
 * its neutral value (v = -bias: ENTITY-SENSOR scale "units"), one carries the exponent — the last
 * with |factor| 1 (digits, precision) when it can, else another (a precision clamped at 0 cannot
 * make 10^3, the scale "kilo" can); undefined when the exponent cannot be expressed.
 */
function solveTerms(terms: readonly ExponentTerm[], exponent: number): number[] | undefined {
  const neutral = terms.map((t) => 0 - t.bias); // +0, not -0, for a term without bias
  if (exponent === 0) return neutral;
  const last = terms.findLastIndex((t) => Math.abs(t.factor) === 1);
  const order = [...(last >= 0 ? [last] : []), ...terms.map((_, i) => terms.length - 1 - i).filter((i) => i !== last)];
  for (const free of order) {
    const t = terms[free] as ExponentTerm;
    if (t.factor === 0 || exponent % t.factor !== 0) continue;
    const shift = exponent / t.factor;
    if (t.at_least !== undefined && shift < t.at_least) continue;
    const values = [...neutral];
    values[free] = shift - t.bias;
    return values;
  }
  return undefined;
}

/** One point: a wire type and value, or the reason it cannot be encoded. */
export function encodeSnmpValue(point: PointLike, v: QuantityValue, exponent = 0): Omit<SnmpServedValue, 'oid'> | string {
  if (point.type === 'string') {
    if (point.enum === undefined) return { type: 'octet_string', value: String(v) };
    // A named string (UPS-MIB's alarm descriptions are OBJECT IDENTIFIERs naming the alarm): serve its key.
    const key = Object.entries(point.enum).find(([, name]) => name === v)?.[0];
    if (key === undefined) return `no raw value maps to ${JSON.stringify(v)}`;
    return /^\d+(\.\d+)+$/.test(key) ? { type: 'object_identifier', value: key } : { type: 'octet_string', value: key };
  }
  let raw: number;
  if (typeof v === 'string') {
    const key = Object.entries(point.enum ?? {}).find(([, name]) => name === v)?.[0];
    if (key === undefined) return `no raw value maps to ${JSON.stringify(v)}`;
    raw = Number(key);
  } else {
    raw = Math.round(toRaw(v, point.scale, point.offset, exponent));
  }
  if (!Number.isFinite(raw)) return `value ${String(v)} has no finite raw value`;
  const counter = point.counter_max !== undefined;
  switch (point.type) {
    case 'integer':
    case 'enum':
      // An INTEGER energy counter (APC tenths of kWh) rolls over to 0 after 2^31 - 1.
      return { type: 'integer', value: counter ? wrap(raw, INT32_MAX + 1) : Math.min(INT32_MAX, Math.max(INT32_MIN, raw)) };
    case 'gauge':
      // Raritan's Unsigned32 Wh "will wrap around".
      return { type: 'gauge32', value: counter ? wrap(raw, UINT32) : Math.min(UINT32 - 1, Math.max(0, raw)) };
    case 'timeticks':
      return { type: 'timeticks', value: Math.min(UINT32 - 1, Math.max(0, raw)) };
    case 'counter32':
      // Counters wrap, as on the device (RFC 2578 §7.1.6).
      return { type: 'counter32', value: wrap(raw, UINT32) };
    case 'counter64':
      return { type: 'counter64', value: ((BigInt(raw) % UINT64) + UINT64) % UINT64 };
  }
}

function wrap(raw: number, modulus: number): number {
  return ((raw % modulus) + modulus) % modulus;
}

/**
 * The object OIDs a profile names (an instance's parent: a scalar's OID without its last arc, a
 * table column, an exponent object's column). A simulator registers them all, so a point without
 * a value reads noSuchInstance ("object known, instance absent") rather than noSuchObject.
 */
export function snmpObjectOids(profile: SnmpProfile): string[] {
  const parent = (oid: string) => oid.slice(0, oid.lastIndexOf('.'));
  const out: string[] = [];
  for (const p of profile.points) {
    out.push(parent(p.oid));
    for (const t of p.exponent_from ?? []) if (t.oid !== undefined) out.push(parent(t.oid));
  }
  for (const t of profile.tables) {
    for (const c of t.columns) {
      out.push(`${t.entry}.${c.column}`);
      for (const term of c.exponent_from ?? []) {
        if (term.oid !== undefined) out.push(parent(term.oid));
        else if (term.column !== undefined) out.push(`${term.entry ?? t.entry}.${term.column}`);
      }
    }
  }
  return [...new Set(out)];
}

/** MIB-II system group (RFC 3418): every SNMP device answers it; agents match profiles on sysObjectID. */
export const SYSTEM_GROUP = {
  sys_descr: '1.3.6.1.2.1.1.1',
  sys_object_id: '1.3.6.1.2.1.1.2',
  sys_up_time: '1.3.6.1.2.1.1.3',
  sys_name: '1.3.6.1.2.1.1.5',
} as const;

export function systemGroupValues(profile: SnmpProfile, device: string, uptime_ms: number): SnmpServedValue[] {
  const values: SnmpServedValue[] = [{ oid: `${SYSTEM_GROUP.sys_descr}.0`, type: 'octet_string', value: `${profile.vendor} ${profile.model} (dcim-pulse simulator)` }];
  const sysObjectId = profile.match?.sys_object_id?.[0];
  if (sysObjectId !== undefined) values.push({ oid: `${SYSTEM_GROUP.sys_object_id}.0`, type: 'object_identifier', value: sysObjectId });
  values.push({ oid: `${SYSTEM_GROUP.sys_up_time}.0`, type: 'timeticks', value: Math.floor(Math.max(0, uptime_ms) / 10) % UINT32 });
  values.push({ oid: `${SYSTEM_GROUP.sys_name}.0`, type: 'octet_string', value: device });
  return values;
}
