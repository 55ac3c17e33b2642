import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DcimError, ManualClock } from '../../../contract/index.js';
import { memoryLogger } from '../../../shared/log.js';
import { encodeRecord } from '../../../shared/spool/record-frame.js';
import { Spool, type SpoolOptions } from '../../../shared/spool/spool.js';
import { nodeSpoolFs, type SpoolFs } from '../../../shared/spool/spool-fs.js';

const dirs: string[] = [];
const opened: Spool[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'dcim-spool-'));
  dirs.push(d);
  return d;
}

function open(dir: string, over: Partial<SpoolOptions> = {}) {
  const clock = (over.clock as ManualClock | undefined) ?? new ManualClock();
  const logger = memoryLogger();
  const spool = new Spool({ dir, maxBytes: 1024 * 1024, maxAgeMs: 3_600_000, clock, logger, ...over });
  spool.open();
  opened.push(spool);
  return { spool, clock, logger };
}

/** Close without the final commit, as a SIGKILL would leave things (only what write(2) put in the files). */
function crash(spool: Spool): void {
  opened.splice(opened.indexOf(spool), 1);
  (spool as unknown as { state: string }).state = 'closed';
  (spool as unknown as { commitTimer?: { cancel(): void } }).commitTimer?.cancel();
  (spool as unknown as { housekeepingTimer?: { cancel(): void } }).housekeepingTimer?.cancel();
}

const body = (i: number, pad = 0) => Buffer.from(`dcim/v1/demo/devices/d1/telemetry\n{"seq":${i}${pad ? `,"pad":"${'x'.repeat(pad)}"` : ''}}`);
const text = (s: Spool, id: number) => {
  const r = s.read(id);
  return r.ok ? r.value.payload.toString() : r.reason;
};
const segFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.seg')).sort();
const pendingIds = (s: Spool) => {
  const out: number[] = [];
  for (let id = s.nextPending(0); id !== undefined; id = s.nextPending(id + 1)) out.push(id);
  return out;
};
const logged = (logger: ReturnType<typeof memoryLogger>, msg: string) => logger.lines.filter((l) => l.msg === msg);

