import Database from 'better-sqlite3';
import { SystemClock, type Clock, type TimerHandle } from '../../contract/clock.js';
import { DcimError } from '../../contract/errors.js';
import { createLogger, type Logger } from '../../shared/log.js';
import { cleanPoint, type CleanPoint } from './line-protocol.js';
import { SUMMARY_MEASUREMENT } from '../../contract/storage-schema.js';
import { KPI_FIXED_FIELDS, KPI_MEASUREMENT } from './kpi-points.js';
import { isIntField, type FieldValue, type MetricPoint } from './metric-point.js';
import { emptySinkStats, type MetricSink, type SinkHealth, type SinkStats } from './metric-sink.js';

/**
 * The embedded store for the demo and small sites with no InfluxDB (docs/design.md §7): one SQLite
 * file holding the same data model (series = measurement + tags; one sample per field and ms),
 * plus the latest value of every KPI for the live page and the API. Like InfluxDB, writing the
 * same series, field and timestamp again replaces the sample, so KPI writes stay idempotent.
 * Points pass the same checks as line protocol, so both stores accept the same data.
 */
export interface SqliteSinkOptions {
  /** File path, or ':memory:'. */
  path: string;
  flush_interval_ms?: number;
  /** Samples older than this are deleted (checked at most hourly). Default 7 days. */
  retention_ms?: number;
  max_buffer_points?: number;
  clock?: Clock;
  logger?: Logger;
}

export interface KpiRow {
  site: string;
  kpi: string;
  window: string;
  basis: string;
  ts_ms: number;
  quality: string;
  category?: number;
  value?: number;
  ok: boolean;
  coverage?: number;
  target?: number;
  status?: string;
  reason?: string;
  inputs: Record<string, number>;
}

export interface SeriesQuery {
  measurement: string;
  field: string;
  /** Only series whose tags include all of these. */
  tags?: Record<string, string>;
  since_ms: number;
  until_ms?: number;
  limit?: number;
}

