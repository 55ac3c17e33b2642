import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Clock, TimerHandle } from '../../contract/clock.js';
import { DcimError } from '../../contract/errors.js';
import type { Logger } from '../log.js';
import { fail, ok, type Result } from '../result.js';
import { DoneIds, parseDoneIds } from './done-ids.js';
import { decodeRecordAt, encodeRecord, MAX_RECORD_PAYLOAD_BYTES } from './record-frame.js';
import { SegmentIndex } from './segment-index.js';
import { parseSegmentFileName, segmentFileName } from './segment-name.js';
import { scanSegment, type ScannedRecord } from './segment-scan.js';
import { nodeSpoolFs, type SpoolFs } from './spool-fs.js';

/**
 * A durable, bounded, append-only spool of opaque records (docs/design.md §2), in one directory:
 *
 *   <dir>/0000000000000000.seg   segment files of length-prefixed, CRC-checked records
 *   <dir>/0000000000041210.seg   (record-frame.ts), named after their first id
 *   <dir>/acks.json              which ids are done (acknowledged or dropped): done-ids.ts
 *   <dir>/LOCK                   the pid of the process using the spool
 *   <dir>/quarantine/            corrupt segments, kept for inspection (newest 8)
 *
 * - `append` writes the record with write(2) before it returns, so a SIGKILL loses nothing
 *   that was appended; fsync (what survives a power loss) follows the FsyncPolicy.
 * - A record is gone only when `ack` (the broker's PUBACK) or a bound marks it done; a segment
 *   file is deleted once all its records are done. acks.json is rewritten at each group
 *   commit, so after a crash at most the acks of the last commit interval are resent.
 * - Bounded by bytes on disk (whole oldest segments are dropped: retention is per segment, as
 *   in Kafka) and by age (oldest records first). Drops are counted and logged once per episode.
 * - Recovery on open: a torn last record is truncated, a segment with corrupt bytes inside is
 *   moved to quarantine/ and its intact records salvaged into a rewritten segment.
 * - A failed write (full disk, I/O error) refuses that record with a counter; nothing throws
 *   after open().
 * - After open, appends go to a new segment; older segments are only read.
 */
export type FsyncMode = 'interval' | 'always' | 'never';

export interface FsyncPolicy {
  /**
   * interval: group commit, one fsync per `intervalMs` while records arrive (default; a power
   * loss costs at most that much); always: fsync before append returns (slow disks stall the
   * agent); never: leave it to the OS (about 30 s on Linux), for flash that must not wear.
   */
  mode: FsyncMode;
  /** Group commit period: fsync (mode interval) and the ack file rewrite (every mode). */
  intervalMs: number;
}

export interface SpoolOptions {
  dir: string;
  maxBytes: number;
  maxAgeMs: number;
  /** Default: maxBytes / 8, between 4 KiB and 16 MiB. At most maxBytes / 4. */
  segmentBytes?: number;
  fsync?: FsyncPolicy;
  clock: Clock;
  logger: Logger;
  fs?: SpoolFs;
  /** Whether the process named in an existing LOCK file still runs. */
  isProcessAlive?: (pid: number) => boolean;
  pid?: number;
  /** Quarantined segments kept; older ones are deleted. */
  quarantineKeep?: number;
}

export const MIB = 1024 * 1024;
export const DEFAULT_FSYNC: FsyncPolicy = { mode: 'interval', intervalMs: 200 };
const MAX_SEGMENT_BYTES = 16 * MIB;
const MIN_SEGMENT_BYTES = 4096;
/** Drops closer together than this are one episode: one log line. */
const DROP_EPISODE_GAP_MS = 60_000;

export function defaultSegmentBytes(maxBytes: number): number {
  return Math.max(MIN_SEGMENT_BYTES, Math.min(MAX_SEGMENT_BYTES, Math.floor(maxBytes / 8)));
}

export interface SpoolRefusal {
  reason: 'closed' | 'too_large' | 'write_failed';
  message: string;
}

export interface SpoolStats {
  /** Records waiting for their PUBACK. */
  records: number;
  /** Payload + header bytes of those records. */
  pending_bytes: number;
  /** Segment files on disk: what max_bytes bounds. */
  bytes: number;
  segments: number;
  /** Append time of the oldest waiting record; null when the spool is empty. */
  oldest_ts: number | null;
  oldest_age_ms: number;
  next_id: number;
  appended: number;
  acked: number;
  dropped_records: number;
  dropped_bytes: number;
  drop_episodes: number;
  refused_records: number;
  refused_bytes: number;
  torn_tails: number;
  torn_bytes: number;
  quarantined_segments: number;
  corrupt_bytes: number;
  unreadable_records: number;
  fsyncs: number;
  fsync_errors: number;
  ack_write_errors: number;
  recovered_records: number;
  recovery_ms: number;
}

