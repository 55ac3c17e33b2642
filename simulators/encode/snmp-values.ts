import { toRaw, type SnmpProfile } from '../../contract/index.js';
import type { DeviceQuantities, QuantityValue } from '../model/quantities.js';

/**
 * Encode a device's quantities into the varbinds its SNMP profile reads: the inverse of the
 * agent's decode (value = raw * scale + offset; enum names back to their raw keys). Pure.
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
  /** In profile order; a point the quantities lack is absent (served as noSuchInstance). */
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
  enum?: Record<string, string> | undefined;
}

export function encodeSnmpValues(profile: SnmpProfile, q: DeviceQuantities): SnmpEncoding {
  const values: SnmpServedValue[] = [];
  const problems: string[] = [];
  const add = (oid: string, point: PointLike, v: QuantityValue | undefined) => {
    if (v === undefined) return;
    const r = encodeSnmpValue(point, v);
    if (typeof r === 'string') problems.push(`${profile.id}: ${point.name}: ${r}`);
    else values.push({ oid, ...r });
  };
  for (const p of profile.points) add(p.oid, p, q.values[p.name]);
  for (const t of profile.tables) {
    const rows = q.rows[t.index_tag];
    if (!rows) continue;
    for (const c of t.columns) {
      for (const [index, row] of [...rows].sort((a, b) => a[0] - b[0])) add(`${t.entry}.${c.column}.${index}`, c, row[c.name]);
    }
  }
  return { values, problems };
}

/** One point: a wire type and value, or the reason it cannot be encoded. */
export function encodeSnmpValue(point: PointLike, v: QuantityValue): Omit<SnmpServedValue, 'oid'> | string {
  if (point.type === 'string') return { type: 'octet_string', value: String(v) };
  let raw: number;
  if (typeof v === 'string') {
    const key = Object.entries(point.enum ?? {}).find(([, name]) => name === v)?.[0];
    if (key === undefined) return `no raw value maps to ${JSON.stringify(v)}`;
    raw = Number(key);
  } else {
    raw = Math.round(toRaw(v, point.scale, point.offset));
  }
  if (!Number.isFinite(raw)) return `value ${String(v)} has no finite raw value`;
  switch (point.type) {
    case 'integer':
    case 'enum':
      return { type: 'integer', value: Math.min(INT32_MAX, Math.max(INT32_MIN, raw)) };
    case 'gauge':
      return { type: 'gauge32', value: Math.min(UINT32 - 1, Math.max(0, raw)) };
    case 'timeticks':
      return { type: 'timeticks', value: Math.min(UINT32 - 1, Math.max(0, raw)) };
    case 'counter32':
      // Counters wrap, as on the device (RFC 2578 §7.1.6).
      return { type: 'counter32', value: ((raw % UINT32) + UINT32) % UINT32 };
    case 'counter64':
      return { type: 'counter64', value: ((BigInt(raw) % UINT64) + UINT64) % UINT64 };
  }
}

/**
 * The object OIDs a profile names (an instance's parent: a scalar's OID without `.0`, a table
 * column). A simulator registers them all, so a point without a value reads noSuchInstance
 * ("object known, instance absent") rather than noSuchObject.
 */
export function snmpObjectOids(profile: SnmpProfile): string[] {
  const parent = (oid: string) => oid.slice(0, oid.lastIndexOf('.'));
  return [...new Set([...profile.points.map((p) => parent(p.oid)), ...profile.tables.flatMap((t) => t.columns.map((c) => `${t.entry}.${c.column}`))])];
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
  const sysObjectId = profile.match?.sys_object_id[0];
  if (sysObjectId !== undefined) values.push({ oid: `${SYSTEM_GROUP.sys_object_id}.0`, type: 'object_identifier', value: sysObjectId });
  values.push({ oid: `${SYSTEM_GROUP.sys_up_time}.0`, type: 'timeticks', value: Math.floor(Math.max(0, uptime_ms) / 10) % UINT32 });
  values.push({ oid: `${SYSTEM_GROUP.sys_name}.0`, type: 'octet_string', value: device });
  return values;
}
