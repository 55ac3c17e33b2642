import { decodeRecordAt, RECORD_HEADER_BYTES, RECORD_MAGIC_0, RECORD_MAGIC_1 } from './record-frame.js';

/**
 * The recovery scan of one segment file. Pure: the file's bytes in, a verdict out.
 *
 * Records are read front to back. At the first byte that is not an intact record (bad magic,
 * CRC, length, or an id not above the previous one) the scan looks for the next intact record
 * (magic + valid CRC); with a 32-bit CRC a false match is about one in four billion candidates.
 * - Bad bytes with intact records after them are corruption: the segment is quarantined and its
 *   intact records salvaged (spool.ts).
 * - Bad bytes at the end with nothing intact after them are a torn tail: the last write was cut
 *   short (SIGKILL mid-write, power loss, a full disk). The file is truncated to `good_end`.
 */
export interface ScannedRecord {
  id: number;
  appended_at_ms: number;
  offset: number;
  /** Header + payload. */
  bytes: number;
}

export interface BadRange {
  from: number;
  to: number;
  reason: string;
}

export interface SegmentScan {
  records: ScannedRecord[];
  corrupt: BadRange[];
  torn: { from: number; bytes: number; reason: string } | undefined;
  /** End of the last intact record. */
  good_end: number;
}

/** `minId`: ids below it are refused (a segment never holds ids below its file name's base id). */
export function scanSegment(buf: Buffer, minId = 0): SegmentScan {
  const records: ScannedRecord[] = [];
  const corrupt: BadRange[] = [];
  let lastId = minId - 1;
  let off = 0;
  let goodEnd = 0;
  while (off < buf.length) {
    const r = decodeRecordAt(buf, off);
    if (r.kind === 'ok' && r.record.id > lastId) {
      records.push({ id: r.record.id, appended_at_ms: r.record.appended_at_ms, offset: off, bytes: r.next - off });
      lastId = r.record.id;
      off = r.next;
      goodEnd = off;
      continue;
    }
    const reason = r.kind === 'ok' ? 'id' : r.kind === 'truncated' ? 'truncated' : r.reason;
    const resume = findNextRecord(buf, off + 1, lastId);
    if (resume === undefined) {
      return { records, corrupt, torn: { from: off, bytes: buf.length - off, reason }, good_end: goodEnd };
    }
    corrupt.push({ from: off, to: resume, reason });
    off = resume;
  }
  return { records, corrupt, torn: undefined, good_end: goodEnd };
}

function findNextRecord(buf: Buffer, from: number, lastId: number): number | undefined {
  let q = from;
  while (q <= buf.length - RECORD_HEADER_BYTES) {
    q = buf.indexOf(RECORD_MAGIC_0, q);
    if (q < 0 || q > buf.length - RECORD_HEADER_BYTES) return undefined;
    if (buf[q + 1] === RECORD_MAGIC_1) {
      const r = decodeRecordAt(buf, q);
      if (r.kind === 'ok' && r.record.id > lastId) return q;
    }
    q++;
  }
  return undefined;
}
