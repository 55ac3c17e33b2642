import { existsSync } from 'node:fs';
import { DcimError, describeNetworkError } from '../../contract/errors.js';
import { resolveSecret } from '../../shared/config/secrets.js';
import { SUMMARY_MEASUREMENT } from '../../contract/storage-schema.js';
import type { SiteSummary, SummaryWindow } from '../../contract/summary.js';
import type { StoreConfig } from '../config.js';
import { InfluxQlReader, quoteIdent, quoteString, type InfluxQlReaderOptions, type InfluxSeries } from '../recompute/influxql-reader.js';
import { SqliteSink } from '../store/sqlite-sink.js';
import { summaryFromBody } from './summary-points.js';
import type { StoredSummaries } from './summary-store.js';

/**
 * `StoredSummaries` over the two stores that can hold a summary (its JSON is a string field): the
 * SQLite store and InfluxDB through InfluxQL (1.x on /query; 2.x answers the same on its v1
 * compatibility endpoint for a bucket with a DBRP mapping). VictoriaMetrics keeps no string fields
 * and answers no InfluxQL SELECT, so it is refused with DCIM_E_STORE_NO_SUMMARIES rather than read
 * as an empty history.
 *
 * A revision overwrites its window's point in both stores; should a store still hold two rows for
 * one window (written under other tags, by hand), the highest revision wins. A row whose body does
 * not parse, or whose body names another site, window kind or start than its tags and time, is
 * skipped and counted.
 */

/** One stored row: the point's tags and time, and its body field. */
export interface SummaryRow {
  site: string | undefined;
  window: string | undefined;
  ts_ms: number;
  body: unknown;
}

/** Rows → one summary per window start, the highest revision, oldest first; `skip` called for each bad row. */
export function newestRevisions(rows: Iterable<SummaryRow>, site: string, window: SummaryWindow, skip: (why: string) => void): SiteSummary[] {
  const best = new Map<number, SiteSummary>();
  for (const r of rows) {
    const s = summaryFromBody(r.body);
    if (!s) {
      skip(`${site}/${window} at ${r.ts_ms}: body is not a site summary`);
      continue;
    }
    if (s.site !== site || s.window !== window || s.window_start !== r.ts_ms || (r.site !== undefined && r.site !== site) || (r.window !== undefined && r.window !== window)) {
      skip(`${site}/${window} at ${r.ts_ms}: body says ${s.site}/${s.window} at ${s.window_start}`);
      continue;
    }
    const held = best.get(s.window_start);
    if (!held || s.revision > held.revision) best.set(s.window_start, s);
  }
  return [...best.values()].sort((a, b) => a.window_start - b.window_start);
}

/** The last problems seen, for a log line (bounded). */
class SkipLog {
  count = 0;
  readonly recent: string[] = [];
  add(why: string): void {
    this.count++;
    if (this.recent.length < 10) this.recent.push(why);
  }
}

/** Summaries in the embedded SQLite store. */
export class SqliteSummaries implements StoredSummaries {
  private readonly log = new SkipLog();
  constructor(private readonly store: SqliteSink) {}

  get skipped(): number {
    return this.log.count;
  }

  /** Up to ten reasons rows were skipped. */
  get problems(): readonly string[] {
    return this.log.recent;
  }

  summaries(site: string, window: SummaryWindow, from_ms: number, to_ms: number): Promise<SiteSummary[]> {
    const rows: SummaryRow[] = [];
    const page = 5000;
    // Paged by time: 800 days of day summaries, or days of quarter hours, never one unbounded answer.
    for (let since = from_ms; since < to_ms; ) {
      const got = this.store.series({ measurement: SUMMARY_MEASUREMENT, field: 'body', tags: { site, window }, since_ms: since, until_ms: to_ms - 1, limit: page });
      for (const g of got) rows.push({ site: g.tags.site, window: g.tags.window, ts_ms: g.ts_ms, body: g.value });
      if (got.length < page) break;
      since = got.at(-1)!.ts_ms + 1;
    }
    return Promise.resolve(newestRevisions(rows, site, window, (why) => this.log.add(why)));
  }

  sites(): Promise<string[]> {
    const ids = new Set<string>();
    for (const tags of this.store.seriesTags(SUMMARY_MEASUREMENT)) if (tags.site !== undefined) ids.add(tags.site);
    return Promise.resolve([...ids].sort());
  }
}

/** Summaries in InfluxDB, read with InfluxQL. */
export class InfluxQlSummaries implements StoredSummaries {
  private readonly log = new SkipLog();
  private readonly reader: InfluxQlReader;
  private checked: Promise<void> | undefined;