/** What the spool counts over its life (the rest of SpoolStats is its state now). */
type SpoolCounters = Omit<SpoolStats, 'records' | 'pending_bytes' | 'bytes' | 'segments' | 'oldest_ts' | 'oldest_age_ms' | 'next_id'>;

function zeroCounters(): SpoolCounters {
  return {
    appended: 0,
    acked: 0,
    dropped_records: 0,
    dropped_bytes: 0,
    drop_episodes: 0,
    refused_records: 0,
    refused_bytes: 0,
    torn_tails: 0,
    torn_bytes: 0,
    quarantined_segments: 0,
    corrupt_bytes: 0,
    unreadable_records: 0,
    fsyncs: 0,
    fsync_errors: 0,
    ack_write_errors: 0,
    recovered_records: 0,
    recovery_ms: 0,
  };
}

export function emptySpoolStats(): SpoolStats {
  return { records: 0, pending_bytes: 0, bytes: 0, segments: 0, oldest_ts: null, oldest_age_ms: 0, next_id: 0, ...zeroCounters() };
}

export interface SpoolEntry {
  id: number;
  appended_at_ms: number;
  payload: Buffer;
}

interface Segment {
  base: number;
  name: string;
  path: string;
  index: SegmentIndex;
  /** End of the last intact record. */
  end: number;
  /** Bytes on disk (end, plus a failed write that could not be undone). */
  size: number;
  readFd: number | undefined;
  writeFd: number | undefined;
  dirty: boolean;
  syncing: Promise<void> | undefined;
  /** A failed write left bytes that could not be truncated: no more appends here. */
  broken: boolean;
}

type DropLimit = 'bytes' | 'age';

export class Spool {
  private readonly fs: SpoolFs;
  private readonly fsyncPolicy: FsyncPolicy;
  private readonly segmentBytes: number;
  private segments: Segment[] = [];
  private active: Segment | undefined;
  private done = new DoneIds();
  private nextIdValue = 0;
  private diskBytes = 0;
  private pendingRecords = 0;
  private pendingBytes = 0;
  private state: 'new' | 'open' | 'closing' | 'closed' = 'new';
  private commitTimer: TimerHandle | undefined;
  private housekeepingTimer: TimerHandle | undefined;
  private committing: Promise<void> | undefined;
  private acksDirty = false;
  private dirDirty = false;
  private lastDropAt = Number.NEGATIVE_INFINITY;
  private refusing = false;
  private refusedInEpisode = 0;
  private fsyncFailing = false;
  private ackWriteFailing = false;
  private readonly unreadableLogged = new Set<string>();
  private readonly counts: SpoolCounters = zeroCounters();

  constructor(private readonly opts: SpoolOptions) {
    this.fs = opts.fs ?? nodeSpoolFs;
    this.fsyncPolicy = opts.fsync ?? DEFAULT_FSYNC;
    this.segmentBytes = Math.min(opts.segmentBytes ?? defaultSegmentBytes(opts.maxBytes), Math.max(MIN_SEGMENT_BYTES, Math.floor(opts.maxBytes / 4)));
  }

  private get ackFile(): string {
    return join(this.opts.dir, 'acks.json');
  }

  private get lockFile(): string {
    return join(this.opts.dir, 'LOCK');
  }

  /** The id the next append gets. */
  get nextId(): number {
    return this.nextIdValue;
  }

  /** The oldest id that may still be waiting. */
  get floor(): number {
    return this.done.floor;
  }

