import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { SystemClock, type Clock, type TimerHandle } from '../../contract/clock.js';
import { createLogger, type Logger } from '../../contract/log.js';
import { encodeLines } from './line-protocol.js';
import type { MetricPoint } from './metric-point.js';
import { Quarantine } from './quarantine.js';
import { emptySinkStats, type MetricSink, type SinkStats } from './metric-sink.js';

const gzipAsync = promisify(gzip);

/**
 * InfluxDB 1.x `POST /write?db=…&precision=ms` (also served by VictoriaMetrics and by InfluxDB
 * 2.x/3.x compatibility endpoints). Batches of ~5,000 lines, gzip bodies. Outcomes:
 * - 204: written;
 * - 413: the batch is split in half and both halves sent again (a single line that is still too
 *   large is quarantined);
 * - 429, 5xx, network errors: retried with exponential back-off (Retry-After honoured), while new
 *   points queue behind it in a bounded buffer whose overflow drops the oldest with a counter;
 * - any other status: the batch is quarantined (written to `quarantine_dir` when set, so it can
 *   be inspected and replayed) and counted; retrying would fail the same way.
 */
export interface InfluxV1SinkOptions {
  url: string;
  database: string;
  retention_policy?: string;
  username?: string;
  password?: string;
  batch_lines?: number;
  flush_interval_ms?: number;
  max_buffer_lines?: number;
  retry_initial_ms?: number;
  retry_max_ms?: number;
  request_timeout_ms?: number;
  quarantine_dir?: string;
  clock?: Clock;
  logger?: Logger;
}

type SendOutcome = { kind: 'written' } | { kind: 'too_large' } | { kind: 'rejected'; status: number; message: string } | { kind: 'retry'; delay_ms?: number; message: string };

export class InfluxV1Sink implements MetricSink {
  private readonly counters: SinkStats = emptySinkStats();
  private pending: string[] = [];
  private draining: Promise<void> | undefined;
  private rerun = false;
  private flushTimer: TimerHandle | undefined;
  private retryTimer: TimerHandle | undefined;
  private failures = 0;
  private closed = false;
  private overflowing = false;
  private rejected: Quarantine | undefined;
  /** Lines per batch after a 413 taught us the server's limit. */
  private batchLimit: number | undefined;

  constructor(private readonly opts: InfluxV1SinkOptions) {}

  private get clock(): Clock {
    return (this.opts.clock ??= new SystemClock());
  }

  private get logger(): Logger {
    return (this.opts.logger ??= createLogger({ base: { component: 'influx-v1-sink' } }));
  }

  write(points: readonly MetricPoint[]): void {
    const batch = encodeLines(points);
    this.counters.points_invalid += batch.points_dropped;
    this.counters.fields_dropped += batch.fields_dropped;
    if (batch.problems.length > 0) this.logger.warn('points or fields dropped before writing', { code: 'DCIM_E_STORE_WRITE', problems: batch.problems });
    if (this.closed) {
      this.counters.points_lost += batch.lines.length;
      return;
    }
    this.counters.points_accepted += batch.lines.length;
    this.pending.push(...batch.lines);
    this.trimOverflow();
    if (this.pending.length >= this.batchLines) void this.drain();
    else this.armFlushTimer();
  }

  flush(): Promise<void> {
    return this.drain();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.flushTimer?.cancel();
    this.retryTimer?.cancel();
    this.retryTimer = undefined;
    await this.drain();
    if (this.pending.length > 0) {
      this.counters.points_lost += this.pending.length;
      this.logger.error('points not delivered before close', { code: 'DCIM_E_STORE_WRITE', points: this.pending.length });
      this.pending = [];
    }
  }

  stats(): SinkStats {
    return { ...this.counters, pending: this.pending.length };
  }

  private get batchLines(): number {
    return this.opts.batch_lines ?? 5000;
  }

  private armFlushTimer(): void {
    if (this.flushTimer || this.pending.length === 0) return;
    this.flushTimer = this.clock.setTimeout(() => {
      this.flushTimer = undefined;
      void this.drain();
    }, this.opts.flush_interval_ms ?? 1000);
  }

  private trimOverflow(): void {
    const max = this.opts.max_buffer_lines ?? 200_000;
    const excess = this.pending.length - max;
    if (excess <= 0) {
      this.overflowing = false;
      return;
    }
    this.pending.splice(0, excess);
    this.counters.points_lost += excess;
    if (!this.overflowing) this.logger.error('write buffer full: dropping the oldest points', { code: 'DCIM_E_STORE_WRITE', max_buffer_lines: max });
    this.overflowing = true;
  }

