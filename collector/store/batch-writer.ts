import { SystemClock, type Clock, type TimerHandle } from '../../contract/clock.js';
import { createLogger, type Logger } from '../../shared/log.js';
import { MemoryBatchQueue, type BatchQueue, type QueuedBatch } from './batch-queue.js';
import type { BatchTransport } from './batch-transport.js';
import { encodeLines } from './line-protocol.js';
import type { MetricPoint } from './metric-point.js';
import { emptySinkStats, type MetricSink, type SinkHealth, type SinkState, type SinkStats } from './metric-sink.js';
import { Quarantine } from './quarantine.js';

/**
 * Delivery to a line-protocol store, the same for InfluxDB 1.x `/write` and the v2 write API
 * (docs/design.md §7). Points are encoded once (line-protocol.ts), collected into batches of
 * `batch_lines` (≈5,000, or 4 MiB), sealed into a queue — in memory, or the durable on-disk
 * spool — and sent oldest first, one request at a time:
 * - written (204): acknowledged;
 * - 413: the batch is sent again in halves, and the smaller size is kept from then on (the
 *   server's body limit does not change); a single line still too large is quarantined;
 * - other 4xx: the lines are quarantined (a counter, an error line, a `.lp` file in
 *   `quarantine_dir` to replay by hand): sending them again would fail the same way;
 * - 429, 5xx, timeouts, refused connections: exponential back-off (1 s … 30 s, Retry-After
 *   honoured) while new batches keep queueing. A batch half sent when the store failed resumes
 *   where it stopped. A store that answers but refuses every batch alike (database or bucket
 *   missing, credentials refused) is backed off the same way, its points kept, and /healthz
 *   says `refusing` with the store's reason.
 * Nothing is dropped silently: every point is counted as written, rejected, invalid or lost.
 */
export interface BatchWriterOptions {
  transport: BatchTransport;
  /** Default: in memory, bounded by `max_buffer_lines`. */
  queue?: BatchQueue;
  batch_lines?: number;
  /** A batch is also sealed at this size (spool records stay well below their 16 MiB limit). */
  batch_bytes?: number;
  flush_interval_ms?: number;
  /** Memory queue only: lines held during an outage before the oldest are dropped. */
  max_buffer_lines?: number;
  retry_initial_ms?: number;
  retry_max_ms?: number;
  quarantine_dir?: string;
  clock?: Clock;
  logger?: Logger;
}

const DEFAULT_BATCH_BYTES = 4 * 1024 * 1024;

export class BatchWriter implements MetricSink {
  private readonly counters: SinkStats = emptySinkStats();
  private queueValue: BatchQueue | undefined;
  private opened = false;
  /** Lines not yet sealed into a batch. */
  private open: string[] = [];
  private openBytes = 0;
  private draining: Promise<void> | undefined;
  private rerun = false;
  private flushTimer: TimerHandle | undefined;
  private retryTimer: TimerHandle | undefined;
  private failures = 0;
  private closed = false;
  private overflowing = false;
  private rejected: Quarantine | undefined;
  /** Lines per request after a 413 taught us the server's limit. */
  private requestLimit: number | undefined;
  /** How far the batch in flight got before the store failed: resume there. */
  private progress: { id: number; offset: number } | undefined;
  private inflight: number | undefined;
  private lastOpenErrorLogMs = Number.NEGATIVE_INFINITY;
  private readonly health_: SinkHealth;
  /** Why the local side cannot hold points (spool unusable, disk refused); wins over the store's state. */
  private localProblem: { reason: string; since: number } | undefined;

  constructor(private readonly opts: BatchWriterOptions) {
    this.health_ = { target: opts.transport.target, state: 'ok', reason: null, since: null, reachable: true, last_success_ms: null, last_error: null, retry_at_ms: null };
  }

  /** The store's side of the health: ok, unreachable or refusing, since when it first became so. */
  private setState(state: Exclude<SinkState, 'unwritable'>, reason: string | null, keeping = false): void {
    const changed = this.health_.state !== state || (state !== 'ok' && this.health_.reason !== reason);
    if (this.health_.state !== state || this.health_.since === null) this.health_.since = this.clock.now();
    this.health_.state = state;
    this.health_.reason = reason;
    if (changed && keeping) this.logger.error('the store refuses the points: they are kept and sent again once it takes them', { code: 'DCIM_E_STORE_REJECTED', target: this.health_.target, reason });
  }

  private get clock(): Clock {
    return (this.opts.clock ??= new SystemClock());
  }

  private get logger(): Logger {
    return (this.opts.logger ??= createLogger({ base: { component: 'store' } }));
  }

  private get queue(): BatchQueue {
    return (this.queueValue ??= this.opts.queue ?? new MemoryBatchQueue());
  }

  private get batchLines(): number {
    return this.opts.batch_lines ?? 5000;
  }