  /**
   * Take the directory (refused if another live process holds it), recover every segment, and
   * apply the bounds. Throws only when the directory itself is unusable.
   */
  open(): void {
    if (this.state !== 'new') return;
    const t0 = performance.now();
    const { dir, logger } = this.opts;
    try {
      this.fs.mkdirp(dir);
    } catch (e) {
      throw new DcimError('DCIM_E_CONFIG_INVALID', `${dir}: cannot create the spool directory: ${(e as Error).message}`);
    }
    this.lock();
    try {
      this.recover();
    } catch (e) {
      this.fs.unlink(this.lockFile);
      throw new DcimError('DCIM_E_CONFIG_INVALID', `${dir}: the spool cannot be recovered: ${describe(e)}`);
    }
    this.state = 'open';
    this.enforceAge();
    this.acksDirty = true;
    this.scheduleCommit();
    this.scheduleHousekeeping();
    this.counts.recovery_ms = Math.round((performance.now() - t0) * 10) / 10;
    logger.info('spool opened', {
      dir,
      records: this.pendingRecords,
      bytes: this.diskBytes,
      segments: this.segments.length,
      next_id: this.nextIdValue,
      torn_tails: this.counts.torn_tails,
      quarantined_segments: this.counts.quarantined_segments,
      recovery_ms: this.counts.recovery_ms,
    });
  }

  /** Read the ack file and every segment; build the index, the done set and the counters. */
  private recover(): void {
    const { dir } = this.opts;
    this.done = new DoneIds(this.readAckFile());
    const names = this.fs.list(dir);
    for (const n of names) if (n.endsWith('.tmp') || n.endsWith('.salvage')) this.fs.unlink(join(dir, n));
    const files = names
      .map((name) => ({ name, base: parseSegmentFileName(name) }))
      .filter((f): f is { name: string; base: number } => f.base !== undefined)
      .sort((a, b) => a.base - b.base);

    let lastId = -1;
    for (const [k, f] of files.entries()) {
      const path = join(dir, f.name);
      const nextBase = files[k + 1]?.base;
      // Every id below the next segment's base is done: acked before a crash kept us from deleting it.
      if (nextBase !== undefined && nextBase <= this.done.floor) {
        this.fs.unlink(path);
        continue;
      }
      const seg = this.recoverSegment(f.name, f.base, path, lastId + 1);
      if (!seg) continue;
      this.segments.push(seg);
      this.diskBytes += seg.size;
      lastId = seg.index.lastId as number;
    }

    const doneState = this.done.state();
    const lastDone = doneState.ranges.at(-1)?.[1] ?? -1;
    this.nextIdValue = Math.max(this.done.floor, lastDone + 1, lastId + 1);

    // Ids that no segment holds (salvaged holes, ids of segments lost before a crash) are done.
    let expected = this.done.floor;
    for (const seg of this.segments) {
      for (let i = 0; i < seg.index.count; i++) {
        const r = seg.index.get(i);
        if (r.id > expected) this.done.addRange(expected, r.id - 1);
        expected = Math.max(expected, r.id + 1);
        if (!this.done.has(r.id)) {
          this.pendingRecords++;
          this.pendingBytes += r.bytes;
        }
      }
    }
    if (this.nextIdValue > expected) this.done.addRange(expected, this.nextIdValue - 1);
    this.counts.recovered_records = this.pendingRecords;

    for (const seg of [...this.segments]) this.reclaimIfDone(seg);
  }

  /**
   * Store one record durably (see FsyncPolicy) and return its id. Refused, never thrown:
   * a closed spool, a record larger than the whole spool, a failed write.
   */
  append(payload: Buffer): Result<number, SpoolRefusal> {
    if (this.state !== 'open') return fail({ reason: 'closed', message: 'spool is not open' });
    const now = this.opts.clock.now();
    this.enforceAge(now);
    if (payload.length > MAX_RECORD_PAYLOAD_BYTES) return this.refuse(payload.length, 'too_large', `record of ${payload.length} bytes exceeds ${MAX_RECORD_PAYLOAD_BYTES}`);
    const rec = encodeRecord(this.nextIdValue, now, payload);
    if (rec.length > this.opts.maxBytes) return this.refuse(rec.length, 'too_large', `record of ${rec.length} bytes exceeds max_bytes ${this.opts.maxBytes}`);

    const a = this.active;
    if (a && (a.broken || (a.index.count > 0 && a.end + rec.length > this.segmentBytes))) this.seal(a);
    this.makeRoom(rec.length, now);

    let seg = this.active;
    if (!seg) {
      try {
        seg = this.createSegment(this.nextIdValue);
      } catch (e) {
        return this.refuse(rec.length, 'write_failed', describe(e), e);
      }
    }
    try {
      const n = this.fs.write(seg.writeFd as number, rec);
      if (n !== rec.length) throw Object.assign(new Error(`short write: ${n} of ${rec.length} bytes`), { code: 'ENOSPC' });
    } catch (e) {
      this.undoWrite(seg);
      return this.refuse(rec.length, 'write_failed', describe(e), e);
    }
    const id = this.nextIdValue++;
    seg.index.push({ id, offset: seg.end, bytes: rec.length, appended_at_ms: now });
    seg.end += rec.length;
    seg.size = Math.max(seg.size, seg.end);
    this.diskBytes += rec.length;
    this.pendingRecords++;
    this.pendingBytes += rec.length;
    this.counts.appended++;
    seg.dirty = true;
    if (this.fsyncPolicy.mode === 'always') this.fsyncNow(seg);
    this.scheduleCommit();
    if (this.refusing) {
      this.refusing = false;
      this.opts.logger.info('spool writable again', { dir: this.opts.dir, refused_records: this.refusedInEpisode });
      this.refusedInEpisode = 0;
    }
    return ok(id);
  }

