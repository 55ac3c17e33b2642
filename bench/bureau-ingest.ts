/**
 * Bureau ingest benchmark (printed figures, not a timed test).
 *
 *   node --expose-gc --import tsx bench/bureau-ingest.ts [--sites 500] [--clusters 10]
 *
 * One bureau process taking a day's backlog of site summaries after an outage: every site's 96
 * quarter hours, 24 hours and 1 day of yesterday (500 sites: 60,500 messages, QoS 1), queued by a
 * real mosquitto (from PATH) for the bureau's persistent session while it was away, then drained.
 *   A. the peer: mosquitto delivering the same backlog to a bare mqtt.js subscriber (no parsing);
 *   B. the bureau (checks, revisions, summary points, per-site sources) on the same backlog:
 *      summaries/s, CPU, and the ratio to A; then the roll-up: the first tick after the backlog
 *      (every site and cluster, a day of late windows re-evaluated) and a steady tick (a quarter
 *      hour closed: every site and cluster re-evaluated); RSS and heap.
 * The store is a counting sink: the bureau's own cost, not InfluxDB's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { Bureau } from '../collector/bureau/bureau.js';
import { siteCalendar } from '../shared/time/site-calendar.js';
import { SystemClock } from '../contract/clock.js';
import type { Cluster } from '../contract/inventory.js';
import { createLogger } from '../shared/log.js';
import { METER_GROUPS, type SiteSummary, type SummaryWindow } from '../contract/summary.js';
import { topics } from '../contract/topics.js';
import { CountingSink } from './support/counting-sink.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const SITES = arg('sites', 500);
const CLUSTERS = arg('clusters', 10);
const TZ = 'Asia/Shanghai';
const QUARTER = 900_000;
const cal = siteCalendar(TZ);

/** Yesterday (local) and its windows. */
const today = cal.dayOf(Date.now());
const day = cal.dayOf(today.start - 1);

function summary(site: string, window: SummaryWindow, start: number, end: number): SiteSummary {
  const h = (end - start) / 3_600_000;
  const len = end - start;
  const meters: Record<string, number> = { facility_in: 2, export: 0, green_feed: 1, green_onsite_behind: 1, green_onsite_front: 0, it: 200, cooling: 4, other: 0 };
  const kw: Record<string, number> = { facility_in: 1300, export: 0, green_feed: 300, green_onsite_behind: 50, green_onsite_front: 0, it: 1000, cooling: 250, other: 0 };
  const groups = Object.fromEntries(METER_GROUPS.map((g) => [g, { kwh: kw[g]! * h, covered_ms: meters[g]! * len, resets: 0, spikes: 0, meters: meters[g]!, silent_tail_ms: 0, silent_tail_kwh: 0 }])) as SiteSummary['groups'];
  const generated = end + 60_000;
  return {
    schema: 1,
    site,
    window,
    window_start: start,
    window_end: end,
    ...(window === '1d' ? { period: cal.localDate(start) } : {}),
    timezone: TZ,
    revision: generated,
    generated_ms: generated,
    category: 2,
    targets: { pue: 1.2, rack_occupancy: 0.7, green_share: 0.8 },
    rated_kw_available: 1600,
    groups,
    ...(window === '1d'
      ? {
          occupancy: { racks_available: 200, racks_on: 160, racks_metered: 200, racks_reserved: 10, racks_planned: 20, rated_kw_available: 1600, rated_kw_on: 1280, coverage: 1 },
          declared: { certificates: [{ id: `${site}-gec`, period: cal.localDate(start).slice(0, 7), kwh: 100_000 }], trades: [] },
        }
      : {}),
    ...(window === '15m' ? { compute: { ai_tflops: 8 * 989, accelerators: 8, accelerators_unknown: 0, general_tflops: 10, cpus: 2, cpus_unknown: 0, utilisation_pct: 50, accelerators_reporting: 8, unknown_models: [], at_ms: end } } : {}),
    kpis: [],
  };
}

function backlog(): { topic: string; payload: string }[] {
  const out: { topic: string; payload: string }[] = [];
  for (let i = 0; i < SITES; i++) {
    const site = `site-${i}`;
    for (let e = day.start + QUARTER; e <= day.end; e += QUARTER) {
      out.push({ topic: topics.summary(site, '15m'), payload: JSON.stringify(summary(site, '15m', e - QUARTER, e)) });
      if ((e - day.start) % 3_600_000 === 0) out.push({ topic: topics.summary(site, '1h'), payload: JSON.stringify(summary(site, '1h', e - 3_600_000, e)) });
    }
    out.push({ topic: topics.summary(site, '1d'), payload: JSON.stringify(summary(site, '1d', day.start, day.end)) });
  }
  return out;
}

function clusters(): Cluster[] {
  const out: Cluster[] = [];
  const per = Math.ceil(SITES / CLUSTERS);
  for (let c = 0; c < CLUSTERS; c++) {
    const sites = Array.from({ length: Math.min(per, SITES - c * per) }, (_, j) => `site-${c * per + j}`);
    if (sites.length > 0) out.push({ id: `cluster-${c}`, name: `Cluster ${c}`, targets: { pue: 1.2, rack_occupancy: 0.7, green_share: 0.8 }, sites });
  }
  return out;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForTcp(port: number, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = tcpConnect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`mosquitto did not listen on ${port}`);
}

async function startBroker(dir: string): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  // The bureau broker's queue bounds (collector/deploy/mosquitto-bureau.conf), held in memory here.
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'max_queued_messages 200000', 'max_queued_bytes 1073741824', 'log_dest stderr', 'log_type error', ...(process.getuid?.() === 0 ? ['user root'] : []), ''].join('\n'));
  const proc = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForTcp(port, Date.now() + 10_000);
  return { url: `mqtt://127.0.0.1:${port}`, proc };
}

