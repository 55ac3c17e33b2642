import type { SnmpPoint } from '../../contract/index.js';
import { isVarbindException, snmpTypeName, SnmpType } from '../snmp/asn1-types.js';
import { applyNumeric, decoded, enumName, failed, isSentinel, isTypeSentinel, MAX_STRING_CHARS, type DecodeFailure, type Decoded, type ValueSpec } from './decoded.js';
import { exponentOf } from '../../shared/codec/exponent.js';

/**
 * Varbind (type tag + value as net-snmp returns it) → engineering value. Pure.
 *
 * Accepted wire types per profile type. Agents are lenient here because real devices are:
 * Huawei's UPS2000 answers INTEGER objects as Gauge32, some agents expose counters as
 * Gauge32, and a few serve numbers as text ("23.5"). A type outside the row is
 * DCIM_E_SNMP_BAD_TYPE.
 *   integer, gauge, enum   Integer, Gauge32, Counter32, TimeTicks, numeric OctetString
 *   counter32              Counter32, Gauge32, Integer (≥ 0)
 *   counter64              Counter64 (BER bytes as a Buffer), Counter32, Gauge32
 *   timeticks              TimeTicks, Gauge32, Counter32, Integer (≥ 0), hundredths of a second
 *   string                 OctetString, OID, IpAddress, and any number (as text)
 *
 * Points with `exponent_from` (Raritan DecimalDigits, ENTITY-SENSOR scale/precision) take the raw
 * values of their exponent terms as `exponents`, in term order (read them with exponentVarbind).
 */
export type SnmpValueSpec = ValueSpec & { type: SnmpPoint['type']; exponent_from?: SnmpPoint['exponent_from'] };

const NUMERIC_TEXT = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/;
const UINT32_TAGS: readonly number[] = [SnmpType.Counter32, SnmpType.Gauge32, SnmpType.TimeTicks];

export function decodeSnmpValue(spec: SnmpValueSpec, type: number, value: unknown, exponents?: readonly unknown[]): Decoded {
  if (isVarbindException(type)) return failed('DCIM_E_SNMP_NO_SUCH_OBJECT', snmpTypeName(type));
  switch (spec.type) {
    case 'string':
      return decodeString(spec, type, value);
    case 'counter64':
      return decodeCounter64(spec, type, value, exponents);
    case 'counter32':
    case 'timeticks':
      if (UINT32_TAGS.includes(type) || (type === SnmpType.Integer && isInt(value) && value >= 0)) return numeric(spec, value as number, exponents);
      return badType(spec, type);
    case 'integer':
    case 'gauge':
    case 'enum': {
      if (type === SnmpType.Integer || UINT32_TAGS.includes(type)) return numeric(spec, value, exponents);
      if (type === SnmpType.OctetString) {
        const text = octetsToText(value);
        if (text !== undefined && NUMERIC_TEXT.test(text)) {
          if (isSentinel(spec, text.trim())) return failed('DCIM_E_VALUE_UNAVAILABLE', `sentinel ${text.trim()}`);
          return numeric(spec, Number(text), exponents);
        }
      }
      return badType(spec, type);
    }
  }
}

/**
 * The raw value of one exponent term's varbind: an integer served as INTEGER, Unsigned32/Gauge32
 * (Raritan DecimalDigits) or, leniently, Counter32. Anything else cannot carry an exponent.
 */
export function exponentVarbind(type: number, value: unknown): number | DecodeFailure {
  if (isVarbindException(type)) return { ok: false, error: 'DCIM_E_SNMP_NO_SUCH_OBJECT', detail: `exponent object: ${snmpTypeName(type)}` };
  if ((type === SnmpType.Integer || UINT32_TAGS.includes(type)) && isInt(value)) return value;
  return { ok: false, error: 'DCIM_E_SNMP_BAD_TYPE', detail: `exponent object is ${snmpTypeName(type)} ${describe(value)}, expected an integer` };
}

/** The scale-factor exponent a point's exponent_from terms give, or a failure to report. */
function pointExponent(spec: SnmpValueSpec, exponents: readonly unknown[] | undefined): number | Decoded {
  if (!spec.exponent_from || spec.exponent_from.length === 0) return 0;
  const e = exponentOf(spec.exponent_from, exponents);
  return e.ok ? e.exponent : failed(e.error, e.detail);
}

function numeric(spec: SnmpValueSpec, value: unknown, exponents?: readonly unknown[]): Decoded {
  if (typeof value !== 'number' || !Number.isFinite(value)) return failed('DCIM_E_DECODE_VALUE', `expected a number, got ${describe(value)}`);
  if (isSentinel(spec, value)) return failed('DCIM_E_VALUE_UNAVAILABLE', `sentinel ${value}`);
  if (snmpTypeSentinel(spec, value)) return failed('DCIM_E_VALUE_UNAVAILABLE', `${spec.type} not-available pattern ${value}`);
  const sf = pointExponent(spec, exponents);
  if (typeof sf !== 'number') return sf;
  return applyNumeric(value, spec, sf);
}

