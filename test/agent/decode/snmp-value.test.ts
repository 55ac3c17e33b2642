import { describe, expect, it } from 'vitest';
import { berUnsigned, decodeSnmpValue, type SnmpValueSpec } from '../../../agent/decode/snmp-value.js';
import { SnmpType as T } from '../../../agent/snmp/asn1-types.js';
import { bigintBytes } from '../profile-vectors.js';

const spec = (over: Partial<SnmpValueSpec> = {}): SnmpValueSpec => ({ type: 'integer', scale: 1, offset: 0, ...over });
const ok = (value: unknown) => ({ ok: true, value });
const bad = (error: string) => expect.objectContaining({ ok: false, error });

describe('decodeSnmpValue', () => {
  it.each([
    // [case, spec, type tag, wire value, expected]
    ['integer identity', spec(), T.Integer, 114, ok(114)],
    ['APC hundredths of kW → W', spec({ scale: 10 }), T.Integer, 114, ok(1140)],
    ['tenths of kWh, no binary noise', spec({ scale: 0.1 }), T.Integer, 3, ok(0.3)],
    ['negative integer', spec({ offset: -40 }), T.Integer, 10, ok(-30)],
    ['APC -1 sentinel', spec({ scale: 10, sentinels: [-1] }), T.Integer, -1, bad('DCIM_E_VALUE_UNAVAILABLE')],
    ['Huawei INTEGER served as Gauge32', spec(), T.Gauge32, 4294967295, ok(4294967295)],
    ['Gauge32 max as sentinel', spec({ type: 'gauge', sentinels: [4294967295] }), T.Gauge32, 4294967295, bad('DCIM_E_VALUE_UNAVAILABLE')],
    ['number served as text', spec({ type: 'gauge', scale: 2 }), T.OctetString, Buffer.from(' 23.5 '), ok(47)],
    ['text that is not a number', spec({ type: 'gauge' }), T.OctetString, Buffer.from('23.5 C'), bad('DCIM_E_SNMP_BAD_TYPE')],
    ['empty text', spec(), T.OctetString, Buffer.alloc(0), bad('DCIM_E_SNMP_BAD_TYPE')],
    ['noSuchObject', spec(), T.NoSuchObject, null, bad('DCIM_E_SNMP_NO_SUCH_OBJECT')],
    ['noSuchInstance', spec({ type: 'string' }), T.NoSuchInstance, null, bad('DCIM_E_SNMP_NO_SUCH_OBJECT')],
    ['endOfMibView', spec({ type: 'counter64' }), T.EndOfMibView, null, bad('DCIM_E_SNMP_NO_SUCH_OBJECT')],
    ['Null where a number belongs', spec(), T.Null, null, bad('DCIM_E_SNMP_BAD_TYPE')],
    ['OID where a number belongs', spec(), T.OID, '1.3.6', bad('DCIM_E_SNMP_BAD_TYPE')],
    ['Integer carrying a non-number', spec(), T.Integer, 'x', bad('DCIM_E_DECODE_VALUE')],
    ['Integer carrying NaN', spec(), T.Integer, Number.NaN, bad('DCIM_E_DECODE_VALUE')],
    ['enum known', spec({ type: 'enum', enum: { '2': 'normal' } }), T.Integer, 2, ok('normal')],
    ['enum unknown value', spec({ type: 'enum', enum: { '2': 'normal' } }), T.Integer, 7, bad('DCIM_E_DECODE_VALUE')],
    ['enum sentinel wins over map', spec({ type: 'enum', enum: { '5': 'not_supported' }, sentinels: [5] }), T.Integer, 5, bad('DCIM_E_VALUE_UNAVAILABLE')],
    ['counter32', spec({ type: 'counter32' }), T.Counter32, 4294967295, ok(4294967295)],
    ['counter32 from a negative Integer', spec({ type: 'counter32' }), T.Integer, -3, bad('DCIM_E_SNMP_BAD_TYPE')],
    ['timeticks → s', spec({ type: 'timeticks', scale: 0.01 }), T.TimeTicks, 12345, ok(123.45)],
    ['string DisplayString', spec({ type: 'string' }), T.OctetString, Buffer.from('AP8853\0\0'), ok('AP8853')],
    ['string UTF-8', spec({ type: 'string' }), T.OctetString, Buffer.from('机房 A'), ok('机房 A')],
    ['string binary → hex', spec({ type: 'string' }), T.OctetString, Buffer.from([0x00, 0x1b, 0x21, 0xff]), ok('0x001b21ff')],
    ['string invalid UTF-8 → hex', spec({ type: 'string' }), T.OctetString, Buffer.from([0xc3, 0x28]), ok('0xc328')],
    ['string too long is cut', spec({ type: 'string' }), T.OctetString, Buffer.from('x'.repeat(300)), ok('x'.repeat(256))],
    ['string from an Integer', spec({ type: 'string' }), T.Integer, 42, ok('42')],
    ['string from an OID', spec({ type: 'string' }), T.OID, '1.3.6.1.4.1.318.1.3.4.6', ok('1.3.6.1.4.1.318.1.3.4.6')],
    ['OID naming a registered identity, mapped by a string enum (UPS-MIB upsAlarmDescr)', spec({ type: 'string', enum: { '1.3.6.1.2.1.33.1.6.3.2': 'on_battery' } }), T.OID, '1.3.6.1.2.1.33.1.6.3.2', ok('on_battery')],
    ['OID outside the enum map (a vendor alarm) is no state', spec({ type: 'string', enum: { '1.3.6.1.2.1.33.1.6.3.2': 'on_battery' } }), T.OID, '1.3.6.1.4.1.534.1.7.3', bad('DCIM_E_DECODE_VALUE')],
    ['string from an IpAddress', spec({ type: 'string' }), T.IpAddress, '10.0.0.1', ok('10.0.0.1')],
    ['string sentinel', spec({ type: 'string', sentinels: ['N/A'] }), T.OctetString, Buffer.from('N/A'), bad('DCIM_E_VALUE_UNAVAILABLE')],
    ['text enum key inherited from Object is no state', spec({ type: 'string', enum: { '1': 'on' } }), T.OctetString, Buffer.from('constructor'), bad('DCIM_E_DECODE_VALUE')],
    ['text enum key __proto__ is no state', spec({ type: 'string', enum: { '1': 'on' } }), T.OctetString, Buffer.from('__proto__'), bad('DCIM_E_DECODE_VALUE')],
    ['Opaque where text belongs', spec({ type: 'string' }), T.Opaque, Buffer.from([1]), bad('DCIM_E_SNMP_BAD_TYPE')],
  ] as const)('%s', (_name, s, type, value, expected) => {
    expect(decodeSnmpValue(s, type, value)).toEqual(expected);
  });

  describe('Counter64', () => {
    const c64 = spec({ type: 'counter64' });
    it.each([
      ['zero', Buffer.from([0]), ok('0')],
      ['small stays a decimal string (type-stable)', bigintBytes(12345n), ok('12345')],
      ['2^53 + 1 keeps every digit', bigintBytes(2n ** 53n + 1n), ok('9007199254740993')],
      ['2^64 - 1 with the BER sign byte', bigintBytes(2n ** 64n - 1n), ok('18446744073709551615')],
      ['9 bytes without a leading zero overflows', Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 0]), bad('DCIM_E_DECODE_VALUE')],
      ['10 bytes overflow', Buffer.alloc(10, 0), bad('DCIM_E_DECODE_VALUE')],
      ['no bytes', Buffer.alloc(0), bad('DCIM_E_DECODE_VALUE')],
      ['not bytes', 'abc', bad('DCIM_E_DECODE_VALUE')],
    ] as const)('%s', (_name, value, expected) => {
      expect(decodeSnmpValue(c64, T.Counter64, value)).toEqual(expected);
    });

    it('accepts a Counter32 answer and keeps the string form', () => {
      expect(decodeSnmpValue(c64, T.Counter32, 7)).toEqual(ok('7'));
    });

    it('becomes a number when scaled (mJ → kWh)', () => {
      expect(decodeSnmpValue({ ...c64, scale: 1 / 3.6e9 }, T.Counter64, bigintBytes(7_200_000_000n))).toEqual(ok(2));
    });

    it('matches a decimal-string sentinel', () => {
      expect(decodeSnmpValue({ ...c64, sentinels: ['18446744073709551615'] }, T.Counter64, bigintBytes(2n ** 64n - 1n))).toEqual(bad('DCIM_E_VALUE_UNAVAILABLE'));
    });

    it('rejects an Integer varbind', () => {
      expect(decodeSnmpValue(c64, T.Integer, 5)).toEqual(bad('DCIM_E_SNMP_BAD_TYPE'));
    });
  });

  it('berUnsigned reads big-endian content bytes', () => {
    expect(berUnsigned(Buffer.from([0x01, 0x00]))).toBe(256n);
    expect(berUnsigned(Buffer.from([0x00, 0xff]))).toBe(255n);
    expect(berUnsigned(-1)).toMatch(/not an unsigned/);
  });
});

