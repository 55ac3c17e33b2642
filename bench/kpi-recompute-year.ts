/**
 * `dcim kpi recompute` over a year (printed figures, not a timed test).
 *
 *   npm run bench -- kpi-recompute-year [--months 1,3,6,12] [--devices 250,500,1010] [--device-months 1] [--month-devices 1010] [--peer-months N] [--influx N [--influx-months 1]] [--dir DIR] [--keep] [--reuse] [--stores-only]
 *
 * `--reuse` keeps a store (and its truth file) already in `--dir` from an earlier run instead of
 * writing it again (a year at 1,010 devices is ~4 GB); `--stores-only` writes the stores and stops.
 * `--influx N`: also the recompute of the first `--influx-months` (1) months at N devices (a store
 * of this run) against a local InfluxDB 1.x, with the same recompute from SQLite as its peer
 * (bench/support/recompute-influx.ts).
 * `--peer-months N`: the peer reads the first N months only, compared with the recompute's time
 * at the end of month N (a year's peer would add half the recompute's time again).
 *
 * The Gui'an seed site (1,010 devices; fewer by whole racks), every device polled every 15
 * minutes through 2025 (Asia/Shanghai), stored in the SQLite store's own format by the
 * generator in devtools/year-site.ts, which knows the true energy of every meter group. Then
 * `recomputeStored` — the path `dcim kpi recompute` takes: hourly slices read from the store, one
 * KpiReplay, the KPIs written back — over the first 1, 3, 6 and 12 months at 1,010 devices, and
 * over `--device-months` months at each device count. Each recompute runs in its own process, so
 * its peak RSS is its own. Printed per run: wall and CPU time, peak RSS and heap (sampled at every
 * slice), and the peer measured in the same process on the same store: the store's own read of
 * the same hourly slices (`SqliteSink.rawRows`), so the KPI work shows as a multiple of the raw read.
 *
 * The check: every month's energy PUE and (over 12 months) the calendar year's, against the truth;
 * a wrong figure makes the timing worthless. InfluxDB is not measured here: writing a year of
 * 60 million samples into a local influxd takes longer than the recompute it would time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CollectorConfigSchema, type CollectorSetup } from '../collector/config.js';
import { recomputeStored, type RecomputeReport } from '../collector/recompute/recompute-stored.js';
import type { StoredReadings } from '../collector/recompute/stored-polls.js';
import { buildSiteRegistry } from '../collector/state/site-registry.js';
import { SqliteSink } from '../collector/store/sqlite-sink.js';
import { ManualClock } from '../contract/clock.js';
import type { DeviceClass } from '../contract/ids.js';
import type { KpiValue } from '../contract/messages.js';
import { memoryLogger } from '../shared/log.js';
import { recomputeFromInflux } from './support/recompute-influx.js';
import { siteCalendar } from '../shared/time/site-calendar.js';
import { loadProfiles } from '../profiles/catalogue.js';
import { benchArg, benchList, guianSite, HOUR_MS, monthEnd, QUARTER_MS, STORE_START, truthPue, writeYearStore, YEAR_START, type YearBenchJob, type YearTruth } from '../devtools/year-site.js';

const quartersTo = (months: number) => (monthEnd(months) + 30 * 60_000 - STORE_START) / QUARTER_MS;

const gc = (globalThis as { gc?: () => void }).gc;
const mib = (b: number) => Math.round(b / 2 ** 20);
const s1 = (ms: number) => Math.round(ms / 100) / 10;
/** An error beside the truth; a PUE that never came is Infinity (NaN), which JSON carries as null. */
const errorOf = (e: number | null) => (e === null || !Number.isFinite(e) ? 'none: no PUE to check' : e.toExponential(1));

const argOf = benchArg;
const list = benchList;

type ChildJob = YearBenchJob;

interface MonthMark {
  month: number;
  cpu_s: number;
  wall_s: number;
  heap_after_gc_mib: number;
  rss_mib: number;
  peak_rss_mib: number;
}

