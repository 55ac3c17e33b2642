import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { CollectorConfigSchema, type CollectorSetup } from '../../collector/config.js';
import type { ClosedKpi } from '../../collector/kpi-engine.js';
import { recomputeStored } from '../../collector/recompute/recompute-stored.js';
import { buildSiteRegistry } from '../../collector/state/site-registry.js';
import { createSink } from '../../collector/store/create-sink.js';
import { SqliteSink } from '../../collector/store/sqlite-sink.js';
import { ManualClock } from '../../contract/clock.js';
import type { DeviceClass } from '../../contract/ids.js';
import type { KpiValue } from '../../contract/messages.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { memoryLogger } from '../../shared/log.js';
import { startInfluxV1 } from '../../devtools/influxdb-v1.js';
import { guianSite, HOUR_MS, monthEnd, truthPue, YEAR_START, type YearTruth } from '../../devtools/year-site.js';
import { CountingSink } from './counting-sink.js';

/**
 * The year benchmark's recompute against InfluxDB 1.x (the version installed here): the first
 * `months` of a generated SQLite store copied into a local influxd as the collector writes raw
 * readings (its own v1 sink, one line per series and poll), then `recomputeStored` configured
 * with `store: influx_v1` — InfluxQL slices read over HTTP, the KPIs written back through the
 * same sink — and, in the same process, the same recompute from the SQLite store as the peer.
 * The check: both give the same values (a hash over every value recomputed) and the month's
 * PUE agrees with the truth. influxd's own CPU is read from /proc: its share of the work is real.
 */
export interface InfluxRecompute {
  devices: number;
  months: number;
  influxd_version: string;
  copied_points: number;
  copy_wall_ms: number;
  influx: { wall_ms: number; cpu_ms: number; influxd_cpu_ms: number; recomputed: number; hash: string; pue_abs_error: number };
  sqlite: { wall_ms: number; cpu_ms: number; recomputed: number; hash: string; pue_abs_error: number };
}

const TICKS_PER_S = 100;

/** utime + stime of a process, ms (Linux /proc; clock ticks are 1/100 s on every Linux the project runs on). */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
}

export async function recomputeFromInflux(job: { store: string; truth: YearTruth; devices: number; months: number }): Promise<InfluxRecompute | { skipped: string }> {
  const launched = await startInfluxV1();
  if (!launched.ok) return { skipped: `${launched.reason.service}: ${launched.reason.reason}` };
  const influx = launched.value;
  try {
    await influx.createDatabase('dcim');
    const ping = await fetch(`${influx.url}/ping`);
    const version = ping.headers.get('x-influxdb-version') ?? 'unknown';
    const profiles = loadProfiles();
    const site = guianSite(job.devices);
    const to = monthEnd(job.months);
    const clock = new ManualClock(monthEnd(12) + 86_400_000);
    const sqlite = new SqliteSink({ path: job.store, clock, retention_ms: 3650 * 86_400_000, logger: memoryLogger() });
    const classes = new Set<DeviceClass>();
    for (const d of buildSiteRegistry([site], profiles).get(site.site.id)!.devices.values()) if (d.class) classes.add(d.class);
    const measurements = [...classes].sort();

    const setupFor = (store: Record<string, unknown>): CollectorSetup => ({
      file: 'bench.yaml',
      config: CollectorConfigSchema.parse({ collector: { id: 'bench', sites: ['guian.yaml'] }, mqtt: { url: 'mqtt://127.0.0.1:1' }, store }),
      inventories: [site],
      clusters: [],
      deprecations: [],
    });
    const influxSetup = setupFor({ kind: 'influx_v1', url: influx.url, database: 'dcim' });

    // The raw readings, hour by hour, through the collector's own InfluxDB sink.
    const c0 = performance.now();
    const copy = createSink(influxSetup.config.store, { clock, logger: memoryLogger('warn') });
    copy.start?.();
    let copied = 0;
    for (let t = YEAR_START - HOUR_MS; t < to + 60_001; t += HOUR_MS) {
      const rows = sqlite.rawRows(site.site.id, measurements, t, Math.min(t + HOUR_MS, to + 60_001));
      copy.write(rows.map((r) => ({ measurement: r.measurement, tags: r.tags, ts_ms: r.ts_ms, fields: r.fields as Record<string, number> })));
      copied += rows.length;
      if ((t - YEAR_START) % (24 * HOUR_MS) === 0) await copy.flush();
    }
    await copy.flush();
    await copy.close();
    const copyWall = performance.now() - c0;
    const lost = copy.stats();
    if (lost.points_written < copied) throw new Error(`copy into influxd: ${lost.points_written} of ${copied} points written`);

    const run = async (setup: CollectorSetup, sqliteStore: SqliteSink | undefined) => {
      const hash = createHash('sha256');
      let pue: KpiValue | undefined;
      const observe = (c: ClosedKpi) => {
        hash.update(JSON.stringify([c.scope, c.id, c.value]));
        if (c.value.kpi === 'pue' && c.value.window === '1mo' && c.value.window_start === monthEnd(job.months - 1) && c.value.window_end === to) pue = c.value;
      };
      const pid = influx.pid!;
      const i0 = processCpuMs(pid);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const report = await recomputeStored({
        setup, site: site.site.id, from_ms: YEAR_START, to_ms: to, profiles, clock, logger: memoryLogger('warn'), keep_kpis: false, observe,
        ...(sqliteStore ? { reader: { target: 'sqlite', slice: (s, m, a, b) => Promise.resolve(sqliteStore.rawRows(s, m, a, b)), close: () => Promise.resolve() }, sink: new CountingSink() } : {}),
      });
      const wall = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const ratio = (pue?.inputs?.facility_kwh ?? Number.NaN) / (pue?.inputs?.it_kwh ?? Number.NaN);
      return { wall_ms: wall, cpu_ms: (cpu.user + cpu.system) / 1000, influxd_cpu_ms: processCpuMs(pid) - i0, recomputed: report.recomputed, hash: hash.digest('hex').slice(0, 16), pue_abs_error: Math.abs(ratio - truthPue(job.truth, monthEnd(job.months - 1), to)) };
    };
    const fromInflux = await run(influxSetup, undefined);
    const { influxd_cpu_ms: _none, ...fromSqlite } = await run(setupFor({ kind: 'sqlite', path: job.store, retention_days: 3650 }), sqlite);
    await sqlite.close();
    return { devices: site.devices.length, months: job.months, influxd_version: version, copied_points: copied, copy_wall_ms: copyWall, influx: fromInflux, sqlite: fromSqlite };
  } finally {
    await influx.stop();
  }
}
