import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { outcomeOfError, outcomeOfStatus, type BatchTransport, type SendOutcome } from './batch-transport.js';

const gzipAsync = promisify(gzip);

/**
 * InfluxDB 1.x `POST /write?db=…&precision=ms` with a gzip body (also served by VictoriaMetrics
 * and by the 1.x compatibility endpoint of InfluxDB 2.x/3.x). Basic auth when a user is given.
 */
export interface InfluxV1TransportOptions {
  url: string;
  database: string;
  retention_policy?: string;
  username?: string;
  password?: string;
  request_timeout_ms?: number;
}

export class InfluxV1Transport implements BatchTransport {
  readonly target: string;
  private readonly writeUrl: URL;
  private readonly headers: Record<string, string>;

  constructor(private readonly opts: InfluxV1TransportOptions) {
    this.writeUrl = new URL('write', opts.url.endsWith('/') ? opts.url : `${opts.url}/`);
    this.writeUrl.searchParams.set('db', opts.database);
    this.writeUrl.searchParams.set('precision', 'ms');
    if (opts.retention_policy) this.writeUrl.searchParams.set('rp', opts.retention_policy);
    this.headers = { 'content-type': 'text/plain; charset=utf-8', 'content-encoding': 'gzip' };
    if (opts.username !== undefined) {
      this.headers.authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`;
    }
    this.target = `influx_v1 ${new URL(opts.url).origin} db=${opts.database}`;
  }

  async send(lines: readonly string[]): Promise<SendOutcome> {
    try {
      const body = await gzipAsync(Buffer.from(lines.join('\n'), 'utf8'));
      const res = await fetch(this.writeUrl, { method: 'POST', headers: this.headers, body, signal: AbortSignal.timeout(this.opts.request_timeout_ms ?? 10_000) });
      const text = res.status === 204 ? '' : (await res.text()).slice(0, 500);
      return outcomeOfStatus(res.status, text, res.headers.get('retry-after'));
    } catch (e) {
      return outcomeOfError(e);
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