  constructor(private readonly opts: InfluxQlReaderOptions) {
    this.reader = new InfluxQlReader(opts);
  }

  get target(): string {
    return this.reader.target;
  }

  get skipped(): number {
    return this.log.count;
  }

  get problems(): readonly string[] {
    return this.log.recent;
  }

  async summaries(site: string, window: SummaryWindow, from_ms: number, to_ms: number): Promise<SiteSummary[]> {
    if (!(to_ms > from_ms)) return [];
    await this.check();
    const q = `SELECT "body" FROM ${quoteIdent(SUMMARY_MEASUREMENT)} WHERE "site" = ${quoteString(site)} AND "window" = ${quoteString(window)} AND time >= ${Math.floor(from_ms)}ms AND time < ${Math.ceil(to_ms)}ms GROUP BY *`;
    return newestRevisions(rowsOf(await this.reader.series(q)), site, window, (why) => this.log.add(why));
  }

  async sites(): Promise<string[]> {
    await this.check();
    const ids = new Set<string>();
    for (const s of await this.reader.series(`SHOW TAG VALUES FROM ${quoteIdent(SUMMARY_MEASUREMENT)} WITH KEY = "site"`)) {
      const v = s.columns.indexOf('value');
      for (const row of s.values ?? []) if (typeof row[v] === 'string') ids.add(row[v]);
    }
    return [...ids].sort();
  }

  /**
   * InfluxDB 1.x and 2.x name themselves in an `X-Influxdb-Version` header on /ping;
   * VictoriaMetrics, which accepts the same line protocol, does not (it sends one on its /query
   * stand-in, which answers only SHOW statements).
   */
  private check(): Promise<void> {
    return (this.checked ??= (async () => {
      const url = new URL('ping', this.opts.url.endsWith('/') ? this.opts.url : `${this.opts.url}/`);
      let res: Response;
      try {
        res = await fetch(url, { signal: AbortSignal.timeout(this.opts.request_timeout_ms ?? 60_000) });
        await res.arrayBuffer();
      } catch (e) {
        this.checked = undefined;
        const net = describeNetworkError(e);
        if (net) throw new DcimError(net.code, `read: ${this.target}: ${net.reason}`);
        throw new DcimError('DCIM_E_STORE_READ', `read: ${this.target}: ping failed: ${(e as Error).message}`);
      }
      if (res.ok && !res.headers.has('x-influxdb-version')) {
        throw new DcimError('DCIM_E_STORE_NO_SUMMARIES', `read: ${this.target}: the store is not InfluxDB (no X-Influxdb-Version on /ping; VictoriaMetrics?): it keeps no string fields and answers no InfluxQL SELECT, so it cannot hold site summaries`);
      }
    })());
  }
}

function rowsOf(series: readonly InfluxSeries[]): SummaryRow[] {
  const out: SummaryRow[] = [];
  for (const s of series) {
    const t = s.columns.indexOf('time');
    const b = s.columns.indexOf('body');
    if (t < 0 || b < 0) continue;
    for (const v of s.values ?? []) out.push({ site: s.tags?.site, window: s.tags?.window, ts_ms: Number(v[t]), body: v[b] });
  }
  return out;
}

/** The configured store as a reader of stored summaries (with SQLite, the collector's own handle when given). */
export function storedSummariesFor(store: StoreConfig, env: NodeJS.ProcessEnv, sqlite?: SqliteSink): StoredSummaries & { readonly problems: readonly string[] } {
  switch (store.kind) {
    case 'sqlite':
      // Opening a missing file would create an empty store: say it is missing instead.
      if (!sqlite && store.path !== ':memory:' && !existsSync(store.path)) throw new DcimError('DCIM_E_CONFIG_UNREADABLE', `store.path ${store.path}: no such SQLite store`);
      return new SqliteSummaries(sqlite ?? new SqliteSink({ path: store.path }));
    case 'influx_v1':
      return new InfluxQlSummaries({
        url: store.url,
        database: store.database,
        ...(store.retention_policy !== undefined ? { retention_policy: store.retention_policy } : {}),
        ...(store.username !== undefined ? { auth: { kind: 'basic' as const, username: store.username, password: store.password !== undefined ? resolveSecret(store.password, 'store.password', env) : '' } } : {}),
      });
    case 'influx_v2':
      return new InfluxQlSummaries({ url: store.url, database: store.bucket, auth: { kind: 'token', token: resolveSecret(store.token, 'store.token', env) } });
  }
}

