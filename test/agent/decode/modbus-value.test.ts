import { describe, expect, it } from 'vitest';
import { encodeWords } from '../../../shared/codec/modbus-words.js';
import { decodeModbusValue, type ModbusValueSpec } from '../../../agent/decode/modbus-value.js';

const spec = (over: Partial<ModbusValueSpec> = {}): ModbusValueSpec => ({ register: 'holding', type: 'uint16', order: 'ABCD', scale: 1, offset: 0, ...over });
const ok = (value: unknown) => ({ ok: true, value });
const bad = (error = 'DCIM_E_DECODE_VALUE') => expect.objectContaining({ ok: false, error });

describe('decodeModbusValue', () => {
  it.each([
    ['SDM630 float32 ABCD 5000 W', spec({ register: 'input', type: 'float32' }), { words: [0x459c, 0x4000] }, ok(5000)],
    ['float32 CDAB (word swap)', spec({ type: 'float32', order: 'CDAB' }), { words: [0x4000, 0x459c] }, ok(5000)],
    ['float32 BADC (byte swap)', spec({ type: 'float32', order: 'BADC' }), { words: [0x9c45, 0x0040] }, ok(5000)],
    ['float32 DCBA', spec({ type: 'float32', order: 'DCBA' }), { words: [0x0040, 0x9c45] }, ok(5000)],
    ['float32 NaN is bad', spec({ type: 'float32' }), { words: [0x7fc0, 0x0000] }, bad()],
    ['float32 +Inf is bad', spec({ type: 'float32' }), { words: [0x7f80, 0x0000] }, bad()],
    ['float32 NaN sentinel by pattern (CDAB)', spec({ type: 'float32', order: 'CDAB', sentinels: [0x7fc00000] }), { words: [0x0000, 0x7fc0] }, bad('DCIM_E_VALUE_UNAVAILABLE')],
    ['int16 negative ×0.1', spec({ type: 'int16', scale: 0.1 }), { words: [0xff9c] }, ok(-10)],
    ['int16 SunSpec 0x8000 sentinel by pattern', spec({ type: 'int16', sentinels: [0x8000] }), { words: [0x8000] }, bad('DCIM_E_VALUE_UNAVAILABLE')],
    ['int16 sentinel by value', spec({ type: 'int16', sentinels: [-32768] }), { words: [0x8000] }, bad('DCIM_E_VALUE_UNAVAILABLE')],
    ['uint16 0xFFFF sentinel', spec({ sentinels: [65535] }), { words: [0xffff] }, bad('DCIM_E_VALUE_UNAVAILABLE')],
    ['uint32 ×0.01 kWh', spec({ type: 'uint32', scale: 0.01 }), { words: [0x0001, 0x0000] }, ok(655.36)],
    ['int32 CDAB', spec({ type: 'int32', order: 'CDAB' }), { words: encodeWords(-123456, 'int32', 'CDAB') }, ok(-123456)],
    ['uint64 small → decimal string', spec({ type: 'uint64' }), { words: [0, 0, 0, 42] }, ok('42')],
    ['uint64 above 2^53 keeps digits', spec({ type: 'uint64' }), { words: encodeWords(2n ** 60n + 3n, 'uint64') }, ok('1152921504606846979')],
    ['int64 negative', spec({ type: 'int64' }), { words: [0xffff, 0xffff, 0xffff, 0xfffe] }, ok('-2')],
    ['int64 Wh ×0.001 → kWh number', spec({ type: 'int64', scale: 0.001 }), { words: encodeWords(1234567n, 'int64') }, ok(1234.567)],
    ['float64', spec({ type: 'float64' }), { words: encodeWords(1.5, 'float64') }, ok(1.5)],
    ['too few registers', spec({ type: 'float32' }), { words: [0x459c] }, bad()],
    ['no registers at all', spec({ type: 'uint16' }), {}, bad()],
    ['word above 16 bits', spec({ type: 'uint16' }), { words: [70000] }, bad()],
    ['negative word', spec({ type: 'uint16' }), { words: [-1] }, bad()],
    ['fractional word', spec({ type: 'uint16' }), { words: [1.5] }, bad()],
    ['string with trailing NULs', spec({ type: 'string', length: 4 }), { words: encodeWords('SDM630', 'string', 'ABCD', 4) }, ok('SDM630')],
    ['string byte-swapped', spec({ type: 'string', length: 2, order: 'BADC' }), { words: [0x4241, 0x4443] }, ok('ABCD')],
    ['bit 3 of a status word set', spec({ bit: 3 }), { words: [0b1000] }, ok(true)],
    ['bit 3 of a status word clear', spec({ bit: 3 }), { words: [0b0111] }, ok(false)],
    ['bit 15 with enum', spec({ bit: 15, enum: { '0': 'off', '1': 'on' } }), { words: [0x8000] }, ok('on')],
    ['coil', spec({ register: 'coil', type: 'bool' }), { bits: [true] }, ok(true)],
    ['discrete with enum', spec({ register: 'discrete', type: 'bool', enum: { '0': 'stopped', '1': 'running' } }), { bits: [false] }, ok('stopped')],
    ['coil without state', spec({ register: 'coil', type: 'bool' }), { bits: [] }, bad()],
    ['bool register', spec({ type: 'bool' }), { words: [2] }, ok(true)],
    ['enum on a uint16', spec({ enum: { '3': 'cooling' } }), { words: [3] }, ok('cooling')],
    ['enum value missing', spec({ enum: { '3': 'cooling' } }), { words: [4] }, bad()],
  ] as const)('%s', (_name, s, raw, expected) => {
    expect(decodeModbusValue(s, raw)).toEqual(expected);
  });

  describe('SunSpec scale factor', () => {
    const w = spec({ type: 'int16', scale_factor: { register: 'holding', address: 15 } });
    it.each([
      ['sf -2', 12345, -2, ok(123.45)],
      ['sf 0', 500, 0, ok(500)],
      ['sf +1', 500, 1, ok(5000)],
      ['sf as unsigned pattern 0xFFFE = -2', 500, 0xfffe, ok(5)],
      ['sf 0x8000 not implemented', 500, 0x8000, bad()],
      ['sf out of range', 500, 11, bad()],
    ] as const)('%s', (_name, word, sf, expected) => {
      expect(decodeModbusValue(w, { words: [word], sf })).toEqual(expected);
    });

    it('a missing scale-factor register is bad', () => {
      expect(decodeModbusValue(w, { words: [1] })).toEqual(bad());
    });
  });
});

