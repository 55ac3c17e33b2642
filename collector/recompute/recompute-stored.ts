import { existsSync } from 'node:fs';
import type { Clock } from '../../contract/clock.js';
import { DcimError } from '../../contract/errors.js';
import { DEVICE_CLASSES, type DeviceClass } from '../../contract/ids.js';
import type { Logger } from '../../shared/log.js';
import type { DeviceProfile } from '../../contract/profile.js';
import { resolveSecret } from '../../shared/config/secrets.js';
import type { CollectorSetup, StoreConfig } from '../config.js';
import { kpiEngineConfig } from '../from-config.js';
import { KpiEngine, type ClosedKpi } from '../kpi-engine.js';
import { HOUR_MS } from '../../shared/time/site-calendar.js';
import { buildSiteRegistry } from '../state/site-registry.js';
import { createSink } from '../store/create-sink.js';
import { kpiPoint } from '../store/kpi-points.js';
import type { MetricSink, SinkStats } from '../store/metric-sink.js';
import { SqliteSink } from '../store/sqlite-sink.js';
import { InfluxQlReader } from './influxql-reader.js';
import { KpiReplay } from './kpi-replay.js';
import { pollsFromRows, type StoredReadings } from './stored-polls.js';

/**
 * `dcim kpi recompute`: the KPIs of one site over [from, to] computed again from the raw
 * readings in the store — after late data, an inventory fix (a meter's role or level), or a
 * collector outage — and written back. Idempotent: a window has the same tags and timestamp
 * (its end) however often it is computed, so the new point replaces the old one.
 *
 * Reads in slices of `slice_ms` (an hour), from an hour before `from` (counters need a previous
 * sample) to `to` plus the engine's settle time, into a fresh engine, as the live collector
 * would have. Writes only windows that lie inside [from, to]: recomputing a day never replaces
 * the stored month or year with a sum over that day. Writes go to the configured store without
 * its spool (a running collector holds the spool's lock), and any point not confirmed is an error.
 */
export interface RecomputeOptions {
  setup: CollectorSetup;
  site: string;
  from_ms: number;
  to_ms: number;
  profiles: ReadonlyMap<string, DeviceProfile>;
  clock: Clock;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  /** Compute and return, write nothing. */
  dry_run?: boolean;
  /**
   * Return every recomputed value in the report (default). False, when writing: values are written
   * as they settle (their windows ended more than the engine's late horizon before the replay's
   * newest poll), so a recompute of months holds days of values, not months; the report then
   * carries only their count.
   */
  keep_kpis?: boolean;
  /** Sees every recomputed value in [from, to] once, in either mode (a benchmark's truth check). */
  observe?: (c: ClosedKpi) => void;
  slice_ms?: number;
  /** Tests: read from / write to these instead of the configured store. */
  reader?: StoredReadings;
  sink?: MetricSink;
}

export interface RecomputeReport {
  site: string;
  from_ms: number;
  to_ms: number;
  store: string;
  slices: number;
  polls: number;
  readings: number;
  /** Windows recomputed, by window kind. */
  windows: Record<string, number>;
  /** The recomputed values (none with `keep_kpis: false`). */
  kpis: ClosedKpi[];
  /** How many values were recomputed in [from, to]. */
  recomputed: number;
  /** The most closed values the replay held at once. */
  held_peak: number;
  /** The engine's held state (`KpiEngine.heldState`) at the end, and the most signatures it held at once. */
  engine_held: ReturnType<KpiEngine['heldState']> & { signatures_peak: number };
  written?: SinkStats;
}

const LOOKBACK_MS = HOUR_MS;

/** The configured store as a reader of raw readings (InfluxQL for InfluxDB 1.x and 2.x with DBRP; the SQLite file). */
export function storedReadingsFor(store: StoredConfigLike, env: NodeJS.ProcessEnv, sqlite?: SqliteSink): StoredReadings {
  switch (store.kind) {
    case 'sqlite': {
      // Opening a missing file would create an empty store and recompute nothing, silently.
      if (store.path !== ':memory:' && !existsSync(store.path)) throw new DcimError('DCIM_E_CONFIG_UNREADABLE', `store.path ${store.path}: no such SQLite store`);
      const sink = sqlite ?? new SqliteSink({ path: store.path });
      return {
        target: `sqlite ${store.path}`,
        slice: (site, measurements, from, to) => Promise.resolve(sink.rawRows(site, measurements, from, to)),
        close: () => (sqlite ? Promise.resolve() : sink.close()),
      };
    }
    case 'influx_v1':
      return new InfluxQlReader({
        url: store.url,
        database: store.database,
        ...(store.retention_policy !== undefined ? { retention_policy: store.retention_policy } : {}),
        ...(store.username !== undefined ? { auth: { kind: 'basic' as const, username: store.username, password: store.password !== undefined ? resolveSecret(store.password, 'store.password', env) : '' } } : {}),
      });
    case 'influx_v2':
      // InfluxDB 2.x answers InfluxQL on /query for a bucket with a DBRP mapping (database = bucket name).
      return new InfluxQlReader({ url: store.url, database: store.bucket, auth: { kind: 'token', token: resolveSecret(store.token, 'store.token', env) } });
  }
}

