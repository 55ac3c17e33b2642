import type { Reading } from '../../contract/messages.js';
import { profilePoints, type DeviceProfile } from '../../contract/profile.js';

/**
 * What readings a device's profile can produce, so a peer cannot invent series or change a
 * field's type (docs/trust-boundaries.md): the point names, the index tag each table or
 * collection declares (none for a scalar point), and the JSON type of the value as the agent's
 * decoders make it. A store such as InfluxDB fixes a field's type on its first write in a shard;
 * one forged string where a number belongs would make it refuse every later real value.
 */

/** JSON types of a reading's value; `counter` is a number or a decimal string (64-bit counters). */
export type ValueKind = 'number' | 'counter' | 'string' | 'boolean';

export type ProfileRefusalCode = 'DCIM_E_READING_NOT_IN_PROFILE' | 'DCIM_E_READING_INDEX_INVALID' | 'DCIM_E_READING_TYPE_MISMATCH';

export interface ProfileRefusal {
  code: ProfileRefusalCode;
  reason: string;
}

/** point name → index tag ('' for a scalar point) → the value kinds it may carry. */
export interface ProfileReadingRules {
  profile: string;
  points: ReadonlyMap<string, ReadonlyMap<string, ReadonlySet<ValueKind>>>;
}

const DECIMAL = /^\d{1,20}$/;

/** The raw point object at a profilePoints `where` path (`tables[0].columns[1]`). */
function pointAt(profile: DeviceProfile, where: string): Record<string, unknown> | undefined {
  let at: unknown = profile;
  for (const part of where.split('.')) {
    const m = /^([a-z_]+)\[(\d+)\]$/.exec(part);
    if (!m) return undefined;
    const list = (at as Record<string, unknown> | undefined)?.[m[1]!];
    at = Array.isArray(list) ? list[Number(m[2])] : undefined;
  }
  return typeof at === 'object' && at !== null ? (at as Record<string, unknown>) : undefined;
}

/**
 * The value kind the agent's decoders give a point (agent/decode/*): an enum map always yields a
 * state name; otherwise the protocol's value type decides.
 */
export function valueKind(protocol: DeviceProfile['protocol'], p: Record<string, unknown>): ValueKind {
  if (p.enum !== undefined) return 'string';
  const type = p.type;
  switch (protocol) {
    case 'snmp':
      if (type === 'string') return 'string';
      // Counter64 with identity scaling travels as a decimal string; a Counter32 answering it as a number.
      return type === 'counter64' ? 'counter' : 'number';
    case 'modbus':
      if (p.register === 'coil' || p.register === 'discrete' || p.bit !== undefined || type === 'bool') return 'boolean';
      if (type === 'string') return 'string';
      return type === 'int64' || type === 'uint64' ? 'counter' : 'number';
    case 'redfish':
      return type === 'string' || type === 'enum' ? 'string' : type === 'bool' ? 'boolean' : 'number';
    case 'prometheus':
      return p.label !== undefined ? 'string' : 'number';
  }
}

export function profileReadingRules(profile: DeviceProfile): ProfileReadingRules {
  const points = new Map<string, Map<string, Set<ValueKind>>>();
  for (const ref of profilePoints(profile)) {
    const raw = pointAt(profile, ref.where);
    const kind = raw ? valueKind(profile.protocol, raw) : undefined;
    let byTag = points.get(ref.name);
    if (!byTag) points.set(ref.name, (byTag = new Map()));
    const tag = ref.index_tag ?? '';
    let kinds = byTag.get(tag);
    if (!kinds) byTag.set(tag, (kinds = new Set()));
    // A point whose place cannot be resolved is not judged on its type (any kind allowed).
    if (kind) kinds.add(kind);
    else for (const k of ['number', 'counter', 'string', 'boolean'] as const) kinds.add(k);
  }
  return { profile: profile.id, points };
}

function kindMatches(kinds: ReadonlySet<ValueKind>, v: Reading['value']): boolean {
  switch (typeof v) {
    case 'number':
      return kinds.has('number') || kinds.has('counter');
    case 'boolean':
      return kinds.has('boolean');
    case 'string':
      return kinds.has('string') || (kinds.has('counter') && DECIMAL.test(v));
    default:
      return true;
  }
}

const describeKinds = (kinds: ReadonlySet<ValueKind>): string => [...kinds].map((k) => (k === 'counter' ? 'number or decimal string' : k)).join(' or ');

/** Undefined when the profile can produce this reading; else why not. */
export function checkAgainstProfile(rules: ProfileReadingRules, r: Reading): ProfileRefusal | undefined {
  const byTag = rules.points.get(r.point);
  if (!byTag) return { code: 'DCIM_E_READING_NOT_IN_PROFILE', reason: `profile ${rules.profile} has no point ${r.point}` };
  let tag = '';
  if (r.index) {
    const tags = Object.keys(r.index).filter((k) => r.index?.[k as keyof typeof r.index] !== undefined);
    if (tags.length > 1) return { code: 'DCIM_E_READING_INDEX_INVALID', reason: `${r.point} carries ${tags.length} index tags (${tags.join(', ')}); profile ${rules.profile} gives one at most` };
    tag = tags[0] ?? '';
  }
  const kinds = byTag.get(tag);
  // A table the agent could not read at all (a timeout, a missing collection) is reported as
  // one bad reading per column, without a row: nothing is stored from it.
  if (!kinds && tag === '' && r.value === null) return undefined;
  if (!kinds) {
    const expected = [...byTag.keys()].map((t) => (t === '' ? 'no index' : `index tag ${t}`)).join(' or ');
    return { code: 'DCIM_E_READING_INDEX_INVALID', reason: `${r.point} ${tag === '' ? 'without an index' : `with index tag ${tag}`}; profile ${rules.profile} gives it ${expected}` };
  }
  if (r.value !== null && !kindMatches(kinds, r.value)) {
    return { code: 'DCIM_E_READING_TYPE_MISMATCH', reason: `${r.point} is a ${describeKinds(kinds)} in profile ${rules.profile}, got ${typeof r.value}` };
  }
  return undefined;
}
