import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { builtinProfileDir, loadProfiles } from '../profiles/catalogue.js';
import { memoryLogger } from '../shared/log.js';
import { startSimSite } from '../simulators/index.js';
import { BENCH_POINTS, BENCH_PROFILE_ID, benchInventory, benchOid, benchProfileYaml, communityOf } from './support/agent-snmp-site.js';

/**
 * The edge agent at scale against simulated SNMP devices, and prometheus-snmp-exporter (the
 * Debian package) polling the same devices in the same run, measured from outside.
 *
 *   npx tsx bench/agent-snmp.ts [devices=10000] [cycles=3] [interval_s=30] [max_concurrent=64] [--agent-only] [--tsx]
 *
 * Three processes: the simulator (a child: N rack PDUs behind one UDP port, community = device,
 * 20 scalar OIDs each), the poller under test (a child), and this one, which only orchestrates
 * and reads each child's CPU time from /proc/<pid>/stat over whole polling cycles after one
 * warm-up cycle.
 *   A. The agent: the real Agent class (scheduler, readers from the reader factory over one
 *      shared UDP socket, GETs through the lean v1/v2c codec as deployed, telemetry checked
 *      against the contract, disk spool, MQTT QoS 1 to a
 *      local mosquitto), every device every interval, alone in its process
 *      (bench/support/agent-snmp-agent.ts). Its memory is reported over the whole run: RSS
 *      sampled from the fork on (start, first polls, measured cycles, VmHWM) and the V8 heap's
 *      peak and end as the agent samples them itself.
 *   B. snmp_exporter 0.21 with one module per device (its config carries the community per
 *      module), the same 20 OIDs in one GET, retries 1, timeout 2 s; this process scrapes
 *      /snmp?target=…&module=… for every device once per interval with `max_concurrent`
 *      scrapes in flight, as Prometheus would. Its HTTP client runs here, so the exporter's CPU
 *      is its own.
 *   C. A plain net-snmp GET loop (this file's rawLoop): the same GETs with nothing done to the
 *      answers, sweeps back to back; the floor under any poller in Node, printed as agent / raw.
 * The agent runs as compiled JavaScript under plain node, as it is deployed (`dist/`), built for
 * the run into .dcim/bench-agent-snmp/ (tsx's loader thread alone adds ~37 MB of RSS); the
 * simulator runs under tsx. `--tsx` runs the agent under tsx too.
 * DCIM_BENCH_NODE_FLAGS passes V8 flags to the agent process (e.g. `--max-old-space-size=192`).
 * The ratio compares OIDs read per CPU-second of the poller process only. Not a timed test:
 * the figures depend on the machine; it prints what it measured, including a missed goal.
 */

const ARGS = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const DEVICES = Number(ARGS[0] ?? 10_000);
const CYCLES = Number(ARGS[1] ?? 3);
const INTERVAL_S = Number(ARGS[2] ?? 30);
const MAX_CONCURRENT = Number(ARGS[3] ?? 64);
const ROLE = process.argv.find((a) => a.startsWith('--role='))?.slice('--role='.length) ?? 'main';
const OIDS = BENCH_POINTS.length;
const GOAL = { devices: 10_000, oids: 20, interval_s: 30, cpu_cores: 1, rss_mb: 150 };

type Msg = { cmd: string; [k: string]: unknown };

/* ---------------------------------------------------------------- children */

/** Child: serve the site; write the inventory with the bound port for the pollers. */
async function simulator(dir: string): Promise<void> {
  const profiles = loadProfiles([builtinProfileDir(), dir]);
  const inventory = benchInventory(DEVICES, INTERVAL_S);
  const site = await startSimSite({ inventory, profiles, bind: 'ephemeral', logger: memoryLogger('error') });
  writeFileSync(join(dir, 'inventory.json'), JSON.stringify(site.inventory()));
  const port = site.listeners().find((l) => l.protocol === 'snmp')?.port;
  process.send?.({ cmd: 'ready', port });
  process.on('message', (m: Msg) => {
    if (m.cmd === 'stop') void site.stop().then(() => process.exit(0));
  });
}

