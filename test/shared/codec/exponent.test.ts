import { describe, expect, it } from 'vitest';
import { ExponentTermSchema, type ExponentTerm } from '../../../contract/index.js';
import { exponentOf, exponentTermOid, MAX_EXPONENT } from '../../../shared/codec/exponent.js';
import { decodeSnmpValue, exponentVarbind, type SnmpValueSpec } from '../../../agent/decode/snmp-value.js';
import { SnmpType as T } from '../../../agent/snmp/asn1-types.js';
import { bigintBytes } from '../../agent/profile-vectors.js';

const term = (t: Partial<ExponentTerm>): ExponentTerm => ExponentTermSchema.parse({ oid: '1.3.6.1.4.1.13742.6.3.3.4.1.7.1.1.5', ...t });
const digits = term({ factor: -1 });
// ENTITY-SENSOR-MIB: entPhySensorScale (units = 9) and entPhySensorPrecision.
const entScale = term({ oid: '1.3.6.1.2.1.99.1.1.1.2.7', factor: 3, bias: -9 });
const entPrecision = term({ oid: '1.3.6.1.2.1.99.1.1.1.3.7', factor: -1 });
// As RFC 3433 reads it: precision -8..-1 counts accurate digits, only 1..9 places the decimal point.
const entPlaces = term({ oid: '1.3.6.1.2.1.99.1.1.1.3.7', factor: -1, at_least: 0 });

describe('exponentOf', () => {
  it.each([
    ['no terms', [], undefined, 0],
    ['Raritan 3 decimal digits', [digits], [3], -3],
    ['Raritan 0 digits', [digits], [0], 0],
    ['ENTITY-SENSOR units, precision 1', [entScale, entPrecision], [9, 1], -1],
    ['ENTITY-SENSOR milli (8), precision 0', [entScale, entPrecision], [8, 0], -3],
    ['ENTITY-SENSOR kilo (10), precision -1 (tens)', [entScale, entPrecision], [10, -1], 4],
    ['ENTITY-SENSOR yocto, precision 9 (the smallest legal)', [entScale, entPrecision], [1, 9], -33],
    ['ENTITY-SENSOR precision 2 as decimal places (at_least 0)', [entScale, entPlaces], [9, 2], -2],
    ['ENTITY-SENSOR precision -2 is two accurate digits: no shift (at_least 0)', [entScale, entPlaces], [9, -2], 0],
    ['ENTITY-SENSOR kilo, precision -8 (at_least 0)', [entScale, entPlaces], [10, -8], 3],
  ] as const)('%s', (_name, terms, raws, exponent) => {
    expect(exponentOf(terms, raws)).toEqual({ ok: true, exponent });
  });

  it.each([
    ['missing values', [digits], undefined, /needs 1 value\(s\), got 0/],
    ['too few values', [entScale, entPrecision], [9], /needs 2 value\(s\), got 1/],
    ['too many values', [digits], [1, 2], /needs 1 value\(s\), got 2/],
    ['a fraction', [digits], [1.5], /not an integer/],
    ['NaN', [digits], [Number.NaN], /not an integer/],
    ['Infinity', [digits], [Number.POSITIVE_INFINITY], /not an integer/],
    ['text', [digits], ['3'], /"3" is not an integer/],
    ['a bigint', [digits], [3n], /3n is not an integer/],
    ['null', [digits], [null], /null is not an integer/],
    ['beyond 2^53', [digits], [2 ** 60], /not an integer/],
    ['Unsigned32 max digits', [digits], [4294967295], new RegExp(`out of range ±${MAX_EXPONENT}`)],
    ['ENTITY-SENSOR scale 99', [entScale, entPrecision], [99, 0], /out of range/],
  ] as const)('refuses %s', (_name, terms, raws, detail) => {
    const r = exponentOf(terms, raws as readonly unknown[] | undefined);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toBe('DCIM_E_DECODE_VALUE');
      expect(r.detail).toMatch(detail);
    }
  });
});