/**
 * An SNMP integer or gauge at its type's limit: INTEGER's most negative value (0x80000000) or a
 * Gauge32 of all ones (0xFFFFFFFF). Counters are exempt: they pass through their maximum when
 * they wrap.
 */
function snmpTypeSentinel(spec: SnmpValueSpec, value: number): boolean {
  if (spec.type === 'counter32' || spec.type === 'timeticks') return false;
  return isTypeSentinel(spec, 'int32', value === -0x80000000 ? 0x80000000 : undefined) || isTypeSentinel(spec, 'uint32', value >= 0 ? value : undefined);
}

function decodeCounter64(spec: SnmpValueSpec, type: number, value: unknown, exponents?: readonly unknown[]): Decoded {
  let raw: bigint;
  if (type === SnmpType.Counter64) {
    const big = berUnsigned(value);
    if (typeof big === 'string') return failed('DCIM_E_DECODE_VALUE', big);
    raw = big;
  } else if (type === SnmpType.Counter32 || type === SnmpType.Gauge32) {
    if (!isInt(value) || value < 0) return failed('DCIM_E_DECODE_VALUE', `expected an unsigned integer, got ${describe(value)}`);
    raw = BigInt(value);
  } else {
    return badType(spec, type);
  }
  if (isSentinel(spec, raw)) return failed('DCIM_E_VALUE_UNAVAILABLE', `sentinel ${raw}`);
  const sf = pointExponent(spec, exponents);
  if (typeof sf !== 'number') return sf;
  return applyNumeric(raw, spec, sf);
}

/**
 * net-snmp hands Counter64 over as the BER content bytes, big-endian, possibly with a leading
 * 0x00 that keeps the top bit from reading as a sign (so up to 9 bytes).
 */
export function berUnsigned(value: unknown): bigint | string {
  if (typeof value === 'bigint') return value >= 0n && value < 1n << 64n ? value : `counter64 ${value} out of range`;
  if (typeof value === 'number') return isInt(value) && value >= 0 ? BigInt(value) : `counter64 ${value} is not an unsigned integer`;
  if (!Buffer.isBuffer(value)) return `counter64 expected bytes, got ${describe(value)}`;
  if (value.length === 0) return 'counter64 has no bytes';
  if (value.length > 9 || (value.length === 9 && value[0] !== 0)) return `counter64 of ${value.length} bytes exceeds 64 bits`;
  let n = 0n;
  for (const byte of value) n = (n << 8n) | BigInt(byte);
  return n;
}

function decodeString(spec: SnmpValueSpec, type: number, value: unknown): Decoded {
  let text: string | undefined;
  if (type === SnmpType.OctetString) text = octetsToText(value) ?? hex(value);
  else if (type === SnmpType.OID || type === SnmpType.IpAddress) text = typeof value === 'string' ? value : undefined;
  else if (type === SnmpType.Integer || UINT32_TAGS.includes(type)) text = isInt(value) ? String(value) : undefined;
  else if (type === SnmpType.Counter64) {
    const big = berUnsigned(value);
    text = typeof big === 'bigint' ? big.toString() : undefined;
  } else return badType(spec, type);
  if (text === undefined) return failed('DCIM_E_DECODE_VALUE', `cannot read ${snmpTypeName(type)} value ${describe(value)} as text`);
  if (isSentinel(spec, text)) return failed('DCIM_E_VALUE_UNAVAILABLE', `sentinel ${JSON.stringify(text)}`);
  if (spec.enum) {
    const name = enumName(spec.enum, text);
    return name === undefined ? failed('DCIM_E_DECODE_VALUE', `value ${JSON.stringify(text)} is not in the enum map`) : decoded(name);
  }
  return decoded(text.slice(0, MAX_STRING_CHARS));
}

/** DisplayString bytes → text; undefined when the bytes are not printable UTF-8. */
function octetsToText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.replace(/\0+$/, '');
  if (!Buffer.isBuffer(value)) return undefined;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(value);
  } catch {
    return undefined;
  }
  text = text.replace(/\0+$/, '');
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? undefined : text;
}

/** Binary octets (MAC addresses, opaque blobs) are shown as hex rather than mojibake. */
function hex(value: unknown): string | undefined {
  return Buffer.isBuffer(value) ? `0x${value.toString('hex')}` : undefined;
}

function badType(spec: SnmpValueSpec, type: number): Decoded {
  return failed('DCIM_E_SNMP_BAD_TYPE', `profile type ${spec.type} cannot take an ${snmpTypeName(type)} varbind`);
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

function describe(v: unknown): string {
  if (Buffer.isBuffer(v)) return `<${v.length} bytes>`;
  if (typeof v === 'string') return JSON.stringify(v.slice(0, 40));
  return String(v);
}