  /** The record with this id, checked against its CRC again (bit rot after recovery). */
  read(id: number): Result<SpoolEntry, 'done' | 'unreadable'> {
    if (this.state !== 'open' || id >= this.nextIdValue || this.done.has(id)) return fail('done');
    const loc = this.locate(id);
    if (!loc) {
      this.done.add(id);
      return fail('done');
    }
    const { seg, i } = loc;
    const r = seg.index.get(i);
    let why: string;
    try {
      seg.readFd ??= this.fs.openRead(seg.path);
      const buf = Buffer.allocUnsafe(r.bytes);
      const n = this.fs.read(seg.readFd, buf, r.offset);
      const d = decodeRecordAt(buf.subarray(0, n), 0);
      if (d.kind === 'ok' && d.record.id === id) return ok({ id, appended_at_ms: d.record.appended_at_ms, payload: d.record.payload });
      why = d.kind === 'ok' ? `holds id ${d.record.id}` : d.kind === 'truncated' ? 'cut short' : `bad ${d.reason}`;
    } catch (e) {
      why = describe(e);
    }
    // A record that cannot be read now will not be readable later: drop it rather than stall the queue.
    this.markDone(id, r.bytes);
    this.counts.unreadable_records++;
    if (!this.unreadableLogged.has(seg.name)) {
      this.unreadableLogged.add(seg.name);
      this.opts.logger.error('spool record unreadable: skipped', { dir: this.opts.dir, segment: seg.name, id, reason: why });
    }
    this.reclaimIfDone(seg);
    return fail('unreadable');
  }

  /** The broker acknowledged this record: it is done. False when it already was. */
  ack(id: number): boolean {
    if ((this.state !== 'open' && this.state !== 'closing') || id >= this.nextIdValue || this.done.has(id)) return false;
    const loc = this.locate(id);
    this.markDone(id, loc ? loc.seg.index.get(loc.i).bytes : 0);
    this.counts.acked++;
    if (loc) this.reclaimIfDone(loc.seg);
    return true;
  }

  /** The oldest waiting id ≥ `from`, or undefined. */
  nextPending(from: number): number | undefined {
    const id = this.done.nextNotDone(from);
    return id < this.nextIdValue ? id : undefined;
  }

  /** Waiting records with ids in [lo, hi). */
  countPending(lo: number, hi: number): number {
    const to = Math.min(hi, this.nextIdValue);
    return to <= lo ? 0 : to - lo - this.done.countDone(lo, to);
  }

  /** Drop records older than max age, oldest first. Runs on every append and on a timer. */
  enforceAge(now = this.opts.clock.now()): void {
    if (this.state !== 'open') return;
    const cutoff = now - this.opts.maxAgeMs;
    let dropped = 0;
    let bytes = 0;
    let id = this.done.floor;
    const touched = new Set<Segment>();
    for (;;) {
      id = this.done.nextNotDone(id);
      if (id >= this.nextIdValue) break;
      const loc = this.locate(id);
      if (!loc) {
        this.done.add(id);
        continue;
      }
      const r = loc.seg.index.get(loc.i);
      if (r.appended_at_ms >= cutoff) break;
      this.markDone(id, r.bytes);
      dropped++;
      bytes += r.bytes;
      touched.add(loc.seg);
      id++;
    }
    if (dropped === 0) return;
    this.noteDrop('age', dropped, bytes, now);
    for (const seg of touched) this.reclaimIfDone(seg);
  }