  /**
   * Open the queue (the spool: take its directory, recover what a previous run left) and start
   * sending that backlog. Throws a DcimError when the spool directory is unusable or in use.
   * Called by `write` too, so a sink works without it; call it at start to fail early.
   */
  start(): void {
    if (this.opened) return;
    this.queue.open();
    this.opened = true;
    if (this.queue.stats().batches > 0) void this.drain();
  }

  write(points: readonly MetricPoint[]): void {
    const batch = encodeLines(points);
    this.counters.points_invalid += batch.points_dropped;
    this.counters.fields_dropped += batch.fields_dropped;
    if (batch.problems.length > 0) this.logger.warn('points or fields dropped before writing', { code: 'DCIM_E_STORE_WRITE', problems: batch.problems });
    if (batch.lines.length === 0) return;
    if (this.closed) {
      this.counters.points_lost += batch.lines.length;
      return;
    }
    this.counters.points_queued += batch.lines.length;
    let sealed = false;
    for (const line of batch.lines) {
      this.open.push(line);
      this.openBytes += line.length + 1;
      if (this.open.length >= this.batchLines || this.openBytes >= (this.opts.batch_bytes ?? DEFAULT_BATCH_BYTES)) {
        this.seal();
        sealed = true;
      }
    }
    this.trimMemory();
    if (sealed && !this.retryTimer) void this.drain();
    this.armFlushTimer();
  }

  /** Seal what is open, then send until the queue is empty or a back-off starts. */
  flush(): Promise<void> {
    this.seal();
    return this.drain();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.flushTimer?.cancel();
    this.flushTimer = undefined;
    this.seal();
    const inBackoff = this.retryTimer !== undefined;
    this.retryTimer?.cancel();
    this.retryTimer = undefined;
    // A durable queue keeps its backlog for the next run: no last attempt against a store known
    // to be down. A memory queue gets one, since whatever is left is lost.
    if (!(this.queue.durable && inBackoff)) await this.drain();
    else await this.draining;
    this.countQueueLosses();
    const left = this.queue.stats();
    if (left.lines > 0 && this.queue.durable) {
      this.logger.info('store unreachable at close: batches stay in the spool for the next start', { batches: left.batches, lines: left.lines });
    } else if (left.lines > 0) {
      this.counters.points_lost += left.lines;
      this.queue.trim(left.lines);
      this.logger.error('points not delivered before close', { code: 'DCIM_E_STORE_WRITE', points: left.lines });
    }
    await this.queue.close();
    await this.opts.transport.close();
  }

  stats(): SinkStats {
    this.countQueueLosses();
    const q = this.queue.stats();
    return { ...this.counters, pending: q.lines + this.open.length, ...(q.spool ? { spool: q.spool } : {}) };
  }

  health(): SinkHealth {
    const local = this.localProblem;
    return local ? { ...this.health_, state: 'unwritable', reason: local.reason, since: local.since } : { ...this.health_ };
  }

  private localFailure(reason: string): void {
    if (!this.localProblem) this.localProblem = { reason, since: this.clock.now() };
    else this.localProblem.reason = reason;
  }

  private countQueueLosses(): void {
    if (!this.queueValue) return;
    const lost = this.queue.lost();
    if (lost > 0) this.counters.points_lost += lost;
  }

  private seal(): void {
    if (this.open.length === 0) return;
    const lines = this.open;
    this.open = [];
    this.openBytes = 0;
    try {
      this.start();
    } catch (e) {
      // The spool directory is unusable (start() at boot reports it); never throw from write().
      this.counters.points_lost += lines.length;
      this.localFailure(`spool unusable: ${(e as Error).message.split('\n')[0]}`);
      const now = this.clock.now();
      if (now - this.lastOpenErrorLogMs >= 10_000) {
        this.lastOpenErrorLogMs = now;
        this.logger.error('store spool unusable: points lost', { code: 'DCIM_E_STORE_WRITE', error: e as Error, points: lines.length });
      }
      return;
    }
    const r = this.queue.push(lines);
    if (r.dropped_lines > 0) this.counters.points_lost += r.dropped_lines;
    if (r.refused_lines > 0) {
      // The spool logged why (disk full, I/O error); the points are gone and counted.
      this.counters.points_lost += r.refused_lines;
      this.localFailure(`the spool refused ${r.refused_lines} points (disk full or I/O error; see the DCIM_E_SPOOL_WRITE log line)`);
    } else {
      this.localProblem = undefined;
    }
  }

  private trimMemory(): void {
    if (this.queue.durable) return;
    const max = this.opts.max_buffer_lines ?? 200_000;
    let excess = this.queue.stats().lines + this.open.length - max;
    if (excess <= 0) {
      this.overflowing = false;
      return;
    }
    const fromQueue = this.queue.trim(excess, this.inflight ?? this.progress?.id);
    excess -= fromQueue;
    const fromOpen = Math.min(excess, this.open.length);
    if (fromOpen > 0) {
      this.open.splice(0, fromOpen);
      this.openBytes = this.open.reduce((n, l) => n + l.length + 1, 0);
    }
    this.counters.points_lost += fromQueue + fromOpen;
    if (!this.overflowing) this.logger.error('write buffer full: dropping the oldest points (configure store.spool to ride out longer outages)', { code: 'DCIM_E_STORE_WRITE', max_buffer_lines: max });
    this.overflowing = true;
  }