describe('exponentTermOid', () => {
  const pole = { entry: '1.3.6.1.4.1.13742.6.5.2.4.1' };
  it.each([
    ['a scalar term names its OID', digits, undefined, undefined, '1.3.6.1.4.1.13742.6.3.3.4.1.7.1.1.5'],
    ['a column of the same table', term({ oid: undefined, column: 7, factor: -1 }), pole, '1.1.2.1', '1.3.6.1.4.1.13742.6.5.2.4.1.7.1.1.2.1'],
    ['a column of another table (Raritan configuration)', term({ oid: undefined, entry: '1.3.6.1.4.1.13742.6.3.3.6.1', column: 7, factor: -1 }), pole, '1.1.2.25', '1.3.6.1.4.1.13742.6.3.3.6.1.7.1.1.2.25'],
    ['a column without a row index', term({ oid: undefined, column: 7 }), pole, undefined, undefined],
    ['a column without a table', term({ oid: undefined, column: 7 }), undefined, '1', undefined],
  ] as const)('%s', (_name, t, table, index, oid) => {
    expect(exponentTermOid(t, table, index)).toBe(oid);
  });
});

describe('decodeSnmpValue with exponent_from', () => {
  const spec = (over: Partial<SnmpValueSpec> = {}): SnmpValueSpec => ({ type: 'gauge', scale: 1, offset: 0, exponent_from: [digits], ...over });
  const ok = (value: unknown) => ({ ok: true, value });
  const bad = (error: string) => expect.objectContaining({ ok: false, error });

  it.each([
    ['current, 3 digits', spec(), T.Gauge32, 15234, [3], ok(15.234)],
    ['no binary noise at 1 digit', spec(), T.Gauge32, 3, [1], ok(0.3)],
    ['energy Wh → kWh at 0 digits', spec({ scale: 0.001 }), T.Gauge32, 4294967295, [0], ok(4294967.295)],
    ['identity at 0 digits keeps the raw integer', spec(), T.Gauge32, 4294967295, [0], ok(4294967295)],
    ['ENTITY-SENSOR watts, kilo, precision 2', spec({ type: 'integer', exponent_from: [entScale, entPrecision] }), T.Integer, 1234, [10, 2], ok(12340)],
    ['ENTITY-SENSOR negative °C', spec({ type: 'integer', exponent_from: [entScale, entPrecision] }), T.Integer, -55, [9, 1], ok(-5.5)],
    ['Counter64 with digits becomes a number', spec({ type: 'counter64' }), T.Counter64, bigintBytes(123456n), [3], ok(123.456)],
    ['a sentinel wins before the exponent is even needed', spec({ sentinels: [4294967295] }), T.Gauge32, 4294967295, undefined, bad('DCIM_E_VALUE_UNAVAILABLE')],
    ['exponents missing', spec(), T.Gauge32, 10, undefined, bad('DCIM_E_DECODE_VALUE')],
    ['exponent garbage', spec(), T.Gauge32, 10, ['x'], bad('DCIM_E_DECODE_VALUE')],
    ['exponent out of range', spec(), T.Gauge32, 10, [4294967295], bad('DCIM_E_DECODE_VALUE')],
    ['the value itself is noSuchInstance', spec(), T.NoSuchInstance, null, [3], bad('DCIM_E_SNMP_NO_SUCH_OBJECT')],
    ['strings ignore exponents', spec({ type: 'string' }), T.OctetString, Buffer.from('PX3-5190R'), [3], ok('PX3-5190R')],
  ] as const)('%s', (_name, s, type, value, exponents, expected) => {
    expect(decodeSnmpValue(s, type, value, exponents)).toEqual(expected);
  });

  it.each([
    ['Unsigned32 as Gauge32', T.Gauge32, 3, 3],
    ['INTEGER', T.Integer, -1, -1],
    ['Counter32, leniently', T.Counter32, 2, 2],
    ['noSuchInstance', T.NoSuchInstance, null, 'DCIM_E_SNMP_NO_SUCH_OBJECT'],
    ['an OctetString', T.OctetString, Buffer.from('3'), 'DCIM_E_SNMP_BAD_TYPE'],
    ['a fractional number', T.Integer, 1.5, 'DCIM_E_SNMP_BAD_TYPE'],
  ] as const)('exponentVarbind: %s', (_name, type, value, expected) => {
    const r = exponentVarbind(type, value);
    expect(typeof r === 'number' ? r : r.error).toBe(expected);
  });
});
