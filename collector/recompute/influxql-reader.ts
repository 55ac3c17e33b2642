import { DcimError, describeNetworkError } from '../../contract/errors.js';
import type { DeviceClass } from '../../contract/ids.js';
import type { StoredReadings, StoredRow } from './stored-polls.js';

/**
 * Stored raw readings read back with InfluxQL over `POST /query` (docs/design.md §7: InfluxDB 1.x, 2.x
 * through its DBRP mapping, 3.x all answer InfluxQL). Chunked responses, so a slice of any size
 * streams instead of hitting the server's row limit. `GROUP BY *` returns every tag set as its own
 * series with the tags beside it; the columns are the time and the fields.
 */
export interface InfluxQlReaderOptions {
  url: string;
  /** InfluxDB 1.x database, or the 2.x bucket mapped by DBRP. */
  database: string;
  retention_policy?: string;
  auth?: { kind: 'basic'; username: string; password: string } | { kind: 'token'; token: string };
  request_timeout_ms?: number;
  chunk_size?: number;
}

export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values?: unknown[][];
}

interface QueryChunk {
  error?: string;
  results?: { error?: string; series?: InfluxSeries[] }[];
}

const STORE_READ = 'DCIM_E_STORE_READ';

export const quoteIdent = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
export const quoteString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The InfluxQL of one slice; ms epoch literals (`1767225600000ms`). */
export function sliceQuery(site: string, measurements: readonly string[], from_ms: number, to_ms: number): string {
  return `SELECT * FROM ${measurements.map(quoteIdent).join(',')} WHERE "site" = ${quoteString(site)} AND time >= ${Math.floor(from_ms)}ms AND time < ${Math.floor(to_ms)}ms GROUP BY *`;
}

export class InfluxQlReader implements StoredReadings {
  readonly target: string;

  constructor(private readonly opts: InfluxQlReaderOptions) {
    this.target = `influxql ${new URL(opts.url).origin} db=${opts.database}`;
  }

  async slice(site: string, measurements: readonly DeviceClass[], from_ms: number, to_ms: number): Promise<StoredRow[]> {
    if (measurements.length === 0 || to_ms <= from_ms) return [];
    return (await this.series(sliceQuery(site, measurements, from_ms, to_ms))).flatMap(seriesRows);
  }

  /** Every series of an InfluxQL answer, chunks joined; an error or an answer that is not JSON is a DCIM_E_STORE_READ. */
  async series(influxql: string): Promise<InfluxSeries[]> {
    const o = this.opts;
    const url = new URL('query', o.url.endsWith('/') ? o.url : `${o.url}/`);
    const form = new URLSearchParams({ q: influxql, db: o.database, epoch: 'ms', chunked: 'true', chunk_size: String(o.chunk_size ?? 10_000) });
    if (o.retention_policy) form.set('rp', o.retention_policy);
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (o.auth?.kind === 'basic') headers.authorization = `Basic ${Buffer.from(`${o.auth.username}:${o.auth.password}`).toString('base64')}`;
    if (o.auth?.kind === 'token') headers.authorization = `Token ${o.auth.token}`;
    let text: string;
    let status: number;
    try {
      const res = await fetch(url, { method: 'POST', headers, body: form, signal: AbortSignal.timeout(o.request_timeout_ms ?? 60_000) });
      status = res.status;
      text = await res.text();
    } catch (e) {
      // A store that is not there (refused, unknown host) is said as such, with its own code.
      const net = describeNetworkError(e);
      if (net) throw new DcimError(net.code, `read: ${this.target}: ${net.reason}`);
      throw new DcimError(STORE_READ, `read: ${this.target}: query failed: ${(e as Error).message}`);
    }
    if (status !== 200) throw new DcimError(STORE_READ, `read: ${this.target}: HTTP ${status}: ${text.slice(0, 300)}`);
    const out: InfluxSeries[] = [];
    // A chunked answer is one JSON document per line.
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      let chunk: QueryChunk;
      try {
        chunk = JSON.parse(line) as QueryChunk;
      } catch {
        throw new DcimError(STORE_READ, `read: ${this.target}: answer is not JSON: ${line.slice(0, 200)}`);
      }
      const err = chunk.error ?? chunk.results?.find((r) => r.error)?.error;
      if (err) throw new DcimError(STORE_READ, `read: ${this.target}: ${err}`);
      for (const r of chunk.results ?? []) out.push(...(r.series ?? []));
    }
    return out;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function seriesRows(s: InfluxSeries): StoredRow[] {
  const t = s.columns.indexOf('time');
  if (t < 0) return [];
  const tags = s.tags ?? {};
  return (s.values ?? []).map((v) => {
    const fields: Record<string, unknown> = {};
    s.columns.forEach((c, i) => {
      if (i !== t && v[i] !== null && v[i] !== undefined) fields[c] = v[i];
    });
    return { measurement: s.name, tags, ts_ms: Number(v[t]), fields };
  });
}