describe('float32 values are shown as the device meant them', () => {
  it.each([230.1, 50.02, 13.25, 8123.5, 0.1, -0.001, 0, 46400.25])('%s decodes to exactly that decimal', (v) => {
    expect(decodeModbusValue(spec({ type: 'float32' }), { words: encodeWords(v, 'float32') })).toEqual(ok(v));
  });

  it.each([3.4028234663852886e38, 1.401298464324817e-45, 16777217])('%s stays the same float32', (v) => {
    const d = decodeModbusValue(spec({ type: 'float32' }), { words: encodeWords(v, 'float32') });
    expect(d.ok && Math.fround(d.value as number)).toBe(Math.fround(v));
  });
});

describe('decodeModbusValue: the data type’s own not-available pattern (type_sentinels)', () => {
  const unavailable = bad('DCIM_E_VALUE_UNAVAILABLE');
  it.each([
    ['int16 0x8000', spec({ type: 'int16', type_sentinels: true }), { words: [0x8000] }, unavailable],
    ['int16 0x8001 is a value', spec({ type: 'int16', type_sentinels: true }), { words: [0x8001] }, ok(-32767)],
    ['uint16 0xFFFF', spec({ type: 'uint16', type_sentinels: true }), { words: [0xffff] }, unavailable],
    ['uint16 0xFFFE is a value (65534 Hz is the bounds’ job)', spec({ type: 'uint16', type_sentinels: true }), { words: [0xfffe] }, ok(65534)],
    ['int32 0x80000000', spec({ type: 'int32', type_sentinels: true }), { words: [0x8000, 0x0000] }, unavailable],
    ['int32 0x80000000 word-swapped (CDAB)', spec({ type: 'int32', order: 'CDAB', type_sentinels: true }), { words: [0x0000, 0x8000] }, unavailable],
    ['uint32 0xFFFFFFFF', spec({ type: 'uint32', type_sentinels: true }), { words: [0xffff, 0xffff] }, unavailable],
    ['uint32 0x7FFFFFFF is a value unless the profile lists it', spec({ type: 'uint32', type_sentinels: true }), { words: [0x7fff, 0xffff] }, ok(0x7fffffff)],
    ['uint32 0x7FFFFFFF listed by the profile', spec({ type: 'uint32', sentinels: [0x7fffffff] }), { words: [0x7fff, 0xffff] }, unavailable],
    ['int64 0x8000000000000000', spec({ type: 'int64', type_sentinels: true }), { words: [0x8000, 0, 0, 0] }, unavailable],
    ['uint64 all ones', spec({ type: 'uint64', type_sentinels: true }), { words: [0xffff, 0xffff, 0xffff, 0xffff] }, unavailable],
    ['float32 NaN means not available', spec({ type: 'float32', type_sentinels: true }), { words: [0x7fc0, 0x0000] }, unavailable],
    ['float32 +Inf stays undecodable', spec({ type: 'float32', type_sentinels: true }), { words: [0x7f80, 0x0000] }, bad()],
    ['without type_sentinels 0xFFFF is a value', spec({ type: 'uint16' }), { words: [0xffff] }, ok(65535)],
    ['without type_sentinels int32 0x80000000 is a value', spec({ type: 'int32' }), { words: [0x8000, 0x0000] }, ok(-2147483648)],
  ])('%s', (_what, s, raw, want) => {
    expect(decodeModbusValue(s, raw)).toEqual(want);
  });
});
