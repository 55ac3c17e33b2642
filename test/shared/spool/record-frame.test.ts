import { describe, expect, it } from 'vitest';
import { decodeRecordAt, encodeRecord, MAX_RECORD_PAYLOAD_BYTES, RECORD_HEADER_BYTES } from '../../../shared/spool/record-frame.js';

const payload = Buffer.from('dcim/v1/demo/devices/pdu-r01-a/telemetry\n{"seq":7,"value":"µ—✓"}');
const good = () => encodeRecord(41, 1_767_225_600_123.5, payload);

/** A copy of `buf` with `fn` applied. */
function mutate(buf: Buffer, fn: (b: Buffer) => void): Buffer {
  const b = Buffer.from(buf);
  fn(b);
  return b;
}

describe('record frame', () => {
  it('round-trips id, time and payload bytes exactly', () => {
    const buf = good();
    expect(buf.length).toBe(RECORD_HEADER_BYTES + payload.length);
    const r = decodeRecordAt(buf, 0);
    expect(r.kind).toBe('ok');
    if (r.kind !== 'ok') return;
    expect(r.record.id).toBe(41);
    expect(r.record.appended_at_ms).toBe(1_767_225_600_123.5);
    expect(r.record.payload.equals(payload)).toBe(true);
    expect(r.next).toBe(buf.length);
  });

  it.each([
    ['an empty payload', 0, 0, Buffer.alloc(0)],
    ['the largest safe id', Number.MAX_SAFE_INTEGER, 1, Buffer.from('x')],
    ['a payload full of magic bytes', 3, 2, Buffer.alloc(300, 0xff)],
  ])('round-trips %s', (_name, id, at, p) => {
    const r = decodeRecordAt(encodeRecord(id, at, p), 0);
    expect(r).toMatchObject({ kind: 'ok', record: { id, appended_at_ms: at } });
  });

  it('decodes a record in the middle of a buffer', () => {
    const a = encodeRecord(1, 1, Buffer.from('a'));
    const b = encodeRecord(2, 2, Buffer.from('bb'));
    const r = decodeRecordAt(Buffer.concat([a, b]), a.length);
    expect(r).toMatchObject({ kind: 'ok', record: { id: 2 }, next: a.length + b.length });
  });

  it.each<[string, Buffer, string]>([
    ['an empty buffer', Buffer.alloc(0), 'truncated'],
    ['only the magic', good().subarray(0, 2), 'truncated'],
    ['a header cut short', good().subarray(0, RECORD_HEADER_BYTES - 1), 'truncated'],
    ['a payload cut short by one byte', good().subarray(0, good().length - 1), 'truncated'],
    ['zeros', Buffer.alloc(64), 'magic'],
    ['a first byte that is not magic', mutate(good(), (b) => (b[0] = 0x7b)), 'magic'],
    ['a second byte that is not magic', mutate(good(), (b) => (b[1] = 0x00)), 'magic'],
    ['a newer format version', mutate(good(), (b) => (b[2] = 2)), 'version'],
    ['a length beyond the record limit', mutate(good(), (b) => b.writeUInt32LE(MAX_RECORD_PAYLOAD_BYTES + 1, 4)), 'length'],
    ['a length longer than the bytes (corrupt, or torn)', mutate(good(), (b) => b.writeUInt32LE(payload.length + 100, 4)), 'truncated'],
    ['a length one shorter', mutate(good(), (b) => b.writeUInt32LE(payload.length - 1, 4)), 'crc'],
    ['a flipped payload bit', mutate(good(), (b) => (b[RECORD_HEADER_BYTES + 3] = (b[RECORD_HEADER_BYTES + 3] as number) ^ 0x01)), 'crc'],
    ['a flipped id bit', mutate(good(), (b) => (b[8] = (b[8] as number) ^ 0x80)), 'crc'],
    ['a flipped time bit', mutate(good(), (b) => (b[20] = (b[20] as number) ^ 0x10)), 'crc'],
    ['a flipped CRC bit', mutate(good(), (b) => (b[24] = (b[24] as number) ^ 0x01)), 'crc'],
    ['flags set by a future writer', mutate(good(), (b) => (b[3] = 1)), 'crc'],
  ])('refuses %s', (_name, buf, want) => {
    const r = decodeRecordAt(buf, 0);
    if (want === 'truncated') expect(r.kind).toBe('truncated');
    else expect(r).toEqual({ kind: 'bad', reason: want });
  });

  it('refuses an id above 2^53 and a non-finite time even under a valid CRC', async () => {
    const { crc32 } = await import('node:zlib');
    const forge = (fn: (b: Buffer) => void) => {
      const b = good();
      fn(b);
      b.writeUInt32LE(crc32(b.subarray(RECORD_HEADER_BYTES), crc32(b.subarray(0, 24))), 24);
      return b;
    };
    expect(decodeRecordAt(forge((b) => b.writeBigUInt64LE(2n ** 60n, 8)), 0)).toEqual({ kind: 'bad', reason: 'id' });
    expect(decodeRecordAt(forge((b) => b.writeDoubleLE(Number.NaN, 16)), 0)).toEqual({ kind: 'bad', reason: 'time' });
    expect(decodeRecordAt(forge((b) => b.writeDoubleLE(Number.POSITIVE_INFINITY, 16)), 0)).toEqual({ kind: 'bad', reason: 'time' });
  });

  it.each([
    ['a negative id', () => encodeRecord(-1, 0, Buffer.alloc(0))],
    ['a fractional id', () => encodeRecord(1.5, 0, Buffer.alloc(0))],
    ['a NaN time', () => encodeRecord(1, Number.NaN, Buffer.alloc(0))],
    ['an oversized payload', () => encodeRecord(1, 0, Buffer.alloc(MAX_RECORD_PAYLOAD_BYTES + 1))],
  ])('will not encode %s', (_name, fn) => {
    expect(fn).toThrow(RangeError);
  });
});