  /** Sends batches until the buffer is empty or a failure starts a back-off. One drain at a time. */
  private drain(): Promise<void> {
    if (this.draining) {
      // A timer or a full buffer asked while a drain runs: run once more when it ends, or the
      // request (a retry that just fell due) would be lost.
      this.rerun = true;
      return this.draining;
    }
    this.draining = (async () => {
      do {
        this.rerun = false;
        await this.drainLoop();
      } while (this.rerun);
    })().finally(() => {
      this.draining = undefined;
      if (!this.closed && !this.retryTimer) this.armFlushTimer();
    });
    return this.draining;
  }

  private async drainLoop(): Promise<void> {
    while (this.pending.length > 0 && (!this.retryTimer || this.closed)) {
      const batch = this.pending.splice(0, this.batchLimit ?? this.batchLines);
      const outcome = await this.send(batch);
      switch (outcome.kind) {
        case 'written':
          this.failures = 0;
          this.counters.points_written += batch.length;
          this.counters.batches_written++;
          break;
        case 'too_large':
          if (batch.length > 1) {
            // The server's body limit does not change: keep the smaller batches from now on.
            this.batchLimit = Math.ceil(batch.length / 2);
            this.pending.unshift(...batch);
            this.logger.warn('batch too large for the server, splitting', { code: 'DCIM_E_STORE_WRITE', lines: batch.length, now_lines: this.batchLimit });
          } else {
            await this.quarantine(batch, 413, 'a single line exceeds the server body limit');
          }
          break;
        case 'rejected':
          await this.quarantine(batch, outcome.status, outcome.message);
          break;
        case 'retry': {
          this.counters.write_errors++;
          this.pending.unshift(...batch);
          this.trimOverflow();
          if (this.closed) return;
          const backoff = Math.min(this.opts.retry_max_ms ?? 30_000, (this.opts.retry_initial_ms ?? 1000) * 2 ** this.failures);
          const delay = Math.max(backoff, outcome.delay_ms ?? 0);
          this.failures++;
          this.logger.warn('write failed, will retry', { code: 'DCIM_E_STORE_WRITE', error: outcome.message, retry_in_ms: delay, pending: this.pending.length });
          this.retryTimer = this.clock.setTimeout(() => {
            this.retryTimer = undefined;
            this.counters.retries++;
            void this.drain();
          }, delay);
          return;
        }
      }
    }
  }

  private async send(lines: string[]): Promise<SendOutcome> {
    const url = new URL('write', this.opts.url.endsWith('/') ? this.opts.url : `${this.opts.url}/`);
    url.searchParams.set('db', this.opts.database);
    url.searchParams.set('precision', 'ms');
    if (this.opts.retention_policy) url.searchParams.set('rp', this.opts.retention_policy);
    const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8', 'content-encoding': 'gzip' };
    if (this.opts.username !== undefined) {
      headers.authorization = `Basic ${Buffer.from(`${this.opts.username}:${this.opts.password ?? ''}`).toString('base64')}`;
    }
    try {
      const body = await gzipAsync(Buffer.from(lines.join('\n'), 'utf8'));
      const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.opts.request_timeout_ms ?? 10_000) });
      const text = res.status === 204 ? '' : (await res.text()).slice(0, 500);
      if (res.status === 204) return { kind: 'written' };
      if (res.status === 413) return { kind: 'too_large' };
      if (res.status === 429 || res.status >= 500) {
        const retryAfter = Number(res.headers.get('retry-after'));
        return { kind: 'retry', message: `HTTP ${res.status} ${text}`, ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { delay_ms: retryAfter * 1000 } : {}) };
      }
      return { kind: 'rejected', status: res.status, message: res.status < 300 ? `expected 204, got ${res.status}` : text };
    } catch (e) {
      const err = e as Error & { cause?: { code?: string } };
      return { kind: 'retry', message: `${err.name}: ${err.message}${err.cause?.code ? ` (${err.cause.code})` : ''}` };
    }
  }

  private async quarantine(lines: string[], status: number, message: string): Promise<void> {
    this.counters.points_rejected += lines.length;
    this.rejected ??= new Quarantine(this.opts.quarantine_dir, this.logger, () => this.clock.now());
    await this.rejected.put(lines, status, message);
  }
}
