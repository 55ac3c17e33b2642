import { HttpError, InfluxDB, type WriteApi } from '@influxdata/influxdb-client';
import { outcomeOfError, outcomeOfStatus, type BatchTransport, type SendOutcome } from './batch-transport.js';

/**
 * The InfluxDB v2 write API (`/api/v2/write`, precision ms) through the official
 * `@influxdata/influxdb-client` (docs/design.md §7): InfluxDB 2.x, 3.x, Cloud, 1.8+ and VictoriaMetrics
 * answer it. The client sends and gzips; it does not batch, time or retry here (one batch per
 * `send`, `maxRetries: 0`, failures handed back before its own logging), because batching, 413
 * splits, quarantine, back-off and the spool live in batch-writer.ts, the same for every store.
 */
export interface InfluxV2TransportOptions {
  url: string;
  org: string;
  bucket: string;
  token: string;
  /** Bodies above this many bytes are gzipped. */
  gzip_threshold_bytes?: number;
  request_timeout_ms?: number;
  /** Largest batch this transport is given; the client's buffer is sized above it. */
  max_batch_lines?: number;
}

export class InfluxV2Transport implements BatchTransport {
  readonly target: string;
  private api: WriteApi | undefined;
  /** The client keeps one buffer per WriteApi: one request at a time. */
  private busy: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: InfluxV2TransportOptions) {
    this.target = `influx_v2 ${new URL(opts.url).origin} org=${opts.org} bucket=${opts.bucket}`;
  }

  private writeApi(): WriteApi {
    if (this.api) return this.api;
    const o = this.opts;
    const client = new InfluxDB({ url: o.url, token: o.token, timeout: o.request_timeout_ms ?? 10_000 });
    this.api = client.getWriteApi(o.org, o.bucket, 'ms', {
      // Never cut by the client: send() hands it one whole batch and flushes.
      batchSize: (o.max_batch_lines ?? 100_000) + 1,
      maxBatchBytes: 1024 * 1024 * 1024,
      flushInterval: 0,
      gzipThreshold: o.gzip_threshold_bytes ?? 1000,
      maxRetries: 0,
      maxBufferLines: 1,
      // Returning a promise makes the client hand the failure back as is: no retry buffer, no
      // console line of its own (our logger reports it, once, with a code).
      writeFailed: (error: Error) => Promise.reject(error),
    });
    return this.api;
  }

  send(lines: readonly string[]): Promise<SendOutcome> {
    const run = this.busy.then(() => this.sendNow(lines));
    this.busy = run;
    return run;
  }

  private async sendNow(lines: readonly string[]): Promise<SendOutcome> {
    try {
      const api = this.writeApi();
      api.writeRecords(lines as string[]);
      await api.flush();
      return { kind: 'written' };
    } catch (e) {
      if (e instanceof HttpError) {
        const after = e.retryAfter();
        return outcomeOfStatus(e.statusCode, (e.body ?? e.message ?? '').slice(0, 500), after > 0 ? String(after) : undefined);
      }
      return outcomeOfError(e);
    }
  }

  async close(): Promise<void> {
    await this.busy;
    const api = this.api;
    this.api = undefined;
    // Nothing is buffered in the client between sends, so closing it drops nothing.
    if (api) await api.close().catch(() => undefined);
  }
}