/** One warm-up sweep, then CYCLES sweeps measured: OIDs per CPU-second of the loop's process. */
async function phaseRaw(dir: string): Promise<{ good: number; bad: number; cpu_s: number; wall_s: number }> {
  // Compiled and under plain node, as the agent runs.
  const args = [`--dir=${dir}`, `--max-concurrent=${MAX_CONCURRENT}`];
  const stdio: ['ignore', 'inherit', 'inherit', 'ipc'] = ['ignore', 'inherit', 'inherit', 'ipc'];
  const child = process.argv.includes('--tsx')
    ? fork(join(dirname(fileURLToPath(import.meta.url)), 'support', 'agent-snmp-raw.ts'), args, { execArgv: process.execArgv, stdio })
    : fork(compileAgent('agent-snmp-raw'), args, { execArgv: [], stdio });
  try {
    await next(child, 'ready');
    const start = (await next(child, 'sweep', { cmd: 'sweep' })).counts as Record<string, number>;
    const cpu0 = cpuSeconds(child.pid as number);
    const t0 = Date.now();
    let end = start;
    for (let c = 0; c < CYCLES; c++) end = (await next(child, 'sweep', { cmd: 'sweep' })).counts as Record<string, number>;
    return { good: (end.good ?? 0) - (start.good ?? 0), bad: (end.bad ?? 0) - (start.bad ?? 0), cpu_s: cpuSeconds(child.pid as number) - cpu0, wall_s: (Date.now() - t0) / 1000 };
  } finally {
    await stopChild(child);
  }
}

/* ---------------------------------------------------------------- measuring */

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU seconds of a process so far. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Resident and peak resident memory in MB. */
function memory(pid: number): { rss_mb: number; peak_mb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { rss_mb: Math.round(kb('VmRSS') / 1024), peak_mb: Math.round(kb('VmHWM') / 1024) };
}