  /** Run a group commit now (fsync per policy, ack file). */
  async flush(): Promise<void> {
    this.commitTimer?.cancel();
    this.commitTimer = undefined;
    await this.commit();
  }

  /** Commit, close every file, release the lock. Records not acknowledged stay for the next open. */
  async close(): Promise<void> {
    if (this.state !== 'open') {
      if (this.state === 'new') this.state = 'closed';
      return;
    }
    // Acks still arrive while closing (PUBACKs of the last messages in flight) and are kept.
    this.state = 'closing';
    this.commitTimer?.cancel();
    this.housekeepingTimer?.cancel();
    this.commitTimer = undefined;
    this.housekeepingTimer = undefined;
    do await this.commit();
    while (this.acksDirty || this.committing);
    this.state = 'closed';
    if (this.active) this.seal(this.active);
    // A fully acknowledged last segment is not left for the next start to delete.
    for (const s of [...this.segments]) this.reclaimIfDone(s);
    await Promise.all(this.segments.map((s) => s.syncing));
    for (const s of this.segments) this.closeFds(s);
    try {
      this.fs.unlink(this.lockFile);
    } catch {
      // a stale lock is taken over by the next open
    }
  }

  stats(): SpoolStats {
    const now = this.opts.clock.now();
    const oldest = this.oldestTs();
    return {
      records: this.pendingRecords,
      pending_bytes: this.pendingBytes,
      bytes: this.diskBytes,
      segments: this.segments.length,
      oldest_ts: oldest ?? null,
      oldest_age_ms: oldest === undefined ? 0 : Math.max(0, now - oldest),
      next_id: this.nextIdValue,
      ...this.counts,
    };
  }

  // ---- recovery ----

  private recoverSegment(name: string, base: number, path: string, minId: number): Segment | undefined {
    const { logger, dir } = this.opts;
    let buf: Buffer | undefined;
    try {
      buf = this.fs.readFile(path);
    } catch (e) {
      logger.error('spool segment unreadable: quarantined', { dir, segment: name, error: e as Error });
      this.quarantine(name, path, undefined);
      return undefined;
    }
    if (!buf) return undefined;
    const scan = scanSegment(buf, Math.max(base, minId));
    let records: ScannedRecord[] = scan.records;
    let size = scan.good_end;
    // A torn write still begins with a record header; a file that does not is not ours to cut.
    const foreign = records.length === 0 && scan.torn !== undefined && scan.torn.reason !== 'truncated';
    if (scan.corrupt.length > 0 || foreign) {
      const corruptBytes = scan.corrupt.reduce((s, r) => s + r.to - r.from, 0) + (scan.torn?.bytes ?? 0);
      this.counts.quarantined_segments++;
      this.counts.corrupt_bytes += corruptBytes;
      const salvaged = this.quarantine(name, path, { buf, records });
      logger.error('spool segment corrupt: quarantined, intact records salvaged', {
        dir,
        segment: name,
        reason: scan.corrupt[0]?.reason ?? scan.torn?.reason,
        corrupt_bytes: corruptBytes,
        salvaged_records: records.length,
        salvage: salvaged ? 'rewritten' : 'read in place',
      });
      if (salvaged) {
        records = salvaged;
        size = salvaged.reduce((s, r) => s + r.bytes, 0);
      } else {
        size = buf.length;
      }
    } else if (scan.torn) {
      this.counts.torn_tails++;
      this.counts.torn_bytes += scan.torn.bytes;
      try {
        this.fs.truncate(path, scan.good_end);
      } catch (e) {
        size = buf.length;
        logger.error('spool torn tail could not be truncated', { dir, segment: name, error: e as Error });
      }
      logger.warn('spool torn last record truncated', { dir, segment: name, torn_bytes: scan.torn.bytes, reason: scan.torn.reason, records: records.length });
    }
    if (records.length === 0) {
      this.fs.unlink(path);
      return undefined;
    }
    const index = new SegmentIndex(Math.max(64, records.length));
    for (const r of records) index.push(r);
    return { base, name, path, index, end: size, size, readFd: undefined, writeFd: undefined, dirty: false, syncing: undefined, broken: false };
  }