interface ChildResult {
  devices: number;
  /** The most recomputed values held in memory at once (the rest were written as they settled). */
  held_peak: number;
  /** What the engine held at the end beyond its fixed bucket rings (signatures, occupancy days, …). */
  engine_held: RecomputeReport['engine_held'];
  /** Checkpoints at each month's end. */
  by_month: MonthMark[];
  months: number;
  polls: number;
  readings: number;
  kpis: number;
  wall_ms: number;
  cpu_ms: number;
  peak_rss_mib: number;
  peak_heap_mib: number;
  raw_read_ms: number;
  raw_read_cpu_ms: number;
  /** The months the peer read (the first ones). */
  raw_read_months: number;
  recompute_vs_raw: { wall: number; cpu: number };
  raw_rows: number;
  pue: { months_checked: number; max_abs_error: number; year?: { recomputed: number | undefined; truth: number; quality: string | undefined } };
}

/** One recompute, in this process (spawned by the parent). */
async function child(job: ChildJob): Promise<ChildResult> {
  const profiles = loadProfiles();
  const site = guianSite(job.devices);
  const truth = readTruth(job.truth_file);
  const config = CollectorConfigSchema.parse({ collector: { id: 'bench', sites: ['guian.yaml'] }, mqtt: { url: 'mqtt://127.0.0.1:1' }, store: { kind: 'sqlite', path: job.store, retention_days: 3650 } });
  const calendar = siteCalendar(site.site.timezone);
  const setup: CollectorSetup = { file: 'bench.yaml', config, inventories: [site], clusters: [], deprecations: [] };
  const clock = new ManualClock(monthEnd(12) + 86_400_000);
  const store = new SqliteSink({ path: job.store, clock, retention_ms: 3650 * 86_400_000, logger: memoryLogger() });
  let peakHeap = 0;
  const sample = () => void (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed));
  const to = monthEnd(job.months);
  const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
  // At each month's end (the first slice past it): time so far, and the heap after a full collection — what the
  // recompute retains, where the peak above also counts garbage not collected yet.
  const months: MonthMark[] = [];
  const mark = () => {
    gc?.();
    const m = process.memoryUsage();
    months.push({ month: months.length + 1, cpu_s: s1(cpuMs(process.cpuUsage(cpu0))), wall_s: s1(performance.now() - t0), heap_after_gc_mib: mib(m.heapUsed), rss_mib: mib(m.rss), peak_rss_mib: mib(process.resourceUsage().maxRSS * 1024) });
    // Progress on stderr (the parent's terminal): a long run cut short still told its months.
    console.error(`    month ${JSON.stringify(months.at(-1))} load ${loadavg()[0]!.toFixed(1)}`);
  };
  // The reader `dcim kpi recompute` builds over the SQLite store, sampling the heap at every slice.
  const reader: StoredReadings = {
    target: `sqlite ${job.store}`,
    slice: (s, m, from, until) => {
      if (months.length < job.months && from >= monthEnd(months.length + 1)) mark();
      sample();
      return Promise.resolve(store.rawRows(s, m, from, until));
    },
    close: () => Promise.resolve(),
  };
  gc?.();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  // As `dcim kpi recompute` writes: values handed to the store as they settle. Kept for the check: each month's
  // final 1mo PUE (the to-date value of its last edge) and the year's.
  const pues = new Map<string, KpiValue>();
  const report = await recomputeStored({
    setup, site: site.site.id, from_ms: YEAR_START, to_ms: to, profiles, clock, logger: memoryLogger('warn'), reader, sink: store, keep_kpis: false,
    observe: (c) => {
      const v = c.value;
      if (v.kpi === 'pue' && (v.window === '1y' || (v.window === '1mo' && v.window_end === calendar.monthOf(v.window_start).end))) pues.set(`${v.window}|${v.window_start}|${v.window_end}`, v);
    },
  });
  if (months.length < job.months) mark();
  sample();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const peakRss = process.resourceUsage().maxRSS * 1024;

  // The peer: the store's own read of the same hourly slices, rows dropped as they come.
  const classes = new Set<DeviceClass>();
  for (const d of buildSiteRegistry([site], profiles).get(site.site.id)!.devices.values()) if (d.class) classes.add(d.class);
  const measurements = [...classes].sort();
  const r0 = performance.now();
  const rc0 = process.cpuUsage();
  let rawRows = 0;
  const peerMonths = Math.min(job.peer_months ?? job.months, job.months);
  const peerTo = monthEnd(peerMonths);
  for (let t = YEAR_START - HOUR_MS; t < peerTo + 60_001; t += HOUR_MS) rawRows += store.rawRows(site.site.id, measurements, t, Math.min(t + HOUR_MS, peerTo + 60_001)).length;
  const rawMs = performance.now() - r0;
  const rawCpu = process.cpuUsage(rc0);
  await store.close();

  let maxErr = 0;
  let checked = 0;
  // A to-date window (1mo) has a value at every quarter-hour edge: the month's own is the one ending with it.
  const pueOf = (window: string, start: number, end: number) => pues.get(`${window}|${start}|${end}`);
  for (let m = 0; m < job.months; m++) {
    const start = m === 0 ? YEAR_START : monthEnd(m);
    const v = pueOf('1mo', start, monthEnd(m + 1));
    // The published value is rounded; the energies beside it are not.
    const err = v?.ok === true ? Math.abs(ratioOf(v) - truthPue(truth, start, monthEnd(m + 1))) : Number.POSITIVE_INFINITY;
    maxErr = Math.max(maxErr, err);
    checked++;
  }
  const year = job.months === 12 ? pueOf('1y', YEAR_START, monthEnd(12)) : undefined;
  if (year?.ok === true) maxErr = Math.max(maxErr, Math.abs(ratioOf(year) - truthPue(truth, YEAR_START, monthEnd(12))));
  return {
    devices: site.devices.length,
    months: job.months,
    polls: report.polls,
    readings: report.readings,
    kpis: report.recomputed,
    held_peak: report.held_peak,
    engine_held: report.engine_held,
    by_month: months,
    wall_ms: wall,
    cpu_ms: (cpu.user + cpu.system) / 1000,
    peak_rss_mib: mib(peakRss),
    peak_heap_mib: mib(peakHeap),
    raw_read_ms: rawMs,
    raw_read_cpu_ms: (rawCpu.user + rawCpu.system) / 1000,
    raw_read_months: peerMonths,
    // Against the recompute of the same months: all of it, or its time at the end of the peer's last month.
    recompute_vs_raw: peerMonths === job.months ? { wall: wall / rawMs, cpu: (cpu.user + cpu.system) / 1000 / ((rawCpu.user + rawCpu.system) / 1000) } : { wall: (months[peerMonths - 1]!.wall_s * 1000) / rawMs, cpu: (months[peerMonths - 1]!.cpu_s * 1000) / ((rawCpu.user + rawCpu.system) / 1000) },
    raw_rows: rawRows,
    pue: { months_checked: checked, max_abs_error: maxErr, ...(job.months === 12 ? { year: { recomputed: year?.value as number | undefined, truth: truthPue(truth, YEAR_START, monthEnd(12)), quality: year?.quality } } : {}) },
  };
}