function fdCount(pid: number): number {
  try {
    return execFileSync('ls', [`/proc/${pid}/fd`], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
  } catch {
    return -1;
  }
}

const sleep = (ms: number, signal?: AbortSignal) => delay(ms, undefined, signal ? { signal } : {}).catch(() => undefined);

/** Resolve on the child's next message with this command. */
function next(child: ChildProcess, cmd: string, send?: Msg): Promise<Msg> {
  return new Promise((resolve, reject) => {
    const on = (m: Msg) => {
      if (m.cmd !== cmd) return;
      child.off('message', on);
      child.off('exit', onExit);
      resolve(m);
    };
    const onExit = (code: number | null) => reject(new Error(`child exited (${code}) while waiting for ${cmd}`));
    child.on('message', on);
    child.once('exit', onExit);
    if (send) child.send(send);
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  if (child.connected) child.send({ cmd: 'stop' });
  else child.kill('SIGTERM');
  await Promise.race([exited, sleep(10_000).then(() => child.kill('SIGKILL'))]);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function waitForTcp(port: number, deadlineMs: number): Promise<void> {
  while (Date.now() < deadlineMs) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => (s.end(), r(true)));
      s.once('error', () => r(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

/** Wait until the next multiple of the interval plus `afterMs` (both pollers align to it). */
async function untilBoundary(afterMs: number, signal?: AbortSignal): Promise<number> {
  const period = INTERVAL_S * 1000;
  // Strictly after now: a call made in the very millisecond the previous boundary fired would
  // otherwise get that same boundary back and skip a whole cycle.
  const at = (Math.floor((Date.now() - afterMs) / period) + 1) * period + afterMs;
  await sleep(Math.max(0, at - Date.now()), signal);
  return at;
}

interface Window {
  poller_cpu_s: number;
  sim_cpu_s: number;
  wall_s: number;
  polls: number;
  good: number;
  bad: number;
  sweep_s: number;
  rss_mb: number;
  peak_mb: number;
  fds: number;
}

/* ---------------------------------------------------------------- phases */

interface AgentMemory {
  /** Highest RSS sampled (4 times a second) from the fork to 'ready': config, profiles, readers. */
  start_peak_mb: number;
  /** Highest RSS sampled from 'ready' to the first measured cycle: the first polls, every session opened. */
  warmup_peak_mb: number;
  /** Highest RSS sampled in the measured cycles. */
  steady_peak_mb: number;
  /** The kernel's own peak (VmHWM), the whole run, between samples too. */
  peak_mb: number;
  rss_mb: number;
  /** V8 heap at the end and its highest sample over the whole run (the child samples it itself). */
  heap_end: Record<string, number>;
  heap_peak: Record<string, number>;
}

async function phaseAgent(dir: string, sim: ChildProcess, brokerUrl: string): Promise<Window & { published: number; requests: number; timeouts: number; sockets: number; lean: { requests: number; invalid_answers: number; stray: number }; memory: AgentMemory }> {
  // DCIM_BENCH_CPU_PROF=<dir> writes a V8 CPU profile of the agent process there (where its CPU goes).
  const prof = [...(process.env.DCIM_BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.DCIM_BENCH_CPU_PROF}`] : []), ...(process.env.DCIM_BENCH_GC ? ['--expose-gc'] : []), ...(process.env.DCIM_BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [])];
  const args = [`--dir=${dir}`, `--broker=${brokerUrl}`, `--profiles=${builtinProfileDir()}`, `--max-concurrent=${MAX_CONCURRENT}`];
  // The agent runs alone in its child (bench/support/agent-snmp-agent.ts): what /proc says of it is the agent's own.
  const child = process.argv.includes('--tsx')
    ? fork(join(dirname(fileURLToPath(import.meta.url)), 'support', 'agent-snmp-agent.ts'), args, { execArgv: [...process.execArgv, ...prof], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    : fork(compileAgent(), args, { execArgv: prof, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  // RSS sampled 4 times a second from the fork on: the start (every reader made, every session
  // opened in the first cycle) and the steady cycles are different figures.
  const samples: { t: number; rss: number }[] = [];
  const sampler = setInterval(() => {
    try {
      samples.push({ t: Date.now(), rss: memory(child.pid as number).rss_mb });
    } catch {
      // the child is gone
    }
  }, 250);
  const peakOf = (from: number, to: number) => Math.max(0, ...samples.filter((x) => x.t >= from && x.t < to).map((x) => x.rss));
  try {
    const forked = Date.now();
    await next(child, 'ready');
    const readyAt = Date.now();
    // Warm-up: the first full cycle (sessions, JIT, spool files) is not measured for CPU.
    await untilBoundary(INTERVAL_S * 500);
    await untilBoundary(INTERVAL_S * 500);
    const start = (await next(child, 'counts', { cmd: 'counts' })) as unknown as { counts: Record<string, number>; published: number };
    const t0 = Date.now();
    const cpu0 = cpuSeconds(child.pid as number);
    const sim0 = cpuSeconds(sim.pid as number);
    let sweep = 0;
    for (let c = 0; c < CYCLES; c++) {
      await untilBoundary(INTERVAL_S * 500);
      const m = (await next(child, 'counts', { cmd: 'counts' })) as unknown as { counts: Record<string, number>; heap: Record<string, number>; spaces: Record<string, number> };
      if (process.env.DCIM_BENCH_GC || process.env.DCIM_BENCH_VERBOSE) console.log(`cycle ${c + 1}: V8 ${process.env.DCIM_BENCH_GC ? 'after a full GC ' : ''}${JSON.stringify(m.heap)}, spaces (MB) ${JSON.stringify(m.spaces)}, RSS ${memory(child.pid as number).rss_mb} MB`);
      // The sweep of the cycle that just ended: first poll start to last poll end.
      sweep = Math.max(sweep, ((m.counts.last_end ?? 0) - (m.counts.first_start ?? 0)) / 1000);
    }
    const end = (await next(child, 'counts', { cmd: 'counts' })) as unknown as { counts: Record<string, number>; published: number; socket: { sockets: number; requests: number; invalid_answers: number; stray: number }; heap: Record<string, number>; heap_peak: Record<string, number> };
    const cpu = cpuSeconds(child.pid as number) - cpu0;
    const simCpu = cpuSeconds(sim.pid as number) - sim0;
    const mem = memory(child.pid as number);
    const agentMemory: AgentMemory = {
      start_peak_mb: peakOf(forked, readyAt),
      warmup_peak_mb: peakOf(readyAt, t0),
      steady_peak_mb: peakOf(t0, Infinity),
      peak_mb: mem.peak_mb,
      rss_mb: mem.rss_mb,
      heap_end: end.heap,
      heap_peak: end.heap_peak,
    };
    // DCIM_BENCH_HEAP=<file>: a heap snapshot of the agent after the run (what its memory holds).
    if (process.env.DCIM_BENCH_HEAP || process.env.DCIM_BENCH_ALLOC_PROF) {
      const h = await next(child, 'heap', { cmd: 'heap' });
      if (process.env.DCIM_BENCH_HEAP) execFileSync('cp', [h.file as string, process.env.DCIM_BENCH_HEAP]);
    }
    const d = (k: string) => (end.counts[k] ?? 0) - (start.counts[k] ?? 0);
    return {
      poller_cpu_s: cpu,
      sim_cpu_s: simCpu,
      wall_s: (Date.now() - t0) / 1000,
      polls: d('polls'),
      good: d('good'),
      bad: d('bad'),
      requests: d('requests'),
      timeouts: d('timeouts'),
      sweep_s: sweep,
      published: end.published - start.published,
      sockets: end.socket.sockets,
      lean: { requests: end.socket.requests, invalid_answers: end.socket.invalid_answers, stray: end.socket.stray },
      fds: fdCount(child.pid as number),
      ...mem,
      memory: agentMemory,
    };
  } finally {
    clearInterval(sampler);
    await stopChild(child);
  }
}

function exporterConfig(): string {
  // snmp_exporter 0.21 keeps the community in the module: one module per device, sharing the rest.
  const common = [
    '  version: 2',
    '  max_repetitions: 25',
    '  retries: 1',
    '  timeout: 2s',
    '  get:',
    ...BENCH_POINTS.map((_, i) => `    - ${benchOid(i)}`),
    '  metrics:',
    ...BENCH_POINTS.map(([name], i) => `    - { name: ${name}, oid: ${benchOid(i).replace(/\.0$/, '')}, type: gauge }`),
  ];
  // Written out in full: its YAML parser refuses this many aliases ("excessive aliasing").
  const body = common.join('\n');
  const parts: string[] = [];
  for (let i = 0; i < DEVICES; i++) parts.push(`${communityOf(i)}:\n${body}\n  auth: { community: ${communityOf(i)} }`);
  return `${parts.join('\n')}\n`;
}

async function phaseExporter(dir: string, sim: ChildProcess, simPort: number): Promise<Window & { failed_scrapes: number }> {
  const config = join(dir, 'snmp.yml');
  writeFileSync(config, exporterConfig());
  const port = await freePort();
  const exporter = spawn('prometheus-snmp-exporter', [`--config.file=${config}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const samples = { good: 0, bad: 0, polls: 0, failed: 0, first_start: 0, last_end: 0 };
  let stopping = false;
  const scrapeAll = async () => {
    let next = 0;
    samples.first_start = Date.now();
    const worker = async () => {
      for (let i = next++; i < DEVICES && !stopping; i = next++) {
        try {
          const r = await fetch(`http://127.0.0.1:${port}/snmp?target=127.0.0.1:${simPort}&module=${communityOf(i)}`);
          const text = await r.text();
          samples.polls++;
          if (r.status !== 200) {
            samples.failed++;
            continue;
          }
          let found = 0;
          for (const [name] of BENCH_POINTS) if (text.includes(`\n${name} `) || text.startsWith(`${name} `)) found++;
          samples.good += found;
          samples.bad += OIDS - found;
        } catch {
          samples.failed++;
        }
      }
    };
    await Promise.all(Array.from({ length: MAX_CONCURRENT }, worker));
    samples.last_end = Date.now();
  };
  let sweep = 0;
  const stop = new AbortController();
  // The scraper, like Prometheus: every device once per interval, from each boundary on.
  const loop = (async () => {
    while (!stopping) {
      await untilBoundary(0, stop.signal);
      if (stopping) break;
      await scrapeAll();
      sweep = Math.max(sweep, (samples.last_end - samples.first_start) / 1000);
    }
  })();
  try {
    await waitForTcp(port, Date.now() + 60_000);
    // Warm-up cycle, then whole cycles measured from mid-cycle to mid-cycle as for the agent.
    await untilBoundary(INTERVAL_S * 500);
    await untilBoundary(INTERVAL_S * 500);
    sweep = 0;
    const start = { ...samples };
    const t0 = Date.now();
    const cpu0 = cpuSeconds(exporter.pid as number);
    const sim0 = cpuSeconds(sim.pid as number);
    for (let c = 0; c < CYCLES; c++) await untilBoundary(INTERVAL_S * 500);
    const cpu = cpuSeconds(exporter.pid as number) - cpu0;
    const simCpu = cpuSeconds(sim.pid as number) - sim0;
    const result = {
      poller_cpu_s: cpu,
      sim_cpu_s: simCpu,
      wall_s: (Date.now() - t0) / 1000,
      polls: samples.polls - start.polls,
      good: samples.good - start.good,
      bad: samples.bad - start.bad,
      failed_scrapes: samples.failed - start.failed,
      sweep_s: sweep,
      fds: fdCount(exporter.pid as number),
      ...memory(exporter.pid as number),
    };
    stopping = true;
    stop.abort();
    await loop;
    return result;
  } finally {
    stopping = true;
    stop.abort();
    exporter.kill('SIGTERM');
  }
}

async function startBroker(dir: string): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'set_tcp_nodelay true', 'log_dest stderr', 'log_type error', ...(process.getuid?.() === 0 ? ['user root'] : []), ''].join('\n'));
  const proc = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForTcp(port, Date.now() + 10_000);
  return { url: `mqtt://127.0.0.1:${port}`, proc };
}

/* ---------------------------------------------------------------- report */

function report(a: Awaited<ReturnType<typeof phaseAgent>>, e: Awaited<ReturnType<typeof phaseExporter>> | undefined, exporterError?: string, raw?: Awaited<ReturnType<typeof phaseRaw>>): void {
  const row = (label: string, w: Window) => {
    const oidsPerS = w.good / w.wall_s;
    const perCpuS = w.poller_cpu_s > 0 ? w.good / w.poller_cpu_s : Infinity;
    return {
      label,
      devices_per_s: (w.polls / w.wall_s).toFixed(0),
      oids_per_s: oidsPerS.toFixed(0),
      bad_or_missing: w.bad,
      cpu_cores: (w.poller_cpu_s / w.wall_s).toFixed(3),
      oids_per_cpu_s: perCpuS.toFixed(0),
      one_core_devices_per_s: (perCpuS / OIDS).toFixed(0),
      sweep_s: w.sweep_s.toFixed(1),
      rss_mb: w.rss_mb,
      peak_rss_mb: w.peak_mb,
      fds: w.fds,
      sim_cpu_cores: (w.sim_cpu_s / w.wall_s).toFixed(3),
    };
  };
  const flags = process.env.DCIM_BENCH_NODE_FLAGS ? `; agent node flags: ${process.env.DCIM_BENCH_NODE_FLAGS}` : '';
  console.log(`\n${DEVICES} devices × ${OIDS} OIDs every ${INTERVAL_S} s, ${CYCLES} measured cycles, ${MAX_CONCURRENT} polls in flight; ${process.version}, ${process.arch}${flags}`);
  console.table([row('dcim agent', a), ...(e ? [row('snmp_exporter 0.21', e)] : [])]);
  const m = a.memory;
  console.log(`agent memory over the whole run (${process.env.DCIM_BENCH_NODE_FLAGS ? `node flags: ${process.env.DCIM_BENCH_NODE_FLAGS}` : 'default Node settings'}):`);
  console.table([
    { phase: 'start (fork to ready)', rss_peak_mb: m.start_peak_mb },
    { phase: 'first polls (warm-up cycle)', rss_peak_mb: m.warmup_peak_mb },
    { phase: 'measured cycles', rss_peak_mb: m.steady_peak_mb },
    { phase: 'whole run (VmHWM)', rss_peak_mb: m.peak_mb },
    { phase: 'at the end', rss_peak_mb: m.rss_mb },
  ]);
  console.log(`agent V8 heap: peak used ${m.heap_peak.heap_used_mb} MB, peak total ${m.heap_peak.heap_total_mb} MB (whole run); at the end used ${m.heap_end.heap_used_mb} MB, total ${m.heap_end.heap_total_mb} MB, external ${m.heap_end.external_mb} MB`);
  console.log(`agent: ${a.requests} SNMP requests (${(a.requests / Math.max(1, a.polls)).toFixed(2)} per poll), ${a.timeouts} timeouts, ${a.published} telemetry messages published (QoS 1), ${a.sockets} shared UDP socket(s); over the whole run ${a.lean.requests} GETs on the lean codec, ${a.lean.invalid_answers} answers refused, ${a.lean.stray} stray`);
  if (e) {
    console.log(`snmp_exporter: ${e.failed_scrapes} failed scrapes`);
    const ratio = a.good / a.poller_cpu_s / (e.good / e.poller_cpu_s);
    console.log(`OIDs per CPU-second, agent / snmp_exporter: ${ratio.toFixed(2)}`);
  } else console.log(`snmp_exporter not measured: ${exporterError}`);
  if (raw) {
    const rawPerCpuS = raw.good / raw.cpu_s;
    console.log(`plain net-snmp GET loop (the protocol alone, same devices, sweeps back to back): ${rawPerCpuS.toFixed(0)} OIDs per CPU-second (${raw.good} read, ${raw.bad} bad or missing, ${raw.cpu_s.toFixed(2)} CPU-s in ${raw.wall_s.toFixed(1)} s)`);
    console.log(`OIDs per CPU-second, agent / raw GET loop: ${(a.good / a.poller_cpu_s / rawPerCpuS).toFixed(2)}`);
  }
  const expected = DEVICES * OIDS * CYCLES;
  const cores = a.poller_cpu_s / a.wall_s;
  const verdicts = [
    [`every OID read every cycle (${a.good} of ${expected})`, a.good >= expected * 0.999],
    [`under ${GOAL.cpu_cores} core (${cores.toFixed(3)})`, cores < GOAL.cpu_cores],
    [`under ${GOAL.rss_mb} MB RSS in the measured cycles (highest sampled ${a.memory.steady_peak_mb} MB)`, a.memory.steady_peak_mb < GOAL.rss_mb],
    [`under ${GOAL.rss_mb} MB RSS at any time (VmHWM ${a.memory.peak_mb} MB, start included)`, a.memory.peak_mb < GOAL.rss_mb],
    ...(e ? [[`ahead of snmp_exporter on OIDs per CPU-second`, a.good / a.poller_cpu_s > e.good / e.poller_cpu_s] as const] : []),
  ] as const;
  const scale = DEVICES === GOAL.devices && INTERVAL_S === GOAL.interval_s ? '' : ` (goal is stated for ${GOAL.devices} devices every ${GOAL.interval_s} s; this run used ${DEVICES} every ${INTERVAL_S} s)`;
  console.log(`goal${scale}:`);
  for (const [what, ok] of verdicts) console.log(`  ${ok ? 'met   ' : 'MISSED'} ${what}`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dcim-bench-agent-'));
  writeFileSync(join(dir, `${BENCH_PROFILE_ID}.yaml`), benchProfileYaml());
  const children: ChildProcess[] = [];
  try {
    console.log(`simulator: starting ${DEVICES} SNMP devices …`);
    const sim = fork(fileURLToPath(import.meta.url), [...ARGS, '--role=sim', `--dir=${dir}`], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(sim);
    const ready = await next(sim, 'ready');
    const simPort = ready.port as number;
    console.log(`simulator: ready on udp 127.0.0.1:${simPort}, RSS ${memory(sim.pid as number).rss_mb} MB`);
    const broker = await startBroker(dir);
    children.push(broker.proc);

    console.log(`phase A: the agent (${CYCLES + 1} cycles of ${INTERVAL_S} s, the first not measured) …`);
    const a = await phaseAgent(dir, sim, broker.url);
    let e: Awaited<ReturnType<typeof phaseExporter>> | undefined;
    let exporterError: string | undefined;
    try {
      if (process.argv.includes('--agent-only')) throw new Error('--agent-only');
      execFileSync('prometheus-snmp-exporter', ['--version'], { stdio: 'ignore' });
      console.log(`phase B: prometheus-snmp-exporter (${CYCLES + 1} cycles of ${INTERVAL_S} s) …`);
      e = await phaseExporter(dir, sim, simPort);
    } catch (x) {
      exporterError = (x as Error).message;
    }
    console.log('phase C: a plain net-snmp GET loop over the same devices …');
    const raw = await phaseRaw(dir);
    report(a, e, exporterError, raw);
  } finally {
    for (const c of children.reverse()) {
      if (c.connected) await stopChild(c);
      else c.kill('SIGTERM');
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Build this file and what it imports into .dcim/bench-agent-snmp/ (gitignored); the entry to fork. */
/** Compiles the bench's child programs (the agent, the raw loop) and returns the entry of one of them. */
function compileAgent(child: 'agent-snmp-agent' | 'agent-snmp-raw' = 'agent-snmp-agent'): string {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const out = join(root, '.dcim', 'bench-agent-snmp');
  mkdirSync(out, { recursive: true });
  const config = {
    extends: '../../tsconfig.json',
    compilerOptions: { noEmit: false, outDir: './dist', rootDir: '../..', sourceMap: false, incremental: true, tsBuildInfoFile: './tsbuildinfo' },
    include: ['../../bench/support/agent-snmp-agent.ts', '../../bench/support/agent-snmp-raw.ts'],
  };
  writeFileSync(join(out, 'tsconfig.json'), JSON.stringify(config));
  try {
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(out, 'tsconfig.json')], { stdio: 'pipe' });
  } catch {
    // Type errors elsewhere in the tree do not stop the emit; a missing file would.
  }
  const entry = join(out, 'dist', 'bench', 'support', `${child}.js`);
  if (!existsSync(entry)) throw new Error(`could not build the agent into ${out}`);
  return entry;
}

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? '';
if (ROLE === 'sim') await simulator(arg('dir'));
else await main();
