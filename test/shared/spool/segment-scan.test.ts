import { describe, expect, it } from 'vitest';
import { encodeRecord } from '../../../shared/spool/record-frame.js';
import { scanSegment } from '../../../shared/spool/segment-scan.js';

/** A segment of records with ids base, base+1, …, payloads of varying length. */
function segment(n: number, base = 100): { buf: Buffer; offsets: number[] } {
  const parts: Buffer[] = [];
  const offsets: number[] = [];
  let off = 0;
  for (let i = 0; i < n; i++) {
    const rec = encodeRecord(base + i, 1_000 + i, Buffer.from(`{"seq":${base + i},"pad":"${'x'.repeat((i * 37) % 90)}"}`));
    offsets.push(off);
    parts.push(rec);
    off += rec.length;
  }
  return { buf: Buffer.concat(parts), offsets };
}

const ids = (s: ReturnType<typeof scanSegment>) => s.records.map((r) => r.id);

/** Deterministic PRNG (mulberry32) so a failing fuzz case can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('scanSegment', () => {
  it('reads a clean segment completely', () => {
    const { buf } = segment(8);
    const s = scanSegment(buf, 100);
    expect(ids(s)).toEqual([100, 101, 102, 103, 104, 105, 106, 107]);
    expect(s).toMatchObject({ corrupt: [], torn: undefined, good_end: buf.length });
  });

  it('an empty file has nothing and nothing wrong', () => {
    expect(scanSegment(Buffer.alloc(0))).toEqual({ records: [], corrupt: [], torn: undefined, good_end: 0 });
  });

  it('a last record cut at any byte is a torn tail, truncated at the record before it', () => {
    const { buf, offsets } = segment(5);
    const last = offsets[4] as number;
    for (let cut = last + 1; cut < buf.length; cut++) {
      const s = scanSegment(buf.subarray(0, cut), 100);
      expect(ids(s), `cut at ${cut}`).toEqual([100, 101, 102, 103]);
      expect(s.corrupt).toEqual([]);
      expect(s.torn).toMatchObject({ from: last, bytes: cut - last });
      expect(s.good_end).toBe(last);
    }
  });

  it.each([
    ['zeros (a filesystem that extended the file before the crash)', Buffer.alloc(4096)],
    ['random bytes', Buffer.from(Array.from({ length: 100 }, (_, i) => (i * 131 + 7) & 0xff))],
    ['a lone magic', Buffer.from([0xff, 0xd5])],
    ['a header of a record that never got its payload', encodeRecord(105, 1, Buffer.alloc(500)).subarray(0, 40)],
  ])('a tail of %s is torn, not corrupt', (_name, tail) => {
    const { buf } = segment(5);
    const s = scanSegment(Buffer.concat([buf, tail]), 100);
    expect(ids(s)).toEqual([100, 101, 102, 103, 104]);
    expect(s.corrupt).toEqual([]);
    expect(s.torn).toMatchObject({ from: buf.length, bytes: tail.length });
  });

  it('garbage inside the file is corruption, and the records after it are found again', () => {
    const { buf, offsets } = segment(6);
    const bad = Buffer.from(buf);
    bad.fill(0x41, (offsets[2] as number) + 30, (offsets[2] as number) + 40); // inside record 102's payload
    const s = scanSegment(bad, 100);
    expect(ids(s)).toEqual([100, 101, 103, 104, 105]);
    expect(s.corrupt).toEqual([{ from: offsets[2], to: offsets[3], reason: 'crc' }]);
    expect(s.torn).toBeUndefined();
  });

  it('a corrupt length field does not swallow the records after it', () => {
    const { buf, offsets } = segment(6);
    const bad = Buffer.from(buf);
    bad.writeUInt32LE(0x00ffffff, (offsets[1] as number) + 4);
    const s = scanSegment(bad, 100);
    expect(ids(s)).toEqual([100, 102, 103, 104, 105]);
    expect(s.corrupt).toHaveLength(1);
    expect(s.corrupt[0]).toMatchObject({ from: offsets[1], to: offsets[2] });
  });

  it('a fake magic inside garbage is not taken for a record', () => {
    const { buf, offsets } = segment(4);
    const junk = Buffer.concat([Buffer.from([0xff, 0xd5, 1, 0]), Buffer.alloc(60, 0xff), Buffer.from([0xff, 0xd5])]);
    const s = scanSegment(Buffer.concat([buf.subarray(0, offsets[2]), junk, buf.subarray(offsets[2])]), 100);
    expect(ids(s)).toEqual([100, 101, 102, 103]);
    expect(s.corrupt).toEqual([{ from: offsets[2], to: (offsets[2] as number) + junk.length, reason: 'length' }]);
  });

  it('two bad records in a row are one corrupt range', () => {
    const { buf, offsets } = segment(6);
    const bad = Buffer.from(buf);
    bad[(offsets[2] as number) + 0] = 0;
    bad[(offsets[3] as number) + 0] = 0;
    const s = scanSegment(bad, 100);
    expect(ids(s)).toEqual([100, 101, 104, 105]);
    expect(s.corrupt).toEqual([{ from: offsets[2], to: offsets[4], reason: 'magic' }]);
  });

  it('ids must rise: a repeated id or one below the segment base is corruption', () => {
    const a = encodeRecord(100, 1, Buffer.from('a'));
    const again = encodeRecord(100, 2, Buffer.from('again'));
    const b = encodeRecord(101, 3, Buffer.from('b'));
    const s = scanSegment(Buffer.concat([a, again, b]), 100);
    expect(ids(s)).toEqual([100, 101]);
    expect(s.corrupt).toEqual([{ from: a.length, to: a.length + again.length, reason: 'id' }]);
    const below = scanSegment(Buffer.concat([encodeRecord(5, 1, Buffer.from('x')), b]), 100);
    expect(ids(below)).toEqual([101]);
    expect(below.corrupt[0]?.reason).toBe('id');
  });

  it('a file with no record at all is one torn range', () => {
    const s = scanSegment(Buffer.from('{"this is":"not a segment"}'), 0);
    expect(s).toEqual({ records: [], corrupt: [], torn: { from: 0, bytes: 27, reason: 'magic' }, good_end: 0 });
  });

  it('fuzz: any damage yields a subset of the original records, in order, never a throw', () => {
    const { buf } = segment(40, 1000);
    const original = scanSegment(buf, 1000).records;
    const rand = rng(20260101);
    for (let round = 0; round < 400; round++) {
      const b = Buffer.from(buf);
      const hits = 1 + Math.floor(rand() * 4);
      for (let h = 0; h < hits; h++) {
        const at = Math.floor(rand() * b.length);
        const kind = rand();
        if (kind < 0.5) b[at] = Math.floor(rand() * 256);
        else b.fill(kind < 0.75 ? 0 : 0xff, at, Math.min(b.length, at + Math.floor(rand() * 64)));
      }
      const cut = rand() < 0.3 ? Math.floor(rand() * b.length) : b.length;
      const s = scanSegment(b.subarray(0, cut), 1000);
      const got = ids(s);
      expect([...got].sort((x, y) => x - y)).toEqual(got);
      for (const r of s.records) {
        const o = original.find((x) => x.id === r.id);
        expect(o, `round ${round}: id ${r.id}`).toBeDefined();
        expect(b.subarray(r.offset, r.offset + r.bytes).equals(buf.subarray(o!.offset, o!.offset + o!.bytes))).toBe(true);
      }
      const accounted = s.records.reduce((n, r) => n + r.bytes, 0) + s.corrupt.reduce((n, r) => n + r.to - r.from, 0) + (s.torn?.bytes ?? 0);
      expect(accounted).toBe(cut);
    }
  });
});