export interface SeriesSample {
  ts_ms: number;
  value: number | string | null;
  tags: Record<string, string>;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS series (
  id INTEGER PRIMARY KEY,
  measurement TEXT NOT NULL,
  tags TEXT NOT NULL,
  UNIQUE (measurement, tags)
);
CREATE TABLE IF NOT EXISTS samples (
  series_id INTEGER NOT NULL REFERENCES series(id),
  field TEXT NOT NULL,
  ts_ms INTEGER NOT NULL,
  value,  -- no declared type: no affinity, so the text "5" stays text
  PRIMARY KEY (series_id, field, ts_ms)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS samples_ts ON samples (ts_ms);
CREATE TABLE IF NOT EXISTS kpi_latest (
  site TEXT NOT NULL,
  kpi TEXT NOT NULL,
  kpi_window TEXT NOT NULL,
  basis TEXT NOT NULL,
  ts_ms INTEGER NOT NULL,
  quality TEXT NOT NULL,
  category INTEGER,
  value REAL,
  ok INTEGER NOT NULL,
  coverage REAL,
  target REAL,
  status TEXT,
  reason TEXT,
  inputs TEXT NOT NULL,
  PRIMARY KEY (site, kpi, kpi_window, basis)
);
`;

const HOUR_MS = 3_600_000;

/**
 * The raw rows of one site and time slice. CROSS JOIN keeps samples the outer loop, so SQLite
 * walks the time index over the slice only; with a plain JOIN it picks series first and reads
 * every stored sample of each series (the primary key puts the field before the time) for every
 * slice, so a recompute or a restore cost grew with everything the store held.
 */
export function rawRowsSql(measurements: number): string {
  return `SELECT s.id AS sid, s.measurement AS m, s.tags AS tags, x.field AS field, x.ts_ms AS ts, x.value AS value
         FROM samples x CROSS JOIN series s ON s.id = x.series_id
         WHERE s.measurement IN (${Array.from({ length: measurements }, () => '?').join(',')}) AND json_extract(s.tags, '$.site') = ? AND x.ts_ms >= ? AND x.ts_ms < ?
         ORDER BY x.ts_ms, s.id`;
}

function sqlValue(v: FieldValue): number | bigint | string {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (isIntField(v)) return v.int;
  return v;
}

function fieldOf(c: CleanPoint, key: string): FieldValue | undefined {
  return c.fields.find((f) => f.key === key)?.value;
}

const num = (v: FieldValue | undefined) => (typeof v === 'number' ? v : undefined);

export class SqliteSink implements MetricSink {
  private readonly counters: SinkStats = emptySinkStats();
  private pending: CleanPoint[] = [];
  private handle: Database.Database | undefined;
  private flushTimer: TimerHandle | undefined;
  private lastPruneMs = -Infinity;
  private closed = false;
  private lastSuccessMs: number | null = null;
  private lastError: string | null = null;
  /** When the current state (ok or failing) began; null before the first flush. */
  private stateSince: number | null = null;

  constructor(private readonly opts: SqliteSinkOptions) {}

  private get clock(): Clock {
    return (this.opts.clock ??= new SystemClock());
  }

  private get logger(): Logger {
    return (this.opts.logger ??= createLogger({ base: { component: 'sqlite-sink' } }));
  }

  private db(): Database.Database {
    if (this.handle) return this.handle;
    const db = new Database(this.opts.path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(SCHEMA);
    this.handle = db;
    return db;
  }

  write(points: readonly MetricPoint[]): void {
    const problems: string[] = [];
    for (const p of points) {
      const c = cleanPoint(p);
      if (!c.ok) {
        this.counters.points_invalid++;
        if (problems.length < 10) problems.push(`${p.measurement}: ${c.reason}`);
        continue;
      }
      this.counters.fields_dropped += c.value.field_problems.length;
      for (const f of c.value.field_problems) if (problems.length < 10) problems.push(f);
      if (this.closed) {
        this.counters.points_lost++;
        continue;
      }
      this.counters.points_queued++;
      this.pending.push(c.value);
    }
    if (problems.length > 0) this.logger.warn('points or fields dropped before writing', { code: 'DCIM_E_STORE_WRITE', problems });
    const max = this.opts.max_buffer_points ?? 200_000;
    if (this.pending.length > max) {
      const excess = this.pending.length - max;
      this.pending.splice(0, excess);
      this.counters.points_lost += excess;
      this.logger.error('write buffer full: dropping the oldest points', { code: 'DCIM_E_STORE_WRITE', points: excess });
    }
    if (this.pending.length > 0 && !this.flushTimer && !this.closed) {
      this.flushTimer = this.clock.setTimeout(() => {
        this.flushTimer = undefined;
        void this.flush();
      }, this.opts.flush_interval_ms ?? 1000);
    }
  }

  flush(): Promise<void> {
    if (this.pending.length === 0) return Promise.resolve();
    const batch = this.pending;
    this.pending = [];
    try {
      this.insert(batch);
      this.counters.points_written += batch.length;
      this.counters.batches_written++;
      this.lastSuccessMs = this.clock.now();
      if (this.lastError !== null || this.stateSince === null) this.stateSince = this.lastSuccessMs;
      this.lastError = null;
      this.prune();
    } catch (e) {
      // A full disk or a locked file: keep the batch for the next flush.
      this.counters.write_errors++;
      if (this.lastError === null) this.stateSince = this.clock.now();
      this.lastError = (e as Error).message;
      this.pending = [...batch, ...this.pending];
      this.logger.error('sqlite write failed', { code: 'DCIM_E_STORE_WRITE', error: e as Error });
    }
    return Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.flushTimer?.cancel();
    await this.flush();
    if (this.pending.length > 0) {
      this.counters.points_lost += this.pending.length;
      this.pending = [];
    }
    this.handle?.close();
    this.handle = undefined;
  }

  stats(): SinkStats {
    return { ...this.counters, pending: this.pending.length };
  }

  /** Open the file now, so a bad path fails at start rather than at the first flush. */
  start(): void {
    try {
      this.db();
    } catch (e) {
      throw new DcimError('DCIM_E_CONFIG_INVALID', `store.path ${this.opts.path}: cannot open the SQLite store: ${(e as Error).message}`);
    }
  }

  health(): SinkHealth {
    const failing = this.lastError !== null;
    return {
      target: `sqlite ${this.opts.path}`,
      state: failing ? 'unwritable' : 'ok',
      reason: this.lastError,
      since: this.stateSince,
      reachable: !failing,
      last_success_ms: this.lastSuccessMs,
      last_error: this.lastError,
      retry_at_ms: null,
    };
  }

  /** The latest value of every KPI, optionally of one site. */
  latestKpis(site?: string): KpiRow[] {
    const rows = this.db()
      .prepare(`SELECT * FROM kpi_latest ${site !== undefined ? 'WHERE site = ?' : ''} ORDER BY site, kpi, kpi_window, basis`)
      .all(...(site !== undefined ? [site] : [])) as Record<string, unknown>[];
    return rows.map((r) => ({
      site: r.site as string,
      kpi: r.kpi as string,
      window: r.kpi_window as string,
      basis: r.basis as string,
      ts_ms: r.ts_ms as number,
      quality: r.quality as string,
      ...(r.category !== null ? { category: r.category as number } : {}),
      ...(r.value !== null ? { value: r.value as number } : {}),
      ok: r.ok === 1,
      ...(r.coverage !== null ? { coverage: r.coverage as number } : {}),
      ...(r.target !== null ? { target: r.target as number } : {}),
      ...(r.status !== null ? { status: r.status as string } : {}),
      ...(r.reason !== null ? { reason: r.reason as string } : {}),
      inputs: JSON.parse(r.inputs as string) as Record<string, number>,
    }));
  }

  /** Samples of one field, oldest first, across every series of the measurement matching `tags`. */
  series(q: SeriesQuery): SeriesSample[] {
    const where = ['s.measurement = ?', 'x.field = ?', 'x.ts_ms >= ?'];
    const args: (string | number)[] = [q.measurement, q.field, q.since_ms];
    if (q.until_ms !== undefined) {
      where.push('x.ts_ms <= ?');
      args.push(q.until_ms);
    }
    for (const [k, v] of Object.entries(q.tags ?? {})) {
      where.push(`json_extract(s.tags, ?) = ?`);
      args.push(`$."${k.replace(/"/g, '""')}"`, v);
    }
    args.push(q.limit ?? 10_000);
    const rows = this.db()
      .prepare(`SELECT x.ts_ms, x.value, s.tags FROM samples x CROSS JOIN series s ON s.id = x.series_id WHERE ${where.join(' AND ')} ORDER BY x.ts_ms LIMIT ?`)
      .all(...args) as { ts_ms: number; value: number | string | null; tags: string }[];
    return rows.map((r) => ({ ts_ms: r.ts_ms, value: r.value, tags: JSON.parse(r.tags) as Record<string, string> }));
  }

  /** The tag sets of every series of one measurement (which sites have stored summaries). */
  seriesTags(measurement: string): Record<string, string>[] {
    const rows = this.db().prepare('SELECT tags FROM series WHERE measurement = ?').pluck().all(measurement) as string[];
    return rows.map((t) => JSON.parse(t) as Record<string, string>);
  }

  /**
   * Raw rows of one site for `dcim kpi recompute`: every sample of these measurements with
   * since_ms <= ts < until_ms, one row per series and timestamp with its fields. Booleans come back
   * as 0/1 (SQLite has no boolean); no KPI input is a boolean.
   */
  rawRows(site: string, measurements: readonly string[], since_ms: number, until_ms: number): { measurement: string; tags: Record<string, string>; ts_ms: number; fields: Record<string, unknown> }[] {
    if (measurements.length === 0) return [];
    const rows = this.db()
      .prepare(rawRowsSql(measurements.length))
      .all(...measurements, site, since_ms, until_ms) as { sid: number; m: string; tags: string; field: string; ts: number; value: unknown }[];
    const out = new Map<string, { measurement: string; tags: Record<string, string>; ts_ms: number; fields: Record<string, unknown> }>();
    // One parse per series, not per sample: a series' rows share its tags object.
    const tagsOf = new Map<number, Record<string, string>>();
    for (const r of rows) {
      const key = `${r.sid}|${r.ts}`;
      let row = out.get(key);
      if (!row) {
        let tags = tagsOf.get(r.sid);
        if (!tags) tagsOf.set(r.sid, (tags = JSON.parse(r.tags) as Record<string, string>));
        out.set(key, (row = { measurement: r.m, tags, ts_ms: r.ts, fields: {} }));
      }
      row.fields[r.field] = typeof r.value === 'bigint' ? Number(r.value) : r.value;
    }
    return [...out.values()];
  }

  private insert(batch: readonly CleanPoint[]): void {
    const db = this.db();
    const findSeries = db.prepare('SELECT id FROM series WHERE measurement = ? AND tags = ?').pluck();
    const addSeries = db.prepare('INSERT INTO series (measurement, tags) VALUES (?, ?)');
    const putSample = db.prepare('INSERT OR REPLACE INTO samples (series_id, field, ts_ms, value) VALUES (?, ?, ?, ?)');
    const putKpi = db.prepare(`
      INSERT INTO kpi_latest (site, kpi, kpi_window, basis, ts_ms, quality, category, value, ok, coverage, target, status, reason, inputs)
      VALUES (@site, @kpi, @kpi_window, @basis, @ts_ms, @quality, @category, @value, @ok, @coverage, @target, @status, @reason, @inputs)
      ON CONFLICT (site, kpi, kpi_window, basis) DO UPDATE SET
        ts_ms = excluded.ts_ms, quality = excluded.quality, category = excluded.category, value = excluded.value,
        ok = excluded.ok, coverage = excluded.coverage, target = excluded.target, status = excluded.status,
        reason = excluded.reason, inputs = excluded.inputs
      WHERE excluded.ts_ms >= kpi_latest.ts_ms`);
    const seriesIds = new Map<string, number | bigint>();
    db.transaction(() => {
      for (const p of batch) {
        const tags = JSON.stringify(Object.fromEntries(p.tags));
        const key = `${p.measurement}\u0000${tags}`;
        let id = seriesIds.get(key) ?? (findSeries.get(p.measurement, tags) as number | undefined);
        if (id === undefined) id = addSeries.run(p.measurement, tags).lastInsertRowid;
        seriesIds.set(key, id);
        for (const f of p.fields) putSample.run(id, f.key, p.ts_ms, sqlValue(f.value));
        if (p.measurement === KPI_MEASUREMENT) putKpi.run(this.kpiRow(p));
      }
    })();
  }

  private kpiRow(p: CleanPoint): Record<string, unknown> {
    const tag = (k: string) => p.tags.find(([key]) => key === k)?.[1];
    const inputs: Record<string, number> = {};
    for (const f of p.fields) if (!KPI_FIXED_FIELDS.has(f.key) && typeof f.value === 'number') inputs[f.key] = f.value;
    const status = fieldOf(p, 'status');
    const reason = fieldOf(p, 'reason');
    const quality = fieldOf(p, 'quality');
    const category = tag('category');
    return {
      site: tag('site') ?? '',
      kpi: tag('kpi') ?? '',
      kpi_window: tag('window') ?? '',
      basis: tag('basis') ?? '',
      ts_ms: p.ts_ms,
      quality: typeof quality === 'string' ? quality : '',
      category: category !== undefined ? Number(category) : null,
      value: num(fieldOf(p, 'value')) ?? null,
      ok: fieldOf(p, 'ok') === true ? 1 : 0,
      coverage: num(fieldOf(p, 'coverage')) ?? null,
      target: num(fieldOf(p, 'target')) ?? null,
      status: typeof status === 'string' ? status : null,
      reason: typeof reason === 'string' ? reason : null,
      inputs: JSON.stringify(inputs),
    };
  }

  private prune(): void {
    const now = this.clock.now();
    if (now - this.lastPruneMs < HOUR_MS) return;
    this.lastPruneMs = now;
    const cutoff = now - (this.opts.retention_ms ?? 7 * 24 * HOUR_MS);
    // Day and month summaries are a site's history (month, year and trailing-12-month windows after a restart, past-month reports): kept past the retention.
    const removed = this.db()
      .prepare(`DELETE FROM samples WHERE ts_ms < ? AND series_id NOT IN (SELECT id FROM series WHERE measurement = ? AND json_extract(tags, '$.window') IN ('1d', '1mo'))`)
      .run(cutoff, SUMMARY_MEASUREMENT).changes;
    if (removed > 0) this.logger.info('pruned old samples', { removed, cutoff_ms: cutoff });
  }
}
