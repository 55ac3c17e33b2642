import type { ModbusValueType, WordOrder } from '../../contract/profile.js';

/**
 * Register-word codec shared by the agent (decode) and the simulators (encode). Pure.
 *
 * Byte order names follow Telegraf's: for a 32-bit value with big-endian bytes A B C D,
 *   ABCD  big-endian words, big-endian bytes (Modbus "standard", SDM630)
 *   CDAB  low word first ("word swap", many PLCs and Schneider legacy blocks)
 *   BADC  bytes swapped inside each word
 *   DCBA  fully little-endian
 * 64-bit values extend the same pattern over four words (ABCDEFGH, GHEFCDAB, …).
 */

export const REGISTER_COUNT: Record<Exclude<ModbusValueType, 'string'>, number> = {
  int16: 1,
  uint16: 1,
  bool: 1,
  int32: 2,
  uint32: 2,
  float32: 2,
  int64: 4,
  uint64: 4,
  float64: 4,
};

export function registerCount(type: ModbusValueType, length?: number): number {
  if (type === 'string') return length ?? 1;
  return REGISTER_COUNT[type];
}

/** Reorder big-endian bytes into wire order (and back: each permutation is its own inverse). */
function permute(bytes: Buffer, order: WordOrder): Buffer {
  const n = bytes.length;
  const out = Buffer.alloc(n);
  const words = n / 2;
  for (let w = 0; w < words; w++) {
    // Which big-endian word lands in wire position w.
    const srcWord = order === 'CDAB' || order === 'DCBA' ? words - 1 - w : w;
    const swapBytes = order === 'BADC' || order === 'DCBA';
    const hi = bytes[srcWord * 2] as number;
    const lo = bytes[srcWord * 2 + 1] as number;
    out[w * 2] = swapBytes ? lo : hi;
    out[w * 2 + 1] = swapBytes ? hi : lo;
  }
  return out;
}

function wordsToBuffer(words: readonly number[]): Buffer {
  const b = Buffer.alloc(words.length * 2);
  words.forEach((w, i) => b.writeUInt16BE(w & 0xffff, i * 2));
  return b;
}

function bufferToWords(b: Buffer): number[] {
  const words: number[] = [];
  for (let i = 0; i < b.length; i += 2) words.push(b.readUInt16BE(i));
  return words;
}

export type RawValue = number | bigint | string | boolean;

/**
 * Decode register words (as read, wire order) into a raw value. 64-bit integers come back as
 * bigint so no precision is lost; the caller decides how to carry them.
 */
export function decodeWords(words: readonly number[], type: ModbusValueType, order: WordOrder = 'ABCD'): RawValue {
  const need = type === 'string' ? words.length : REGISTER_COUNT[type];
  if (words.length < need) throw new RangeError(`${type} needs ${need} registers, got ${words.length}`);
  if (type === 'string') {
    // Strings are byte streams: only the in-word byte swap (BADC/DCBA) applies.
    const b = wordsToBuffer(words);
    const swapped = order === 'BADC' || order === 'DCBA' ? permute(b, 'BADC') : b;
    return swapped.toString('latin1').replace(/[\0 ]+$/, '');
  }
  const be = permute(wordsToBuffer(words.slice(0, need)), order);
  switch (type) {
    case 'int16':
      return be.readInt16BE(0);
    case 'uint16':
      return be.readUInt16BE(0);
    case 'bool':
      return be.readUInt16BE(0) !== 0;
    case 'int32':
      return be.readInt32BE(0);
    case 'uint32':
      return be.readUInt32BE(0);
    case 'float32':
      return be.readFloatBE(0);
    case 'int64':
      return be.readBigInt64BE(0);
    case 'uint64':
      return be.readBigUInt64BE(0);
    case 'float64':
      return be.readDoubleBE(0);
  }
}

/** Encode a raw value into register words in wire order (the simulators' side). */
export function encodeWords(value: RawValue, type: ModbusValueType, order: WordOrder = 'ABCD', length?: number): number[] {
  if (type === 'string') {
    const n = length ?? Math.ceil(String(value).length / 2);
    const b = Buffer.alloc(n * 2, 0);
    b.write(String(value).slice(0, n * 2), 'latin1');
    return bufferToWords(order === 'BADC' || order === 'DCBA' ? permute(b, 'BADC') : b);
  }
  const b = Buffer.alloc(REGISTER_COUNT[type] * 2);
  const num = (): number => (typeof value === 'bigint' ? Number(value) : Number(value));
  switch (type) {
    case 'int16':
      b.writeInt16BE(clampInt(num(), -0x8000, 0x7fff), 0);
      break;
    case 'uint16':
      b.writeUInt16BE(clampInt(num(), 0, 0xffff), 0);
      break;
    case 'bool':
      b.writeUInt16BE(value ? 1 : 0, 0);
      break;
    case 'int32':
      b.writeInt32BE(clampInt(num(), -0x80000000, 0x7fffffff), 0);
      break;
    case 'uint32':
      b.writeUInt32BE(clampInt(num(), 0, 0xffffffff), 0);
      break;
    case 'float32':
      b.writeFloatBE(num(), 0);
      break;
    case 'float64':
      b.writeDoubleBE(num(), 0);
      break;
    case 'int64':
      b.writeBigInt64BE(typeof value === 'bigint' ? value : BigInt(Math.round(num())), 0);
      break;
    case 'uint64':
      b.writeBigUInt64BE(typeof value === 'bigint' ? value : BigInt(Math.max(0, Math.round(num()))), 0);
      break;
  }
  return bufferToWords(permute(b, order));
}

function clampInt(v: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.round(v)));
}
