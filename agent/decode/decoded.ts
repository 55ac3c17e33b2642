import type { ErrorCode, Reading } from '../../contract/index.js';
import { toEngineering } from '../../shared/codec/scale.js';

/**
 * What a decoder returns for one point: an engineering value, or a failure with a code.
 * Failures are values: the reader turns them into `quality: 'bad'` readings and moves on.
 */
export type EngineeringValue = number | string | boolean;
export type DecodeFailure = { ok: false; error: ErrorCode; detail: string };
export type Decoded = { ok: true; value: EngineeringValue } | DecodeFailure;

export const decoded = (value: EngineeringValue): Decoded => ({ ok: true, value });
export const failed = (error: ErrorCode, detail: string): DecodeFailure => ({ ok: false, error, detail });

/** Longest string value a reading may carry (contract ReadingSchema). */
export const MAX_STRING_CHARS = 256;

/** The parts of a profile point that turn a raw value into an engineering one. */
export interface ValueSpec {
  scale: number;
  offset: number;
  sentinels?: readonly (number | string)[] | undefined;
  enum?: Readonly<Record<string, string>> | undefined;
  /** The data type's own "not available" pattern is a sentinel too (TYPE_SENTINELS). */
  type_sentinels?: boolean | undefined;
}

/**
 * The "not implemented / not available" pattern of each integer type, as the registers read
 * unsigned: the most negative value of a signed type, all ones of an unsigned one (SunSpec and
 * most Modbus vendors; SNMP agents that cannot measure). 0x7FFFFFFF is used only by some vendors:
 * a profile lists it in `sentinels` where the vendor's document says so. Floats use NaN, which
 * the decoders check apart.
 */
export const TYPE_SENTINELS: Readonly<Record<string, bigint>> = {
  int16: 0x8000n,
  uint16: 0xffffn,
  int32: 0x80000000n,
  uint32: 0xffffffffn,
  int64: 0x8000000000000000n,
  uint64: 0xffffffffffffffffn,
};

/** True when the point declares type sentinels and `unsigned` (the raw registers read unsigned) is its type's pattern. */
export function isTypeSentinel(spec: ValueSpec, type: string, unsigned: number | bigint | undefined): boolean {
  if (!spec.type_sentinels || unsigned === undefined) return false;
  const pattern = TYPE_SENTINELS[type];
  return pattern !== undefined && BigInt(unsigned) === pattern;
}

/**
 * True when `raw` is one of the profile's "not available" markers. A sentinel may be written
 * as the signed value (-1), the unsigned register pattern (0x8000 = 32768 for an int16, so
 * SunSpec's docs can be copied as is) or, for 64-bit counters, a decimal string.
 */
export function isSentinel(spec: ValueSpec, ...rawForms: readonly (number | bigint | string | undefined)[]): boolean {
  if (!spec.sentinels || spec.sentinels.length === 0) return false;
  for (const s of spec.sentinels) {
    for (const r of rawForms) {
      if (r === undefined) continue;
      if (typeof s === 'number' && typeof r === 'number' && s === r) return true;
      if (typeof s === 'number' && typeof r === 'bigint' && Number.isInteger(s) && BigInt(s) === r) return true;
      if (typeof s === 'string' && String(r) === s) return true;
    }
  }
  return false;
}

/**
 * The state name an enum map gives a raw key; own keys only, so device text such as
 * "constructor" or "__proto__" never resolves to something inherited from Object.
 */
export function enumName(map: Readonly<Record<string, string>>, key: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(map, key) ? map[key] : undefined;
}

/**
 * raw → engineering value with the one scale convention (shared/codec/scale.ts) and the
 * enum map. Identity scaling returns the raw value untouched: toEngineering rounds to 12
 * significant digits, which would corrupt large counters.
 *
 * 64-bit integers (SNMP Counter64, Modbus int64/uint64) arrive as bigint. With identity
 * scaling they always travel as decimal strings, whatever their size, so a point's JSON type
 * never changes over its life (docs/design.md §2: Counter64 travels as a decimal string). With a
 * scale they become a number: a scaled value is an approximation anyway.
 */
export function applyNumeric(raw: number | bigint, spec: ValueSpec, sf = 0): Decoded {
  if (spec.enum) {
    const key = String(raw);
    const name = enumName(spec.enum, key);
    if (name === undefined) return failed('DCIM_E_DECODE_VALUE', `value ${key} is not in the enum map`);
    return decoded(name);
  }
  const identity = spec.scale === 1 && spec.offset === 0 && sf === 0;
  if (typeof raw === 'bigint') {
    if (identity) return decoded(raw.toString());
    return finite(toEngineering(Number(raw), spec.scale, spec.offset, sf));
  }
  if (!Number.isFinite(raw)) return failed('DCIM_E_DECODE_VALUE', `raw value ${String(raw)} is not a finite number`);
  if (identity) return decoded(raw);
  return finite(toEngineering(raw, spec.scale, spec.offset, sf));
}

function finite(v: number): Decoded {
  return Number.isFinite(v) ? decoded(v) : failed('DCIM_E_DECODE_VALUE', `scaled value ${v} is not finite`);
}

/**
 * Build the reading for one point from its decode outcome. Every reading of every poll passes
 * here, so the object is written as a literal (no spreads, which V8 builds key by key), its keys
 * in ReadingSchema's order: the JSON published is the same as the schema's parse output.
 */
export function toReading(point: string, unit: Reading['unit'], d: Decoded, index?: Reading['index']): Reading {
  if (!d.ok) return badReading(point, unit, d.error, index);
  const value = d.value;
  if (index) return unit ? { point, value, unit, quality: 'good', index } : { point, value, quality: 'good', index };
  return unit ? { point, value, unit, quality: 'good' } : { point, value, quality: 'good' };
}

/** A bad reading for a point that could not be read at all (timeout, exception …). */
export function badReading(point: string, unit: Reading['unit'], error: ErrorCode, index?: Reading['index']): Reading {
  if (index) return unit ? { point, value: null, unit, quality: 'bad', index, error } : { point, value: null, quality: 'bad', index, error };
  return unit ? { point, value: null, unit, quality: 'bad', error } : { point, value: null, quality: 'bad', error };
}
