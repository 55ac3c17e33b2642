import { describe, expect, it } from 'vitest';
import type { WordOrder } from '../../../contract/index.js';
import { decodeWords, encodeWords } from '../../../shared/codec/modbus-words.js';
import { toEngineering, toRaw } from '../../../shared/codec/scale.js';

// Hand-computed: 5000.0 = 0x459C4000; 123456789 = 0x075BCD15.
describe('register word codec', () => {
  it.each<[WordOrder, number[]]>([
    ['ABCD', [0x459c, 0x4000]],
    ['CDAB', [0x4000, 0x459c]],
    ['BADC', [0x9c45, 0x0040]],
    ['DCBA', [0x0040, 0x9c45]],
  ])('float32 5000 in %s', (order, words) => {
    expect(encodeWords(5000, 'float32', order)).toEqual(words);
    expect(decodeWords(words, 'float32', order)).toBe(5000);
  });

  it.each<[WordOrder, number[]]>([
    ['ABCD', [0x075b, 0xcd15]],
    ['CDAB', [0xcd15, 0x075b]],
    ['BADC', [0x5b07, 0x15cd]],
    ['DCBA', [0x15cd, 0x5b07]],
  ])('uint32 123456789 in %s', (order, words) => {
    expect(decodeWords(words, 'uint32', order)).toBe(123456789);
    expect(encodeWords(123456789, 'uint32', order)).toEqual(words);
  });

  it('signed types', () => {
    expect(decodeWords([0xffff], 'int16')).toBe(-1);
    expect(decodeWords([0xffff], 'uint16')).toBe(65535);
    expect(decodeWords([0xffff, 0xfffe], 'int32')).toBe(-2);
    expect(decodeWords([0x8000, 0, 0, 0], 'int64')).toBe(-(2n ** 63n));
  });

  it('64-bit integers keep every digit', () => {
    const v = 2n ** 63n + 12345n;
    for (const o of ['ABCD', 'CDAB', 'BADC', 'DCBA'] as const) expect(decodeWords(encodeWords(v, 'uint64', o), 'uint64', o)).toBe(v);
  });

  it('float64 and strings', () => {
    expect(decodeWords(encodeWords(Math.PI, 'float64', 'CDAB'), 'float64', 'CDAB')).toBe(Math.PI);
    expect(decodeWords([0x5375, 0x6e53], 'string')).toBe('SunS');
    expect(decodeWords([0x7553, 0x536e], 'string', 'BADC')).toBe('SunS');
    expect(decodeWords([0x4142, 0x0000], 'string')).toBe('AB');
  });

  it('rejects too few registers', () => {
    expect(() => decodeWords([1], 'float32')).toThrow(RangeError);
  });
});

describe('scale convention: value = raw * scale * 10^sf + offset', () => {
  it.each([
    [114, 10, 0, 0, 1140],
    [123456, 0.1, 0, 0, 12345.6],
    [3, 0.1, 0, 0, 0.3],
    [2345, 1, 0, -1, 234.5],
    [12, 1, 0, 2, 1200],
    [500, 0.1, -40, 0, 10],
  ])('raw %d scale %d offset %d sf %d → %d', (raw, scale, offset, sf, expected) => {
    expect(toEngineering(raw, scale, offset, sf)).toBe(expected);
    expect(toRaw(expected, scale, offset, sf)).toBeCloseTo(raw, 6);
  });
});