  private armFlushTimer(): void {
    if (this.flushTimer || this.closed || this.open.length === 0) return;
    this.flushTimer = this.clock.setTimeout(() => {
      this.flushTimer = undefined;
      this.seal();
      if (!this.retryTimer) void this.drain();
    }, this.opts.flush_interval_ms ?? 1000);
  }

  /** One drain at a time; a request arriving meanwhile runs once more when it ends. */
  private drain(): Promise<void> {
    if (this.draining) {
      this.rerun = true;
      return this.draining;
    }
    this.draining = (async () => {
      do {
        this.rerun = false;
        await this.drainLoop();
      } while (this.rerun && !this.retryTimer);
    })().finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  private async drainLoop(): Promise<void> {
    while (!this.retryTimer) {
      const batch = this.queue.peek();
      if (!batch) return;
      this.inflight = batch.id;
      const done = await this.deliver(batch);
      this.inflight = undefined;
      if (!done) return;
      this.queue.ack(batch.id);
    }
  }

  /** Sends one batch, splitting on 413; false when the store failed and a back-off started. */
  private async deliver(batch: QueuedBatch): Promise<boolean> {
    const lines = batch.lines;
    let offset = this.progress?.id === batch.id ? this.progress.offset : 0;
    this.progress = undefined;
    while (offset < lines.length) {
      const n = Math.min(this.requestLimit ?? this.batchLines, lines.length - offset);
      const chunk = lines.slice(offset, offset + n);
      const outcome = await this.opts.transport.send(chunk);
      switch (outcome.kind) {
        case 'written':
          this.counters.points_written += n;
          this.counters.batches_written++;
          this.reachable(true);
          offset += n;
          break;
        case 'too_large':
          this.reachable(false);
          if (n > 1) {
            this.requestLimit = Math.ceil(n / 2);
            this.counters.batches_split++;
            this.logger.warn('batch too large for the store, splitting', { code: 'DCIM_E_STORE_WRITE', lines: n, now_lines: this.requestLimit });
          } else {
            await this.quarantine(chunk, 413, 'a single line exceeds the store body limit');
            offset += n;
          }
          break;
        case 'rejected':
          this.reachable(false);
          // Until a later batch is taken: a store refusing each batch must not look healthy.
          this.setState('refusing', `HTTP ${outcome.status}: ${outcome.message}`.slice(0, 300));
          await this.quarantine(chunk, outcome.status, outcome.message);
          offset += n;
          break;
        case 'retry': {
          this.counters.write_errors++;
          this.progress = { id: batch.id, offset };
          if (this.closed) return false;
          const backoff = Math.min(this.opts.retry_max_ms ?? 30_000, (this.opts.retry_initial_ms ?? 1000) * 2 ** this.failures);
          const delay = Math.max(backoff, outcome.delay_ms ?? 0);
          this.failures++;
          const now = this.clock.now();
          if (outcome.refusing) {
            this.setState('refusing', outcome.message, true);
            Object.assign(this.health_, { reachable: true, last_error: outcome.message, retry_at_ms: now + delay });
          } else {
            if (this.health_.reachable) this.logger.error('store unreachable: batches are kept and sent when it answers', { code: 'DCIM_E_STORE_WRITE', target: this.health_.target, error: outcome.message, durable: this.queue.durable });
            else this.logger.warn('store still unreachable, will retry', { code: 'DCIM_E_STORE_WRITE', error: outcome.message, retry_in_ms: delay, pending: this.queue.stats().lines + this.open.length });
            this.setState('unreachable', outcome.message);
            Object.assign(this.health_, { reachable: false, last_error: outcome.message, retry_at_ms: now + delay });
          }
          this.retryTimer = this.clock.setTimeout(() => {
            this.retryTimer = undefined;
            this.counters.retries++;
            void this.drain();
          }, delay);
          return false;
        }
      }
    }
    return true;
  }

  /** The store answered (`written`: and took the lines). */
  private reachable(written: boolean): void {
    if (!this.health_.reachable || (written && this.health_.state === 'refusing')) {
      const q = this.queue.stats();
      this.logger.info(this.health_.reachable ? 'store takes points again: sending the backlog' : 'store reachable again: sending the backlog', { target: this.health_.target, batches: q.batches, lines: q.lines, failures: this.failures });
    }
    this.failures = 0;
    Object.assign(this.health_, { reachable: true, retry_at_ms: null, ...(written ? { last_success_ms: this.clock.now() } : {}) });
    if (written) this.setState('ok', null);
  }

  private async quarantine(lines: readonly string[], status: number, message: string): Promise<void> {
    this.counters.points_rejected += lines.length;
    this.counters.batches_rejected++;
    this.rejected ??= new Quarantine(this.opts.quarantine_dir, this.logger, () => this.clock.now());
    await this.rejected.put(lines, status, message);
  }
}