describe('Spool: append, read, ack, restart', () => {
  it('appends with rising ids, reads them back, forgets them on ack', async () => {
    const { spool } = open(tmp());
    expect([0, 1, 2].map((i) => spool.append(body(i)))).toEqual([0, 1, 2].map((value) => ({ ok: true, value })));
    expect(text(spool, 1)).toBe(body(1).toString());
    expect(spool.stats()).toMatchObject({ records: 3, appended: 3, segments: 1, next_id: 3 });
    expect(spool.ack(1)).toBe(true);
    expect(spool.ack(1)).toBe(false);
    expect(spool.ack(99)).toBe(false);
    expect(text(spool, 1)).toBe('done');
    expect(pendingIds(spool)).toEqual([0, 2]);
    expect(spool.countPending(0, 3)).toBe(2);
    expect(spool.stats()).toMatchObject({ records: 2, acked: 1 });
  });

  it('a restart resumes at the first unacknowledged record and never reuses an id', async () => {
    const dir = tmp();
    const first = open(dir).spool;
    for (let i = 0; i < 10; i++) first.append(body(i));
    for (const id of [0, 1, 2, 3, 6]) first.ack(id);
    await first.close();
    const { spool } = open(dir);
    expect(pendingIds(spool)).toEqual([4, 5, 7, 8, 9]);
    expect(text(spool, 7)).toBe(body(7).toString());
    expect(spool.stats()).toMatchObject({ records: 5, recovered_records: 5, next_id: 10 });
    expect(spool.append(body(10))).toEqual({ ok: true, value: 10 });
  });

  it('after a crash, acks since the last group commit are resent (at least once), appends are all there', async () => {
    const dir = tmp();
    const a = open(dir).spool;
    for (let i = 0; i < 6; i++) a.append(body(i));
    a.ack(0);
    a.ack(1);
    await a.flush();
    a.ack(2); // not committed yet
    crash(a);
    const { spool } = open(dir);
    expect(pendingIds(spool)).toEqual([2, 3, 4, 5]);
  });

  it('everything acknowledged leaves no segment but the ids keep rising', async () => {
    const dir = tmp();
    const a = open(dir, { segmentBytes: 4096 }).spool;
    for (let i = 0; i < 60; i++) a.append(body(i, 150));
    expect(segFiles(dir).length).toBeGreaterThan(2);
    for (let i = 0; i < 60; i++) a.ack(i);
    expect(segFiles(dir)).toHaveLength(1); // the active one
    await a.close();
    const { spool } = open(dir);
    expect(spool.stats()).toMatchObject({ records: 0, next_id: 60 });
    expect(segFiles(dir)).toHaveLength(0);
    expect(spool.append(body(60))).toEqual({ ok: true, value: 60 });
  });

  it('a segment acknowledged before a crash deleted it is deleted at the next open', async () => {
    const dir = tmp();
    const a = open(dir, { segmentBytes: 4096 }).spool;
    for (let i = 0; i < 60; i++) a.append(body(i, 150));
    const before = segFiles(dir);
    for (let i = 0; i < 40; i++) a.ack(i);
    await a.flush();
    crash(a);
    // Put back a fully acknowledged segment, as if the unlink had not happened.
    const gone = before.filter((f) => !segFiles(dir).includes(f));
    expect(gone.length).toBeGreaterThan(0);
    writeFileSync(join(dir, gone[0] as string), 'stale');
    const { spool } = open(dir);
    expect(segFiles(dir)).not.toContain(gone[0]);
    expect(pendingIds(spool)).toEqual(Array.from({ length: 20 }, (_, i) => 40 + i));
  });

  it('refuses a second live user of the directory, takes over a stale lock', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'LOCK'), '4242\n');
    expect(() => open(dir, { pid: 1, isProcessAlive: (pid) => pid === 4242 })).toThrow(DcimError);
    expect(() => open(dir, { pid: 1, isProcessAlive: () => false })).not.toThrow();
    expect(readFileSync(join(dir, 'LOCK'), 'utf8')).toBe('1\n');
  });

  it('a directory it cannot read is a clear start-up error, and the lock is released', () => {
    const dir = tmp();
    const fs: SpoolFs = { ...nodeSpoolFs, list: () => { throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }); } };
    expect(() => open(dir, { fs })).toThrow(/spool cannot be recovered: EACCES/);
    expect(existsSync(join(dir, 'LOCK'))).toBe(false);
  });

  it('a corrupt ack file means resending everything, said once', async () => {
    const dir = tmp();
    const a = open(dir).spool;
    for (let i = 0; i < 4; i++) a.append(body(i));
    a.ack(0);
    await a.close();
    writeFileSync(join(dir, 'acks.json'), '{"floor": 3, "ranges": [[1,');
    const { spool, logger } = open(dir);
    expect(pendingIds(spool)).toEqual([0, 1, 2, 3]);
    expect(logged(logger, 'spool ack file corrupt: every spooled record will be resent')).toHaveLength(1);
  });

  it('refuses after close, without throwing', async () => {
    const { spool } = open(tmp());
    await spool.close();
    expect(spool.append(body(1))).toMatchObject({ ok: false, reason: { reason: 'closed' } });
    expect(spool.read(0)).toEqual({ ok: false, reason: 'done' });
  });
});

