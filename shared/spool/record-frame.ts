import { crc32 } from 'node:zlib';

/**
 * One spool record on disk. Pure: bytes in, bytes out.
 *
 *   offset  size  field
 *        0     2  magic 0xFF 0xD5   (0xFF never occurs in UTF-8, so a resync scan through
 *                                    JSON payloads stops only at real record starts)
 *        2     1  format version (1)
 *        3     1  flags (0, reserved)
 *        4     4  payload length, u32 LE
 *        8     8  record id, u64 LE (rises by one per append, survives restarts)
 *       16     8  appended at, ms since epoch, float64 LE (the age bound reads it)
 *       24     4  CRC-32 of bytes 0..23 and the payload, u32 LE
 *       28     n  payload
 *
 * The CRC covers the header too, so a flipped length or id is caught, not only a flipped
 * payload byte.
 */
export const RECORD_HEADER_BYTES = 28;
export const RECORD_MAGIC_0 = 0xff;
export const RECORD_MAGIC_1 = 0xd5;
export const RECORD_VERSION = 1;
/** Far above any telemetry message (MAX_PAYLOAD_BYTES is 256 KiB); a larger length is garbage. */
export const MAX_RECORD_PAYLOAD_BYTES = 16 * 1024 * 1024;

export interface SpoolRecord {
  id: number;
  appended_at_ms: number;
  payload: Buffer;
}

export type DecodeResult =
  | { kind: 'ok'; record: SpoolRecord; next: number }
  /** The bytes end inside this record: a torn write if this is the end of the file. */
  | { kind: 'truncated'; need: number }
  | { kind: 'bad'; reason: 'magic' | 'version' | 'length' | 'crc' | 'id' | 'time' };

export function encodeRecord(id: number, appendedAtMs: number, payload: Buffer): Buffer {
  if (!Number.isSafeInteger(id) || id < 0) throw new RangeError(`record id must be a safe non-negative integer, got ${id}`);
  if (!Number.isFinite(appendedAtMs)) throw new RangeError(`record time must be finite, got ${appendedAtMs}`);
  if (payload.length > MAX_RECORD_PAYLOAD_BYTES) throw new RangeError(`record payload of ${payload.length} bytes exceeds ${MAX_RECORD_PAYLOAD_BYTES}`);
  const buf = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length);
  buf[0] = RECORD_MAGIC_0;
  buf[1] = RECORD_MAGIC_1;
  buf[2] = RECORD_VERSION;
  buf[3] = 0;
  buf.writeUInt32LE(payload.length, 4);
  buf.writeBigUInt64LE(BigInt(id), 8);
  buf.writeDoubleLE(appendedAtMs, 16);
  payload.copy(buf, RECORD_HEADER_BYTES);
  buf.writeUInt32LE(crc32(payload, crc32(buf.subarray(0, 24))), 24);
  return buf;
}

/** Decode the record starting at `offset` of `buf`, checking everything the header claims. */
export function decodeRecordAt(buf: Buffer, offset: number): DecodeResult {
  const avail = buf.length - offset;
  // A header cut short can still be told from garbage by its first bytes.
  if (avail >= 1 && buf[offset] !== RECORD_MAGIC_0) return { kind: 'bad', reason: 'magic' };
  if (avail >= 2 && buf[offset + 1] !== RECORD_MAGIC_1) return { kind: 'bad', reason: 'magic' };
  if (avail >= 3 && buf[offset + 2] !== RECORD_VERSION) return { kind: 'bad', reason: 'version' };
  if (avail < RECORD_HEADER_BYTES) return { kind: 'truncated', need: RECORD_HEADER_BYTES - Math.max(0, avail) };
  const len = buf.readUInt32LE(offset + 4);
  if (len > MAX_RECORD_PAYLOAD_BYTES) return { kind: 'bad', reason: 'length' };
  const end = offset + RECORD_HEADER_BYTES + len;
  if (end > buf.length) return { kind: 'truncated', need: end - buf.length };
  const crc = crc32(buf.subarray(offset + RECORD_HEADER_BYTES, end), crc32(buf.subarray(offset, offset + 24)));
  if (crc !== buf.readUInt32LE(offset + 24)) return { kind: 'bad', reason: 'crc' };
  const id = buf.readBigUInt64LE(offset + 8);
  if (id > BigInt(Number.MAX_SAFE_INTEGER)) return { kind: 'bad', reason: 'id' };
  const at = buf.readDoubleLE(offset + 16);
  if (!Number.isFinite(at)) return { kind: 'bad', reason: 'time' };
  return { kind: 'ok', record: { id: Number(id), appended_at_ms: at, payload: buf.subarray(offset + RECORD_HEADER_BYTES, end) }, next: end };
}