  /**
   * Move a corrupt segment to quarantine/ and rewrite its intact records under the old name.
   * Returns the rewritten records' new positions, or undefined when the rewrite failed (the
   * original then stays in place and its intact records are read where they are).
   */
  private quarantine(name: string, path: string, intact: { buf: Buffer; records: ScannedRecord[] } | undefined): ScannedRecord[] | undefined {
    const qdir = join(this.opts.dir, 'quarantine');
    const qname = `${String(Math.round(this.opts.clock.now())).padStart(15, '0')}-${name}`;
    const tmp = `${path}.salvage`;
    let rewritten: ScannedRecord[] | undefined;
    try {
      this.fs.mkdirp(qdir);
      if (intact && intact.records.length > 0) {
        const parts = intact.records.map((r) => intact.buf.subarray(r.offset, r.offset + r.bytes));
        const data = Buffer.concat(parts);
        const fd = this.fs.createAppend(tmp);
        try {
          let off = 0;
          while (off < data.length) {
            const n = this.fs.write(fd, data.subarray(off));
            if (n <= 0) throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
            off += n;
          }
          if (this.fsyncPolicy.mode !== 'never') this.fs.fsyncSync(fd);
        } finally {
          this.fs.close(fd);
        }
        let offset = 0;
        rewritten = intact.records.map((r) => {
          const moved = { ...r, offset };
          offset += r.bytes;
          return moved;
        });
      }
      this.fs.rename(path, join(qdir, qname));
      if (rewritten) this.fs.rename(tmp, path);
      this.pruneQuarantine(qdir);
      this.dirDirty = true;
      return rewritten ?? [];
    } catch (e) {
      this.fs.unlink(tmp);
      this.opts.logger.error('spool quarantine failed: segment left in place', { dir: this.opts.dir, segment: name, error: e as Error });
      return undefined;
    }
  }

  private pruneQuarantine(qdir: string): void {
    const keep = this.opts.quarantineKeep ?? 8;
    const files = this.fs.list(qdir).sort();
    for (const f of files.slice(0, Math.max(0, files.length - keep))) this.fs.unlink(join(qdir, f));
  }

  private readAckFile(): { floor: number; ranges: [number, number][] } {
    let buf: Buffer | undefined;
    try {
      buf = this.fs.readFile(this.ackFile);
    } catch (e) {
      this.opts.logger.error('spool ack file unreadable: every spooled record will be resent', { dir: this.opts.dir, error: e as Error });
      return { floor: 0, ranges: [] };
    }
    if (!buf) return { floor: 0, ranges: [] };
    const state = parseDoneIds(buf.toString('utf8'));
    if (state) return state;
    // Resending is safe (the collector drops seen seqs); guessing a floor could lose data.
    this.opts.logger.error('spool ack file corrupt: every spooled record will be resent', { dir: this.opts.dir });
    return { floor: 0, ranges: [] };
  }

  private lock(): void {
    const pid = this.opts.pid ?? process.pid;
    if (this.fs.createExclusive(this.lockFile, `${pid}\n`)) return;
    const other = Number.parseInt(this.fs.readFile(this.lockFile)?.toString('utf8') ?? '', 10);
    const alive = this.opts.isProcessAlive ?? processAlive;
    if (Number.isSafeInteger(other) && other > 0 && other !== pid && alive(other)) {
      throw new DcimError('DCIM_E_SPOOL_LOCKED', `${this.opts.dir}: spool is in use by process ${other}; another process uses this spool directory`);
    }
    this.fs.replaceFileSync(this.lockFile, `${pid}\n`, false);
  }

  // ---- writing ----

  private createSegment(base: number): Segment {
    const name = segmentFileName(base);
    const path = join(this.opts.dir, name);
    const fd = this.fs.createAppend(path);
    const seg: Segment = { base, name, path, index: new SegmentIndex(), end: 0, size: 0, readFd: undefined, writeFd: fd, dirty: false, syncing: undefined, broken: false };
    this.segments.push(seg);
    this.active = seg;
    this.dirDirty = true;
    return seg;
  }

  /** A failed write may have left part of the record: cut it off, or retire the segment. */
  private undoWrite(seg: Segment): void {
    try {
      this.fs.ftruncate(seg.writeFd as number, seg.end);
    } catch {
      seg.broken = true;
      this.seal(seg);
    }
  }