describe('decodeSnmpValue: the data type’s own not-available pattern (type_sentinels)', () => {
  it.each([
    ['INTEGER 0x80000000', spec({ type_sentinels: true }), T.Integer, -2147483648, bad('DCIM_E_VALUE_UNAVAILABLE')],
    ['Gauge32 0xFFFFFFFF', spec({ type: 'gauge', type_sentinels: true }), T.Gauge32, 4294967295, bad('DCIM_E_VALUE_UNAVAILABLE')],
    ['INTEGER -1 is a value unless listed (RFC 1628 runtime lists it)', spec({ type_sentinels: true }), T.Integer, -1, ok(-1)],
    ['INTEGER -1 listed', spec({ sentinels: [-1] }), T.Integer, -1, bad('DCIM_E_VALUE_UNAVAILABLE')],
    ['Counter32 at its maximum is a counter about to wrap', spec({ type: 'counter32', type_sentinels: true }), T.Counter32, 4294967295, ok(4294967295)],
    ['without type_sentinels Gauge32 0xFFFFFFFF is a value', spec({ type: 'gauge' }), T.Gauge32, 4294967295, ok(4294967295)],
  ])('%s', (_what, s, type, value, want) => {
    expect(decodeSnmpValue(s, type, value)).toEqual(want);
  });
});