/** facility_kwh / it_kwh of a PUE value: its ratio before rounding. */
const ratioOf = (v: KpiValue) => (v.inputs?.facility_kwh ?? Number.NaN) / (v.inputs?.it_kwh ?? Number.NaN);

/** The truth goes to the child as a file: the groups' quarter-hour energy as JSON arrays. */
function writeTruth(file: string, t: YearTruth): void {
  writeFileSync(file, JSON.stringify({ start_ms: t.start_ms, quarters: t.quarters, groups: Object.fromEntries(Object.entries(t.groups).map(([g, a]) => [g, Array.from(a)])) }));
}

function readTruth(file: string): YearTruth {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as { start_ms: number; quarters: number; groups: Record<string, number[]> };
  return { start_ms: raw.start_ms, quarters: raw.quarters, groups: Object.fromEntries(Object.entries(raw.groups).map(([g, a]) => [g, Float64Array.from(a)])) as YearTruth['groups'] };
}

function runChild(job: ChildJob): ChildResult {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', import.meta.filename, '--child', JSON.stringify(job)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`recompute of ${job.devices} devices × ${job.months} months failed (status ${r.status})`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ChildResult;
}

async function main(): Promise<void> {
  const months = list('months', [1, 3, 6, 12]);
  const deviceCounts = list('devices', [250, 500, 1010]);
  const deviceMonths = Number(argOf('device-months') ?? 1);
  const monthDevices = Number(argOf('month-devices') ?? 1010);
  const dir = argOf('dir') ?? mkdtempSync(join(tmpdir(), 'dcim-bench-recompute-year-'));
  mkdirSync(dir, { recursive: true });
  const profiles = loadProfiles();
  console.log(`kpi-recompute-year: Gui'an seed, 15-minute polls, SQLite store in ${dir}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} on this machine`);

  const stores = new Map<number, { path: string; truth_file: string; months: number }>();
  const full = Math.max(...months, deviceMonths);
  for (const n of [...new Set([...deviceCounts, monthDevices])].sort((a, b) => b - a)) {
    const m = n === monthDevices ? full : deviceMonths;
    const path = join(dir, `guian-${n}-${m}mo.sqlite`);
    const truth_file = join(dir, `guian-${n}-${m}mo.truth.json`);
    stores.set(n, { path, truth_file, months: m });
    if (process.argv.includes('--reuse') && existsSync(path) && existsSync(truth_file)) {
      console.log(`  store: ${path} kept from an earlier run, ${mib(statSync(path).size)} MiB`);
      continue;
    }
    rmSync(path, { force: true });
    const site = guianSite(n);
    const w = await writeYearStore({ path, site, profiles, start_ms: STORE_START, quarters: quartersTo(m) });
    writeTruth(truth_file, w.truth);
    console.log(`  store: ${site.devices.length} devices × ${m} months: ${(w.samples / 1e6).toFixed(1)} M samples in ${w.series} series, ${mib(statSync(path).size)} MiB, written in ${s1(w.took_ms)} s`);
  }

  if (process.argv.includes('--stores-only')) return;
  const rows: ChildResult[] = [];
  // Device counts first (short), then months growing: a run cut short still printed rows.
  const peer = argOf('peer-months') !== undefined ? { peer_months: Number(argOf('peer-months')) } : {};
  const deviceJobs: ChildJob[] = deviceCounts.map((n) => ({ store: stores.get(n)!.path, truth_file: stores.get(n)!.truth_file, devices: n, months: deviceMonths, ...peer }));
  const monthJobs: ChildJob[] = months.filter((m) => !(m === deviceMonths && deviceCounts.includes(monthDevices))).map((m) => ({ store: stores.get(monthDevices)!.path, truth_file: stores.get(monthDevices)!.truth_file, devices: monthDevices, months: m, ...peer }));
  for (const job of [...deviceJobs, ...monthJobs]) {
    const r = runChild(job);
    rows.push(r);
    console.log(`  done: ${JSON.stringify(r)}`);
  }
  const influxDevices = argOf('influx');
  if (influxDevices !== undefined) {
    const s = stores.get(Number(influxDevices));
    if (!s) throw new Error(`--influx ${influxDevices}: no store of that many devices in this run (--devices)`);
    const job: ChildJob = { store: s.path, truth_file: s.truth_file, devices: Number(influxDevices), months: Number(argOf('influx-months') ?? 1) };
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', import.meta.filename, '--influx-child', JSON.stringify(job)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 2 ** 20 });
    if (r.status !== 0) throw new Error(`recompute against influxd failed (status ${r.status})`);
    const ir = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Awaited<ReturnType<typeof recomputeFromInflux>>;
    if ('skipped' in ir) console.log(`\nInfluxDB: not measured (${ir.skipped})`);
    else {
      console.log(`\nAgainst InfluxDB ${ir.influxd_version} (${ir.devices} devices, ${ir.months} month(s); ${ir.copied_points} rows copied in ${s1(ir.copy_wall_ms)} s):`);
      console.log(`  from influxd: wall ${s1(ir.influx.wall_ms)} s, recompute CPU ${s1(ir.influx.cpu_ms)} s + influxd CPU ${s1(ir.influx.influxd_cpu_ms)} s; from SQLite (peer, same process): wall ${s1(ir.sqlite.wall_ms)} s, CPU ${s1(ir.sqlite.cpu_ms)} s`);
      console.log(`  influx / sqlite: wall ${(ir.influx.wall_ms / ir.sqlite.wall_ms).toFixed(2)}, CPU (both processes) ${((ir.influx.cpu_ms + ir.influx.influxd_cpu_ms) / ir.sqlite.cpu_ms).toFixed(2)}`);
      console.log(`  values: ${ir.influx.recomputed} recomputed, hash ${ir.influx.hash} ${ir.influx.hash === ir.sqlite.hash && ir.influx.recomputed === ir.sqlite.recomputed ? '= the SQLite recompute\'s' : `!= the SQLite recompute's ${ir.sqlite.hash} (${ir.sqlite.recomputed}): NOT THE SAME VALUES`}; month PUE |error| ${errorOf(ir.influx.pue_abs_error)}`);
      console.log(JSON.stringify({ influx: ir }));
    }
  }
  const monthSite = guianSite(monthDevices).devices.length;
  const byMonths = rows.filter((r) => r.devices === monthSite).filter((r) => months.includes(r.months)).sort((a, b) => a.months - b.months);
  const byDevices = rows.filter((r) => r.months === deviceMonths).sort((a, b) => a.devices - b.devices);
  const table = (title: string, rs: ChildResult[]) => {
    console.log(`\n${title}`);
    console.log('devices  months   polls (M)  readings (M)  wall s  cpu s  peak RSS MiB  peak heap MiB  raw read s (cpu)  recompute / raw read (cpu)  µs CPU per reading  PUE max |error| (energy ratio)');
    for (const r of rs) {
      console.log(
        `${String(r.devices).padStart(7)}  ${String(r.months).padStart(6)}  ${(r.polls / 1e6).toFixed(2).padStart(10)}  ${(r.readings / 1e6).toFixed(2).padStart(12)}  ${String(s1(r.wall_ms)).padStart(6)}  ${String(s1(r.cpu_ms)).padStart(5)}  ${String(r.peak_rss_mib).padStart(12)}  ${String(r.peak_heap_mib).padStart(13)}  ${`${s1(r.raw_read_ms)} (${s1(r.raw_read_cpu_ms)})`.padStart(16)}  ${`${r.recompute_vs_raw.wall.toFixed(2)} (${r.recompute_vs_raw.cpu.toFixed(2)})${r.raw_read_months < r.months ? ` ${r.raw_read_months} mo` : ''}`.padStart(26)}  ${((r.cpu_ms * 1000) / r.readings).toFixed(2).padStart(18)}  ${errorOf(r.pue.max_abs_error)} (${r.pue.months_checked} mo)`,
      );
    }
  };
  table(`Growth with months (${monthSite} devices):`, byMonths);
  table(`Growth with devices (${deviceMonths} months):`, byDevices);
  for (const r of rows.filter((x) => x.by_month.length > 1)) {
    console.log(`\nWithin one run (${r.devices} devices, ${r.months} months), at each month's end: the heap after a full collection is what the recompute retains`);
    console.log('month  cpu s  wall s  heap after GC MiB  RSS MiB  peak RSS MiB');
    for (const m of r.by_month) console.log(`${String(m.month).padStart(5)}  ${String(m.cpu_s).padStart(5)}  ${String(m.wall_s).padStart(6)}  ${String(m.heap_after_gc_mib).padStart(17)}  ${String(m.rss_mib).padStart(7)}  ${String(m.peak_rss_mib).padStart(12)}`);
    console.log(`engine held at the end: ${JSON.stringify(r.engine_held)}; replay's values held at most: ${r.held_peak}`);
  }
  const year = rows.find((r) => r.pue.year)?.pue.year;
  if (year) console.log(`\nCalendar year 2025 energy PUE: recomputed ${year.recomputed} (${year.quality}), truth ${year.truth.toFixed(6)}${year.recomputed !== undefined && Math.abs(year.recomputed - year.truth) < 1e-3 ? ' — agrees' : ' — DOES NOT AGREE: the figures above are not worth reading'}`);
  console.log(`load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(JSON.stringify({ rows }, null, 0));
  if (argOf('dir') === undefined && !process.argv.includes('--keep')) rmSync(dir, { recursive: true, force: true });
}

const childArg = argOf('child');
const influxArg = argOf('influx-child');
if (childArg !== undefined) console.log(JSON.stringify(await child(JSON.parse(childArg) as ChildJob)));
else if (influxArg !== undefined) {
  const job = JSON.parse(influxArg) as ChildJob;
  console.log(JSON.stringify(await recomputeFromInflux({ ...job, truth: readTruth(job.truth_file) })));
} else await main();