type StoredConfigLike = StoreConfig;

/** The store without its spool: the running collector holds the spool directory's lock. */
function withoutSpool(s: StoreConfig): StoreConfig {
  if (s.kind === 'sqlite') return s;
  const { spool: _spool, ...rest } = s;
  return rest;
}

export async function recomputeStored(o: RecomputeOptions): Promise<RecomputeReport> {
  const { config } = o.setup;
  const inventory = o.setup.inventories.find((i) => i.site.id === o.site);
  if (!inventory) throw new DcimError('DCIM_E_CONFIG_INVALID', `site ${o.site} is not one of collector.sites (${o.setup.inventories.map((i) => i.site.id).join(', ')})`);
  if (!(o.to_ms > o.from_ms)) throw new DcimError('DCIM_E_CONFIG_INVALID', `--to must be after --from`);
  const env = o.env ?? process.env;
  const engine = KpiEngine.create({ inventories: [inventory], profiles: o.profiles, config: kpiEngineConfig(config.kpi) });
  const classes = new Set<DeviceClass>();
  for (const d of buildSiteRegistry([inventory], o.profiles).get(o.site)!.devices.values()) if (d.class) classes.add(d.class);
  const measurements = classes.size > 0 ? [...classes].sort() : [...DEVICE_CLASSES];

  // With SQLite one handle reads and writes; otherwise the reader is separate from the sink.
  const store = config.store;
  if (store.kind === 'sqlite' && !o.reader && store.path !== ':memory:' && !existsSync(store.path)) {
    throw new DcimError('DCIM_E_CONFIG_UNREADABLE', `store.path ${store.path}: no such SQLite store`);
  }
  const ownSink = o.dry_run || o.sink ? undefined : createSink(withoutSpool(store), { clock: o.clock, logger: o.logger, env });
  const sink = o.sink ?? ownSink;
  const reader = o.reader ?? storedReadingsFor(store, env, sink instanceof SqliteSink ? sink : undefined);

  const replay = new KpiReplay(engine);
  const range = { from_ms: o.from_ms, to_ms: o.to_ms };
  const stream = o.keep_kpis === false && !o.dry_run && sink !== undefined;
  const kept: ClosedKpi[] = [];
  const windows: Record<string, number> = {};
  let recomputed = 0;
  let heldPeak = 0;
  let signaturesPeak = 0;
  const handOver = (batch: readonly ClosedKpi[]) => {
    for (const c of batch) {
      windows[c.value.window] = (windows[c.value.window] ?? 0) + 1;
      o.observe?.(c);
    }
    recomputed += batch.length;
    if (stream) sink.write(batch.map((c) => kpiPoint(c.id, c.value)));
    else kept.push(...batch);
  };
  if (stream) sink.start?.();
  const slice = o.slice_ms ?? HOUR_MS;
  const end = o.to_ms + engine.settle_ms + 1;
  let slices = 0;
  let readings = 0;
  try {
    for (let t = o.from_ms - LOOKBACK_MS; t < end; t += slice) {
      const rows = await reader.slice(o.site, measurements, t, Math.min(t + slice, end));
      slices++;
      for (const p of pollsFromRows(o.site, rows)) {
        readings += p.readings.length;
        replay.feed(p);
      }
      heldPeak = Math.max(heldPeak, replay.held);
      signaturesPeak = Math.max(signaturesPeak, engine.heldState().signatures);
      if (stream) {
        const settled = replay.settled(range);
        handOver(settled);
        // Written now, so the values leave memory instead of waiting in the sink's queue.
        if (settled.length > 0) await sink.flush();
      }
    }
  } finally {
    if (!o.reader) await reader.close();
  }
  handOver(replay.finish(range));
  heldPeak = Math.max(heldPeak, replay.held);
  const held = engine.heldState();
  const report: RecomputeReport = {
    site: o.site, from_ms: o.from_ms, to_ms: o.to_ms, store: reader.target, slices, polls: replay.stats.polls, readings, windows, kpis: kept, recomputed, held_peak: heldPeak,
    engine_held: { ...held, signatures_peak: Math.max(signaturesPeak, held.signatures) },
  };
  if (o.dry_run || !sink) return report;

  if (!stream) {
    sink.start?.();
    sink.write(kept.map((c) => kpiPoint(c.id, c.value)));
  }
  await sink.flush();
  if (ownSink) await ownSink.close();
  const s = sink.stats();
  report.written = s;
  const unconfirmed = s.points_invalid + s.points_rejected + s.points_lost + s.pending;
  if (unconfirmed > 0) {
    throw new DcimError('DCIM_E_STORE_WRITE', `recompute: ${unconfirmed} of ${recomputed} KPI points not written (invalid ${s.points_invalid}, rejected ${s.points_rejected}, lost ${s.points_lost}, pending ${s.pending}); see the log`);
  }
  return report;
}
