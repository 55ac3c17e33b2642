import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { describeNetworkError } from '../../contract/errors.js';
import type { Logger } from '../../shared/log.js';
import { outcomeOfError, outcomeOfStatus, storeMessage, type BatchTransport, type SendOutcome } from './batch-transport.js';

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
  /**
   * When the server answers "database not found", send `CREATE DATABASE` (InfluxDB 1.x; a no-op
   * when it exists) and the batch again. Default true; it needs admin rights where auth is on,
   * and the store stays `refusing` with the server's reason when they are missing.
   */
  create_database?: boolean;
  /** How long to wait before trying CREATE DATABASE again after it failed (default 60 s). */
  create_retry_ms?: number;
  logger?: Logger;
  now?: () => number;
}

export class InfluxV1Transport implements BatchTransport {
  readonly target: string;
  private readonly writeUrl: URL;
  private readonly headers: Record<string, string>;
  private lastCreateAttemptMs = Number.NEGATIVE_INFINITY;
  private lastCreateError: string | undefined;

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
      const first = await this.post(body);
      if (!(first.status === 404 && /database not found/i.test(first.text))) return outcomeOfStatus(first.status, first.text, first.retry_after);
      const created = await this.createDatabase();
      if (created !== true) {
        return { kind: 'retry', refusing: true, message: `database ${JSON.stringify(this.opts.database)} not found${created === false ? '' : `; CREATE DATABASE failed: ${created}`}` };
      }
      const again = await this.post(body);
      return outcomeOfStatus(again.status, again.text, again.retry_after);
    } catch (e) {
      return outcomeOfError(e);
    }
  }

  private async post(body: Buffer): Promise<{ status: number; text: string; retry_after: string | null }> {
    const res = await fetch(this.writeUrl, { method: 'POST', headers: this.headers, body, signal: AbortSignal.timeout(this.opts.request_timeout_ms ?? 10_000) });
    const text = res.status === 204 ? '' : (await res.text()).slice(0, 500);
    return { status: res.status, text, retry_after: res.headers.get('retry-after') };
  }

  /** true: created (or it existed); false: not attempted (off); a string: why it failed (now, or at the last attempt while waiting to try again). */
  private async createDatabase(): Promise<true | false | string> {
    const now = this.opts.now?.() ?? Date.now();
    if (this.opts.create_database === false) return false;
    if (now - this.lastCreateAttemptMs < (this.opts.create_retry_ms ?? 60_000)) return this.lastCreateError ?? false;
    this.lastCreateAttemptMs = now;
    try {
      this.lastCreateError = await this.sendCreate();
    } catch (e) {
      this.lastCreateError = describeNetworkError(e)?.message ?? (e as Error).message;
    }
    return this.lastCreateError ?? true;
  }

  private async sendCreate(): Promise<string | undefined> {
    const url = new URL('query', this.writeUrl);
    const name = this.opts.database.replaceAll('\\', '\\\\').replaceAll('"', '\\"');
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (this.headers.authorization) headers.authorization = this.headers.authorization;
    const res = await fetch(url, { method: 'POST', headers, body: new URLSearchParams({ q: `CREATE DATABASE "${name}"` }), signal: AbortSignal.timeout(this.opts.request_timeout_ms ?? 10_000) });
    const text = (await res.text()).slice(0, 500);
    // 1.x answers 200 with {"results":[{"statement_id":0,"error":"…"}]} when a statement fails.
    let error: string | undefined = res.ok ? undefined : `HTTP ${res.status}: ${storeMessage(text)}`;
    if (res.ok) {
      try {
        const parsed = JSON.parse(text) as { error?: string; results?: { error?: string }[] };
        error = parsed.error ?? parsed.results?.find((r) => r.error !== undefined)?.error;
      } catch {
        error = `unexpected answer: ${text.slice(0, 100)}`;
      }
    }
    if (error !== undefined) {
      this.opts.logger?.error('the store has no such database and it could not be created: create it by hand (README "InfluxDB")', { code: 'DCIM_E_STORE_REJECTED', target: this.target, error });
      return error;
    }
    this.opts.logger?.warn('created the missing InfluxDB database', { target: this.target, database: this.opts.database });
    return undefined;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