describe('Spool: bounds', () => {
  it('max_bytes drops whole oldest segments, counts them, logs once per episode', () => {
    const dir = tmp();
    const { spool, clock, logger } = open(dir, { maxBytes: 16 * 1024, segmentBytes: 4096 });
    for (let i = 0; i < 200; i++) spool.append(body(i, 150));
    const s = spool.stats();
    expect(s.bytes).toBeLessThanOrEqual(16 * 1024);
    expect(segFiles(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0)).toBe(s.bytes);
    expect(s.dropped_records).toBeGreaterThan(100);
    expect(s.dropped_records + s.records).toBe(200);
    expect(s.dropped_bytes).toBeGreaterThan(s.dropped_records * 150);
    // Oldest first: what is left is the newest, without gaps.
    const left = pendingIds(spool);
    expect(left).toEqual(Array.from({ length: left.length }, (_, i) => 200 - left.length + i));
    const lines = logged(logger, 'spool limit reached: oldest records dropped');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', limit: 'bytes', max_bytes: 16 * 1024 });
    expect(s.drop_episodes).toBe(1);
    clock.advance(61_000);
    for (let i = 0; i < 50; i++) spool.append(body(i, 150));
    expect(logged(logger, 'spool limit reached: oldest records dropped')).toHaveLength(2);
    expect(spool.stats().drop_episodes).toBe(2);
  });

  it('max_age drops records older than the limit, oldest first, on a timer too', () => {
    const { spool, clock, logger } = open(tmp(), { maxAgeMs: 10_000 });
    for (let i = 0; i < 5; i++) spool.append(body(i));
    clock.advance(6_000);
    for (let i = 5; i < 8; i++) spool.append(body(i));
    expect(spool.stats()).toMatchObject({ records: 8, oldest_age_ms: 6_000 });
    clock.advance(5_000); // the first five are now 11 s old; no append needed
    expect(spool.stats()).toMatchObject({ records: 3, dropped_records: 5, oldest_age_ms: 5_000 });
    expect(pendingIds(spool)).toEqual([5, 6, 7]);
    expect(logged(logger, 'spool limit reached: oldest records dropped')[0]).toMatchObject({ limit: 'age', max_age_ms: 10_000, dropped_records: 5 });
  });

  it('a record larger than the whole spool is refused and counted', () => {
    const { spool } = open(tmp(), { maxBytes: 8192 });
    expect(spool.append(Buffer.alloc(9000, 0x61))).toMatchObject({ ok: false, reason: { reason: 'too_large' } });
    expect(spool.stats()).toMatchObject({ refused_records: 1, records: 0 });
  });
});

describe('Spool: recovery', () => {
  it('a torn last record (SIGKILL mid-write) is truncated and counted; the rest is intact', async () => {
    const dir = tmp();
    const a = open(dir).spool;
    for (let i = 0; i < 5; i++) a.append(body(i));
    crash(a);
    const seg = join(dir, segFiles(dir)[0] as string);
    const intact = statSync(seg).size;
    appendFileSync(seg, encodeRecord(5, 1, body(5)).subarray(0, 31));
    const { spool, logger } = open(dir);
    expect(pendingIds(spool)).toEqual([0, 1, 2, 3, 4]);
    expect(spool.stats()).toMatchObject({ torn_tails: 1, torn_bytes: 31, next_id: 5 });
    expect(statSync(seg).size).toBe(intact);
    expect(logged(logger, 'spool torn last record truncated')).toHaveLength(1);
    expect(spool.append(body(5))).toEqual({ ok: true, value: 5 });
    await spool.close();
    opened.splice(0);
    const again = open(dir).spool;
    expect(again.stats()).toMatchObject({ torn_tails: 0, records: 6 });
  });

  it('corruption inside a segment: quarantined, intact records salvaged, counted once', async () => {
    const dir = tmp();
    const a = open(dir, { segmentBytes: 4096 }).spool;
    for (let i = 0; i < 40; i++) a.append(body(i, 100));
    await a.close();
    const first = join(dir, segFiles(dir)[0] as string);
    const buf = readFileSync(first);
    buf.fill(0x20, 500, 520); // spaces inside the 4th or so record
    writeFileSync(first, buf);
    const { spool, logger } = open(dir, { segmentBytes: 4096 });
    const s = spool.stats();
    expect(s.quarantined_segments).toBe(1);
    expect(s.corrupt_bytes).toBeGreaterThan(0);
    expect(s.records).toBe(39);
    const missing = Array.from({ length: 40 }, (_, i) => i).filter((i) => !pendingIds(spool).includes(i));
    expect(missing).toHaveLength(1);
    for (const id of pendingIds(spool)) expect(text(spool, id)).toBe(body(id, 100).toString());
    expect(readdirSync(join(dir, 'quarantine'))).toHaveLength(1);
    expect(logged(logger, 'spool segment corrupt: quarantined, intact records salvaged')[0]).toMatchObject({ salvage: 'rewritten', salvaged_records: expect.any(Number) });
    await spool.close();
    opened.splice(0);
    const again = open(dir, { segmentBytes: 4096 }).spool;
    expect(again.stats()).toMatchObject({ quarantined_segments: 0, records: 39 });
  });

  it('a segment that is nothing but garbage is quarantined whole; a lone torn header is just cut', () => {
    const dir = tmp();
    const at = new ManualClock().now();
    writeFileSync(join(dir, '0000000000000000.seg'), Buffer.alloc(100, 0x7b));
    const good = Buffer.concat([0, 1].map((i) => encodeRecord(100 + i, at, body(i))));
    writeFileSync(join(dir, '0000000000000100.seg'), Buffer.concat([good, Buffer.alloc(30, 0x7b), encodeRecord(102, at, body(2))]));
    writeFileSync(join(dir, '0000000000000103.seg'), encodeRecord(103, at, body(3)).subarray(0, 12));
    const { spool } = open(dir);
    expect(pendingIds(spool)).toEqual([100, 101, 102]);
    expect(segFiles(dir)).toEqual(['0000000000000100.seg']);
    expect(readdirSync(join(dir, 'quarantine'))).toHaveLength(2);
    expect(spool.stats()).toMatchObject({ quarantined_segments: 2, torn_tails: 1, torn_bytes: 12, next_id: 103 });
  });

  it('a record that rots after recovery is skipped and counted at read time', () => {
    const dir = tmp();
    const { spool, logger } = open(dir);
    for (let i = 0; i < 3; i++) spool.append(body(i));
    const seg = join(dir, segFiles(dir)[0] as string);
    const buf = readFileSync(seg);
    const second = encodeRecord(0, 0, body(0)).length + 40;
    buf[second] = (buf[second] as number) ^ 0xff;
    writeFileSync(seg, buf);
    expect(spool.read(1)).toEqual({ ok: false, reason: 'unreadable' });
    expect(text(spool, 2)).toBe(body(2).toString());
    expect(spool.stats()).toMatchObject({ unreadable_records: 1, records: 2 });
    expect(logged(logger, 'spool record unreadable: skipped')).toHaveLength(1);
  });

  it('tolerates stray files: temp files are removed, unknown ones left alone', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'acks.json.tmp'), 'half');
    writeFileSync(join(dir, 'README'), 'operator notes');
    writeFileSync(join(dir, '12.seg'), 'not our name');
    open(dir);
    expect(existsSync(join(dir, 'acks.json.tmp'))).toBe(false);
    expect(existsSync(join(dir, 'README'))).toBe(true);
    expect(existsSync(join(dir, '12.seg'))).toBe(true);
  });
});