  private refuse(bytes: number, reason: SpoolRefusal['reason'], message: string, error?: unknown): Result<number, SpoolRefusal> {
    this.counts.refused_records++;
    this.counts.refused_bytes += bytes;
    if (reason === 'write_failed') {
      this.refusedInEpisode++;
      if (!this.refusing) {
        this.refusing = true;
        this.opts.logger.error('spool write failed: records are refused until the disk accepts writes again', { dir: this.opts.dir, errno: (error as NodeJS.ErrnoException | undefined)?.code, message });
      }
    } else {
      this.opts.logger.error('spool refused a record', { dir: this.opts.dir, reason, message });
    }
    return fail({ reason, message });
  }

  /** Drop whole oldest segments until `need` more bytes fit under max_bytes. */
  private makeRoom(need: number, now: number): void {
    let dropped = 0;
    let bytes = 0;
    while (this.diskBytes + need > this.opts.maxBytes) {
      const victim = this.segments[0];
      if (!victim) break;
      if (victim === this.active) {
        if (victim.index.count === 0) break;
        this.seal(victim);
        continue;
      }
      for (let i = 0; i < victim.index.count; i++) {
        const r = victim.index.get(i);
        if (this.done.has(r.id)) continue;
        this.markDone(r.id, r.bytes);
        dropped++;
        bytes += r.bytes;
      }
      if (victim.index.count > 0) this.done.addRange(victim.index.firstId as number, victim.index.lastId as number);
      this.removeSegment(victim);
    }
    if (dropped > 0) this.noteDrop('bytes', dropped, bytes, now);
  }

  private noteDrop(limit: DropLimit, records: number, bytes: number, now: number): void {
    this.counts.dropped_records += records;
    this.counts.dropped_bytes += bytes;
    if (now - this.lastDropAt > DROP_EPISODE_GAP_MS) {
      this.counts.drop_episodes++;
      this.opts.logger.warn('spool limit reached: oldest records dropped', {
        dir: this.opts.dir,
        limit,
        ...(limit === 'bytes' ? { max_bytes: this.opts.maxBytes } : { max_age_ms: this.opts.maxAgeMs }),
        dropped_records: records,
        dropped_bytes: bytes,
        dropped_records_total: this.counts.dropped_records,
      });
    }
    this.lastDropAt = now;
  }

  private markDone(id: number, bytes: number): void {
    if (!this.done.add(id)) return;
    this.pendingRecords--;
    this.pendingBytes -= bytes;
    this.acksDirty = true;
    this.scheduleCommit();
  }

  private reclaimIfDone(seg: Segment): void {
    if (seg === this.active || !this.segments.includes(seg)) return;
    const first = seg.index.firstId;
    const last = seg.index.lastId;
    if (first !== undefined && last !== undefined && this.done.countDone(first, last + 1) < last + 1 - first) return;
    this.removeSegment(seg);
  }

  private removeSegment(seg: Segment): void {
    const i = this.segments.indexOf(seg);
    if (i >= 0) this.segments.splice(i, 1);
    if (this.active === seg) this.active = undefined;
    this.diskBytes -= seg.size;
    this.closeFds(seg);
    try {
      this.fs.unlink(seg.path);
    } catch (e) {
      this.opts.logger.error('spool segment could not be deleted', { dir: this.opts.dir, segment: seg.name, error: e as Error });
    }
    this.dirDirty = true;
    this.scheduleCommit();
  }

  /** No more appends to this segment; fsync it (per policy) and close its write handle. */
  private seal(seg: Segment): void {
    if (this.active === seg) this.active = undefined;
    if (seg.writeFd === undefined) return;
    if (seg.dirty && this.fsyncPolicy.mode !== 'never') void this.syncSegment(seg);
    const fd = seg.writeFd;
    seg.writeFd = undefined;
    this.closeAfterSync(seg, fd);
  }

  private closeFds(seg: Segment): void {
    if (seg.readFd !== undefined) {
      this.safeClose(seg.readFd);
      seg.readFd = undefined;
    }
    if (seg.writeFd !== undefined) {
      const fd = seg.writeFd;
      seg.writeFd = undefined;
      this.closeAfterSync(seg, fd);
    }
  }

  private closeAfterSync(seg: Segment, fd: number): void {
    if (seg.syncing) void seg.syncing.then(() => this.safeClose(fd));
    else this.safeClose(fd);
  }

  private safeClose(fd: number): void {
    try {
      this.fs.close(fd);
    } catch {
      // already closed: nothing to release
    }
  }