/** Publish the backlog at QoS 1 with a bounded window of unacknowledged messages. */
async function publishAll(url: string, msgs: readonly { topic: string; payload: string }[]): Promise<void> {
  const pub = await mqtt.connectAsync(url, { clientId: 'bench-sites', protocolVersion: 5 });
  let next = 0;
  const worker = async () => {
    while (next < msgs.length) {
      const m = msgs[next++]!;
      await pub.publishAsync(m.topic, m.payload, { qos: 1 });
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  await pub.endAsync();
}

/** Register a persistent session for `clientId` and leave, so the broker queues what follows. */
async function registerSession(url: string, clientId: string): Promise<void> {
  const c = await mqtt.connectAsync(url, { clientId, clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 } });
  await c.subscribeAsync(topics.filters.summary(), { qos: 1 });
  await c.endAsync();
}

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const mb = (b: number) => Math.round(b / 1024 / 1024);

async function phasePeer(url: string, msgs: readonly { topic: string; payload: string }[]) {
  await registerSession(url, 'bench-peer');
  await publishAll(url, msgs);
  let got = 0;
  const t0 = performance.now();
  const c0 = cpu();
  const c = mqtt.connect(url, { clientId: 'bench-peer', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 } });
  await new Promise<void>((resolve) => {
    c.on('message', () => {
      if (++got === msgs.length) resolve();
    });
  });
  const wall = (performance.now() - t0) / 1000;
  const cpuS = cpu() - c0;
  await c.endAsync();
  return { wall, cpuS };
}

async function phaseBureau(url: string, msgs: readonly { topic: string; payload: string }[]) {
  const logger = createLogger({ level: 'warn' });
  const cs = clusters();
  const make = (sink: CountingSink) => new Bureau({ id: 'bench', clusters: cs, mqtt: { url, clientId: 'bench-bureau' }, sink, clock: new SystemClock(), logger, tickMs: 3_600_000, settleMs: 60_000, silentAfterWindows: 96, maxSkewMs: 300_000 });
  // The session exists before the outage: the bureau was subscribed, then went away.
  const first = make(new CountingSink());
  await first.start();
  await first.stop();
  await publishAll(url, msgs);
  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const sink = new CountingSink();
  const bureau = make(sink);
  const t0 = performance.now();
  const c0 = cpu();
  await bureau.start();
  const connected = (performance.now() - t0) / 1000;
  while (bureau.stats().summaries_received < msgs.length) await new Promise((r) => setTimeout(r, 5));
  const wall = (performance.now() - t0) / 1000;
  const cpuS = cpu() - c0;
  const s = bureau.stats();
  // The first tick after the backlog: every site dirty from yesterday's start (late windows too).
  const now = Date.now();
  let c = cpu();
  bureau.tick(now);
  const firstTick = bureau.stats().last_tick_ms;
  const firstTickCpu = (cpu() - c) * 1000;
  // A steady tick: a quarter hour later every current window moved, every site and cluster re-evaluated.
  c = cpu();
  bureau.tick(now + QUARTER);
  const steadyTick = bureau.stats().last_tick_ms;
  const steadyTickCpu = (cpu() - c) * 1000;
  global.gc?.();
  const m = process.memoryUsage();
  const result = { wall, connected, cpuS, stats: s, firstTick, firstTickCpu, steadyTick, steadyTickCpu, rss: m.rss, heap: m.heapUsed, heapGrowth: m.heapUsed - heap0, points: sink.points, clusters: cs.length, evaluations: bureau.stats() };
  await bureau.stop();
  return result;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dcim-bench-bureau-'));
  const broker = await startBroker(dir);
  try {
    const msgs = backlog();
    const bytes = msgs.reduce((n, m) => n + m.payload.length, 0);
    console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores`);
    console.log(`${SITES} sites × (96 × 15m + 24 × 1h + 1 × 1d) = ${msgs.length} summaries, ${mb(bytes)} MiB, mean ${Math.round(bytes / msgs.length)} B; ${CLUSTERS} clusters; ${process.version}`);
    const peer = await phasePeer(broker.url, msgs);
    const b = await phaseBureau(broker.url, msgs);
    const refused = b.stats.summaries_refused;
    console.table([
      { phase: 'A. mosquitto → bare mqtt.js subscriber', summaries_per_s: Math.round(msgs.length / peer.wall), per_cpu_s: Math.round(msgs.length / peer.cpuS), wall_s: peer.wall.toFixed(2), cpu_s: peer.cpuS.toFixed(2) },
      { phase: 'B. mosquitto → dcim bureau', summaries_per_s: Math.round(msgs.length / b.wall), per_cpu_s: Math.round(msgs.length / b.cpuS), wall_s: b.wall.toFixed(2), cpu_s: b.cpuS.toFixed(2), ratio_to_A: (peer.wall / b.wall).toFixed(2), connect_s: b.connected.toFixed(2), refused },
    ]);
    console.table([
      {
        first_tick_after_backlog_ms: Math.round(b.firstTick),
        first_tick_cpu_ms: Math.round(b.firstTickCpu),
        steady_tick_ms: Math.round(b.steadyTick),
        steady_tick_cpu_ms: Math.round(b.steadyTickCpu),
        sites: SITES,
        clusters: b.clusters,
        points_to_store: b.points,
        rss_mb: mb(b.rss),
        heap_mb: mb(b.heap),
        heap_growth_mb: mb(b.heapGrowth),
        heap_per_site_kb: Math.round(b.heapGrowth / SITES / 1024),
      },
    ]);
    if (refused > 0) console.log('refused by code:', b.stats.refused_by_code);
  } finally {
    broker.proc.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