/** The real file system, with faults on demand. */
function faultyFs() {
  const ctl = { writeBudget: Number.POSITIVE_INFINITY, failCreate: false, failFtruncate: false, failFsync: false, fsyncs: 0 };
  const enospc = () => Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
  const fs: SpoolFs = {
    ...nodeSpoolFs,
    createAppend: (p) => {
      if (ctl.failCreate) throw enospc();
      return nodeSpoolFs.createAppend(p);
    },
    write: (fd, buf) => {
      if (ctl.writeBudget <= 0) throw enospc();
      const n = Math.min(buf.length, ctl.writeBudget);
      ctl.writeBudget -= n;
      return nodeSpoolFs.write(fd, buf.subarray(0, n));
    },
    ftruncate: (fd, len) => {
      if (ctl.failFtruncate) throw Object.assign(new Error('EIO'), { code: 'EIO' });
      nodeSpoolFs.ftruncate(fd, len);
    },
    fsync: async (fd) => {
      ctl.fsyncs++;
      if (ctl.failFsync) throw Object.assign(new Error('EIO: fsync'), { code: 'EIO' });
      return nodeSpoolFs.fsync(fd);
    },
  };
  return { fs, ctl };
}

describe('Spool: a full or failing disk', () => {
  it('refuses records while the disk is full, cuts off the partial write, recovers when space returns', async () => {
    const dir = tmp();
    const { fs, ctl } = faultyFs();
    const { spool, logger } = open(dir, { fs });
    spool.append(body(0));
    ctl.writeBudget = 20; // the next record gets 20 bytes in, then ENOSPC
    for (let i = 1; i <= 3; i++) expect(spool.append(body(i))).toMatchObject({ ok: false, reason: { reason: 'write_failed' } });
    expect(spool.stats()).toMatchObject({ records: 1, refused_records: 3 });
    expect(statSync(join(dir, segFiles(dir)[0] as string)).size).toBe(encodeRecord(0, 0, body(0)).length);
    expect(logged(logger, 'spool write failed: records are refused until the disk accepts writes again')).toHaveLength(1);
    ctl.writeBudget = Number.POSITIVE_INFINITY;
    expect(spool.append(body(4))).toEqual({ ok: true, value: 1 });
    expect(logged(logger, 'spool writable again')[0]).toMatchObject({ refused_records: 3 });
    await spool.close();
    opened.splice(0);
    const again = open(dir).spool;
    expect(again.stats()).toMatchObject({ records: 2, torn_tails: 0 });
    expect(text(again, 1)).toBe(body(4).toString());
  });

  it('a full disk when a segment must be created refuses too', () => {
    const { fs, ctl } = faultyFs();
    ctl.failCreate = true;
    const { spool } = open(tmp(), { fs });
    expect(spool.append(body(0))).toMatchObject({ ok: false, reason: { reason: 'write_failed' } });
    ctl.failCreate = false;
    expect(spool.append(body(1))).toEqual({ ok: true, value: 0 });
  });

  it('a partial write that cannot be cut off retires the segment; the next open truncates it', async () => {
    const dir = tmp();
    const { fs, ctl } = faultyFs();
    const { spool } = open(dir, { fs });
    spool.append(body(0));
    ctl.writeBudget = 10;
    ctl.failFtruncate = true;
    expect(spool.append(body(1)).ok).toBe(false);
    ctl.writeBudget = Number.POSITIVE_INFINITY;
    expect(spool.append(body(2))).toEqual({ ok: true, value: 1 });
    expect(segFiles(dir)).toHaveLength(2);
    await spool.close();
    opened.splice(0);
    const again = open(dir).spool;
    expect(again.stats()).toMatchObject({ records: 2, torn_tails: 1, torn_bytes: 10 });
    expect([text(again, 0), text(again, 1)]).toEqual([body(0).toString(), body(2).toString()]);
  });

  it('a failed fsync is counted and logged once, and never throws', async () => {
    const { fs, ctl } = faultyFs();
    ctl.failFsync = true;
    const { spool, logger } = open(tmp(), { fs, fsync: { mode: 'interval', intervalMs: 100 } });
    spool.append(body(0));
    await spool.flush();
    spool.append(body(1));
    await spool.flush();
    expect(spool.stats().fsync_errors).toBe(2);
    expect(logged(logger, 'spool fsync failed: records since the last commit may not survive a power loss')).toHaveLength(1);
    ctl.failFsync = false;
    spool.append(body(2));
    await spool.flush();
    expect(logged(logger, 'spool fsync works again')).toHaveLength(1);
    expect(spool.stats()).toMatchObject({ records: 3 });
  });
});

describe('Spool: fsync policy', () => {
  it.each<[SpoolOptions['fsync'], (appends: number, fsyncs: number) => void]>([
    [{ mode: 'interval', intervalMs: 200 }, (_a, f) => expect(f).toBe(1)],
    [{ mode: 'always', intervalMs: 200 }, (a, f) => expect(f).toBeGreaterThanOrEqual(a)],
    [{ mode: 'never', intervalMs: 200 }, (_a, f) => expect(f).toBe(0)],
  ])('%j', async (policy, check) => {
    const dir = tmp();
    const { fs, ctl } = faultyFs();
    const always = { ...fs, fsyncSync: (fd: number) => (ctl.fsyncs++, nodeSpoolFs.fsyncSync(fd)) };
    const { spool, clock } = open(dir, { fs: always, fsync: policy });
    for (let i = 0; i < 10; i++) spool.append(body(i));
    spool.ack(0);
    clock.advance(200); // the group commit timer
    await spool.flush();
    check(10, ctl.fsyncs);
    // The ack file is written in every mode, so a SIGKILL resends little.
    expect(JSON.parse(readFileSync(join(dir, 'acks.json'), 'utf8'))).toEqual({ floor: 1, ranges: [] });
  });
});
