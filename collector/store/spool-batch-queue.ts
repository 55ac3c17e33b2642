import type { Clock } from '../../contract/clock.js';
import type { Logger } from '../../shared/log.js';
import { Spool, type FsyncPolicy } from '../../shared/spool/spool.js';
import type { BatchQueue, PushResult, QueueStats, QueuedBatch } from './batch-queue.js';

/**
 * Batches on disk, in the same durable spool the agent uses for telemetry (shared/spool/): one
 * record per sealed batch, its lines joined by "\n" (line protocol never contains a raw newline,
 * line-protocol.ts refuses it). Every batch is written here before it is sent — write-ahead,
 * like the agent — so neither a store outage nor a collector restart loses what was accepted,
 * and replay after an outage is simply sending the oldest record first.
 *
 * The spool bounds itself (bytes, age) by dropping its oldest records; this queue keeps the line
 * count of every waiting record, so the points those drops lose are counted exactly.
 */
export interface SpoolBatchQueueOptions {
  dir: string;
  max_bytes: number;
  max_age_ms: number;
  fsync?: FsyncPolicy;
  segment_bytes?: number;
  clock: Clock;
  logger: Logger;
}

function lineCount(payload: Buffer): number {
  if (payload.length === 0) return 0;
  let n = 1;
  for (let i = payload.indexOf(10); i >= 0; i = payload.indexOf(10, i + 1)) n++;
  return n;
}

export class SpoolBatchQueue implements BatchQueue {
  readonly durable = true;
  private spool: Spool | undefined;
  /** Waiting record id → its line count, in id order (oldest first). */
  private readonly waiting = new Map<number, number>();
  private waitingLines = 0;
  private lostLines = 0;

  constructor(private readonly opts: SpoolBatchQueueOptions) {}

  open(): void {
    if (this.spool) return;
    const o = this.opts;
    const spool = new Spool({
      dir: o.dir,
      maxBytes: o.max_bytes,
      maxAgeMs: o.max_age_ms,
      ...(o.fsync ? { fsync: o.fsync } : {}),
      ...(o.segment_bytes !== undefined ? { segmentBytes: o.segment_bytes } : {}),
      clock: o.clock,
      logger: o.logger,
    });
    spool.open();
    this.spool = spool;
    // What a previous run left: count its lines, so `pending` and later drops are exact.
    for (let id = spool.nextPending(spool.floor); id !== undefined; id = spool.nextPending(id + 1)) {
      const r = spool.read(id);
      if (r.ok) this.remember(id, lineCount(r.value.payload));
    }
    if (this.waiting.size > 0) o.logger.info('store spool: batches from a previous run will be sent', { dir: o.dir, batches: this.waiting.size, lines: this.waitingLines });
  }

  private remember(id: number, lines: number): void {
    this.waiting.set(id, lines);
    this.waitingLines += lines;
  }

  private forget(id: number): number {
    const n = this.waiting.get(id);
    if (n === undefined) return 0;
    this.waiting.delete(id);
    this.waitingLines -= n;
    return n;
  }

  /** Records the spool dropped on its own (bounds) since we last looked: oldest first, so stop at the first still waiting. */
  private reconcile(): number {
    const spool = this.spool;
    if (!spool) return 0;
    let dropped = 0;
    for (const id of this.waiting.keys()) {
      if (spool.nextPending(id) === id) break;
      dropped += this.forget(id);
    }
    return dropped;
  }

  push(lines: readonly string[]): PushResult {
    if (lines.length === 0) return { refused_lines: 0, dropped_lines: 0 };
    this.open();
    const spool = this.spool as Spool;
    const r = spool.append(Buffer.from(lines.join('\n'), 'utf8'));
    // Appending may have dropped older records to stay under max_bytes / max_age.
    const dropped = this.reconcile();
    if (!r.ok) return { refused_lines: lines.length, dropped_lines: dropped };
    this.remember(r.value, lines.length);
    return { refused_lines: 0, dropped_lines: dropped };
  }

  peek(): QueuedBatch | undefined {
    const spool = this.spool;
    if (!spool) return undefined;
    this.lostLines += this.reconcile();
    for (const id of this.waiting.keys()) {
      const r = spool.read(id);
      if (r.ok) return { id, lines: r.value.payload.toString('utf8').split('\n') };
      // Unreadable (bad CRC) or already gone: the spool counted and logged it; count its lines.
      this.lostLines += this.forget(id);
    }
    return undefined;
  }

  ack(id: number): void {
    this.forget(id);
    this.spool?.ack(id);
  }

  trim(): number {
    return 0;
  }

  lost(): number {
    this.lostLines += this.reconcile();
    const n = this.lostLines;
    this.lostLines = 0;
    return n;
  }

  stats(): QueueStats {
    const s = this.spool?.stats();
    return {
      kind: 'spool',
      batches: this.waiting.size,
      lines: this.waitingLines,
      spool: {
        dir: this.opts.dir,
        bytes: s?.bytes ?? 0,
        segments: s?.segments ?? 0,
        oldest_age_ms: s?.oldest_age_ms ?? 0,
        dropped_records: s?.dropped_records ?? 0,
        refused_records: s?.refused_records ?? 0,
        unreadable_records: s?.unreadable_records ?? 0,
        recovered_records: s?.recovered_records ?? 0,
        fsync_errors: s?.fsync_errors ?? 0,
      },
    };
  }

  async close(): Promise<void> {
    const spool = this.spool;
    this.spool = undefined;
    await spool?.close();
  }
}