  private syncSegment(seg: Segment): Promise<void> {
    const fd = seg.writeFd;
    if (fd === undefined) return seg.syncing ?? Promise.resolve();
    seg.dirty = false;
    const p = (seg.syncing ?? Promise.resolve()).then(() =>
      this.fs.fsync(fd).then(
        () => this.fsyncOk(),
        (e: unknown) => this.fsyncFailed(seg, e),
      ),
    );
    seg.syncing = p;
    void p.then(() => {
      if (seg.syncing === p) seg.syncing = undefined;
    });
    return p;
  }

  private fsyncNow(seg: Segment): void {
    seg.dirty = false;
    try {
      this.fs.fsyncSync(seg.writeFd as number);
      this.fsyncOk();
    } catch (e) {
      this.fsyncFailed(seg, e);
    }
  }

  private fsyncOk(): void {
    this.counts.fsyncs++;
    if (this.fsyncFailing) {
      this.fsyncFailing = false;
      this.opts.logger.info('spool fsync works again', { dir: this.opts.dir });
    }
  }

  /** After a failed fsync the page cache cannot be trusted: start a new segment. */
  private fsyncFailed(seg: Segment, e: unknown): void {
    this.counts.fsync_errors++;
    if (!this.fsyncFailing) {
      this.fsyncFailing = true;
      this.opts.logger.error('spool fsync failed: records since the last commit may not survive a power loss', { dir: this.opts.dir, segment: seg.name, error: e as Error });
    }
    if (this.active === seg) this.seal(seg);
  }

  // ---- group commit and housekeeping ----

  private scheduleCommit(): void {
    if (this.commitTimer || this.state !== 'open') return;
    this.commitTimer = this.opts.clock.setTimeout(() => {
      this.commitTimer = undefined;
      void this.commit();
    }, this.fsyncPolicy.intervalMs);
  }

  private commit(): Promise<void> {
    if (this.committing) {
      // One commit at a time; anything marked dirty meanwhile goes in the next one.
      return this.committing.then(() => this.commit());
    }
    const tasks: Promise<void>[] = [];
    const mode = this.fsyncPolicy.mode;
    if (mode === 'interval' && this.active?.dirty) tasks.push(this.syncSegment(this.active));
    if (this.dirDirty && mode !== 'never') {
      this.dirDirty = false;
      tasks.push(this.fs.fsyncDir(this.opts.dir));
    }
    if (this.acksDirty) {
      this.acksDirty = false;
      tasks.push(this.writeAckFile());
    }
    if (tasks.length === 0) return Promise.resolve();
    const p = Promise.all(tasks).then(() => undefined);
    this.committing = p;
    void p.finally(() => {
      if (this.committing === p) this.committing = undefined;
    });
    return p;
  }

  private async writeAckFile(): Promise<void> {
    const text = JSON.stringify(this.done.state()) + '\n';
    try {
      await this.fs.replaceFile(this.ackFile, text, this.fsyncPolicy.mode !== 'never');
      if (this.ackWriteFailing) {
        this.ackWriteFailing = false;
        this.opts.logger.info('spool ack file written again', { dir: this.opts.dir });
      }
    } catch (e) {
      this.counts.ack_write_errors++;
      this.acksDirty = true;
      if (!this.ackWriteFailing) {
        this.ackWriteFailing = true;
        this.opts.logger.error('spool ack file not written: a restart would resend acknowledged records', { dir: this.opts.dir, error: e as Error });
      }
      this.scheduleCommit();
    }
  }

  private scheduleHousekeeping(): void {
    if (this.state !== 'open') return;
    const every = Math.min(60_000, Math.max(100, Math.floor(this.opts.maxAgeMs / 10)));
    this.housekeepingTimer = this.opts.clock.setTimeout(() => {
      this.enforceAge();
      this.scheduleHousekeeping();
    }, every);
  }

  // ---- lookup ----

  private locate(id: number): { seg: Segment; i: number } | undefined {
    let lo = 0;
    let hi = this.segments.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.segments[mid] as Segment).base <= id) lo = mid + 1;
      else hi = mid;
    }
    const seg = this.segments[lo - 1];
    if (!seg) return undefined;
    const i = seg.index.find(id);
    return i >= 0 ? { seg, i } : undefined;
  }

  private oldestTs(): number | undefined {
    const id = this.nextPending(this.done.floor);
    if (id === undefined) return undefined;
    const loc = this.locate(id);
    return loc ? loc.seg.index.get(loc.i).appended_at_ms : undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function describe(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err?.code ? `${err.code}: ${err.message}` : String(err?.message ?? e);
}
