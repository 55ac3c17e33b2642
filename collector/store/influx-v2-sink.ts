import { HttpError, InfluxDB, type WriteApi } from '@influxdata/influxdb-client';
import { SystemClock, type Clock, type TimerHandle } from '../../contract/clock.js';
import { createLogger, type Logger } from '../../contract/log.js';
import { encodeLines } from './line-protocol.js';
import type { MetricPoint } from './metric-point.js';
import { Quarantine } from './quarantine.js';
import { emptySinkStats, type MetricSink, type SinkStats } from './metric-sink.js';

/**
 * The InfluxDB v2 write API (`/api/v2/write`) through the official `@influxdata/influxdb-client`
 * (DESIGN.md §7): InfluxDB 2.x, 3.x, Cloud, 1.8+ and VictoriaMetrics answer it. The client owns
 * gzip, retries with back-off (429/5xx/network) and its retry buffer; this adapter feeds it our own
 * escaped lines (one line-protocol encoder in the project), quarantines what the server refuses
 * with a 4xx, and counts everything. Batches are cut here rather than by the client, because a
 * batch the client sends on its own is not awaited by its `flush()`: cutting them here lets
 * `flush()` wait for every batch in flight.
 */
export interface InfluxV2SinkOptions {
  url: string;
  org: string;
  bucket: string;
  token: string;
  batch_lines?: number;
  flush_interval_ms?: number;
  /** Bodies above this many bytes are gzipped. */
  gzip_threshold_bytes?: number;
  max_buffer_lines?: number;
  max_retries?: number;
  max_retry_time_ms?: number;
  min_retry_delay_ms?: number;
  request_timeout_ms?: number;
  quarantine_dir?: string;
  clock?: Clock;
  logger?: Logger;
}

export class InfluxV2Sink implements MetricSink {
  private readonly counters: SinkStats = emptySinkStats();
  private api: WriteApi | undefined;
  private closed = false;
  /** Lines handed to the client since its last flush. */
  private unsent = 0;
  private readonly inflight = new Set<Promise<void>>();
  private flushTimer: TimerHandle | undefined;
  private rejected: Quarantine | undefined;

  constructor(private readonly opts: InfluxV2SinkOptions) {}

  private get clock(): Clock {
    return (this.opts.clock ??= new SystemClock());
  }

  private get logger(): Logger {
    return (this.opts.logger ??= createLogger({ base: { component: 'influx-v2-sink' } }));
  }

  private writeApi(): WriteApi {
    if (this.api) return this.api;
    const o = this.opts;
    const maxRetries = o.max_retries ?? 10;
    const client = new InfluxDB({ url: o.url, token: o.token, timeout: o.request_timeout_ms ?? 10_000 });
    // The client calls these with `this` bound to the WriteApi, hence the arrow functions.
    this.api = client.getWriteApi(o.org, o.bucket, 'ms', {
      // Never cut or timed by the client (see above): write() flushes at batch_lines, one below
      // this (the client preallocates its buffer, so it cannot be "infinite").
      batchSize: (o.batch_lines ?? 5000) + 1,
      flushInterval: 0,
      gzipThreshold: o.gzip_threshold_bytes ?? 1000,
      maxBufferLines: o.max_buffer_lines ?? 200_000,
      maxRetries,
      maxRetryTime: o.max_retry_time_ms ?? 180_000,
      minRetryDelay: o.min_retry_delay_ms ?? 1000,
      writeSuccess: (lines: string[]) => {
        this.counters.points_written += lines.length;
        this.counters.batches_written++;
      },
      writeFailed: (error: Error, lines: string[], attempt: number) => {
        this.counters.write_errors++;
        const status = error instanceof HttpError ? error.statusCode : undefined;
        if (status !== undefined && status < 500 && status !== 429) {
          return this.quarantine(lines, status, error.message);
        }
        if (attempt > maxRetries || this.closed) {
          this.counters.points_lost += lines.length;
          this.logger.error('write failed after all retries; points lost', { code: 'DCIM_E_STORE_WRITE', error: error.message, lines: lines.length });
          return Promise.resolve();
        }
        this.counters.retries++;
        this.logger.warn('write failed, the client will retry', { code: 'DCIM_E_STORE_WRITE', error: error.message, attempt });
        return undefined;
      },
      writeRetrySkipped: (entry: { lines: string[] }) => {
        this.counters.points_lost += entry.lines.length;
        this.logger.error('retry buffer full: dropping the oldest points', { code: 'DCIM_E_STORE_WRITE', lines: entry.lines.length });
      },
    });
    return this.api;
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
    this.counters.points_accepted += batch.lines.length;
    const api = this.writeApi();
    const size = this.opts.batch_lines ?? 5000;
    for (let i = 0; i < batch.lines.length; ) {
      const chunk = batch.lines.slice(i, i + size - this.unsent);
      api.writeRecords(chunk);
      this.unsent += chunk.length;
      i += chunk.length;
      if (this.unsent >= size) this.send();
    }
    if (this.unsent > 0 && !this.flushTimer) {
      this.flushTimer = this.clock.setTimeout(() => {
        this.flushTimer = undefined;
        if (this.unsent > 0) this.send();
      }, this.opts.flush_interval_ms ?? 1000);
    }
  }

  /** Sends what the client holds as one batch, tracked until it is written or has failed. */
  private send(): void {
    const api = this.api;
    if (!api) return;
    this.unsent = 0;
    const p: Promise<void> = api
      .flush()
      // Retriable failures stay in the client's retry buffer; the rest were counted in writeFailed.
      .catch((e: unknown) => this.logger.debug('batch not written yet', { error: e as Error }))
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  async flush(): Promise<void> {
    if (this.unsent > 0) this.send();
    await Promise.allSettled([...this.inflight]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flushTimer?.cancel();
    await this.flush();
    if (!this.api) {
      this.closed = true;
      return;
    }
    try {
      // One last delivery attempt for lines waiting in the client's retry buffer.
      await this.api.flush(true);
    } catch (e) {
      this.logger.debug('final flush failed', { error: e as Error });
    }
    this.closed = true;
    try {
      await this.api.close();
    } catch (e) {
      this.logger.debug('close failed', { error: e as Error });
    }
    const s = this.stats();
    if (s.pending > 0) {
      this.counters.points_lost += s.pending;
      this.logger.error('points not delivered before close', { code: 'DCIM_E_STORE_WRITE', points: s.pending });
    }
  }

  stats(): SinkStats {
    const c = this.counters;
    return { ...c, pending: Math.max(0, c.points_accepted - c.points_written - c.points_rejected - c.points_lost) };
  }

  private async quarantine(lines: string[], status: number, message: string): Promise<void> {
    this.counters.points_rejected += lines.length;
    this.rejected ??= new Quarantine(this.opts.quarantine_dir, this.logger, () => Date.now());
    await this.rejected.put(lines, status, message);
  }
}
