/**
 * Collector ingest benchmark (printed figures, not a timed test).
 *
 *   node --expose-gc --import tsx bench/collector-ingest.ts [--devices 10000] [--messages 100000] [--paced-s 30] [--kpi-interval-ms 500]
 *
 * One broker (mosquitto from PATH, else the embedded aedes), one publisher in a child process
 * sending contract telemetry (APC PDU polls, 14 readings each) at QoS 1. Three phases:
 *   A. the broker's own delivery rate to a plain mqtt.js subscriber on the same stream;
 *   B. the collector (validation, dedup, latest values, KPI engine, raw points for the store) on
 *      the same stream: readings per second, per CPU-second, and the ratio to A.
 *      A and B each run twice: live (the publisher runs meanwhile, all three processes share the
 *      cores) and backlog (the broker queued the stream for the consumer's persistent session,
 *      which then drains it: the broker's delivery and the consumer alone, as after a restart);
 *   C. 10,000 devices polled every 10 s (1,000 messages/s, paced): latency from the poll's `ts`
 *      to the collector's ingest and to the first KPI evaluation that includes it, p50/p99;
 *   D. where a drained message's CPU goes: the same polls fed in this process, without a broker, to
 *      UTF-8 + JSON.parse alone, to the telemetry decoder (parse and every check of the envelope and
 *      readings) and to a fresh collector's `ingest`; with A's CPU per message (mqtt.js and the
 *      socket) they bound the backlog ratio a collector doing all its work on one thread can reach.
 * The store is a counting sink: the InfluxDB writers are measured on their own
 * (test/collector/store/fixtures/store-measure.ts), so this isolates the collector's CPU.
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { connect } from 'mqtt';
import { Collector } from '../collector/collector.js';
import { CountingSink } from './support/counting-sink.js';
import { SiteInventorySchema, type SiteInventory } from '../contract/inventory.js';
import { createLogger } from '../shared/log.js';
import { loadProfiles } from '../profiles/catalogue.js';
import { topics } from '../contract/topics.js';
import { decodeTelemetry } from '../collector/ingest/decode-telemetry.js';
import { pduPoll } from './support/telemetry-poll.js';
import { startEmbeddedBroker } from '../cli/embedded-broker.js';
import { startMosquitto } from '../devtools/mosquitto.js';
import { until } from '../devtools/until.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const DEVICES = arg('devices', 10_000);
const MESSAGES = arg('messages', 100_000);
const PACED_S = arg('paced-s', 30);
/** The collector's KPI tick (kpi.interval_s); the poll → KPI latency is at most this plus the ingest delay. */
const KPI_INTERVAL_MS = arg('kpi-interval-ms', 500);
const READINGS_PER_MESSAGE = 14;
const ROOT = join(import.meta.dirname, '..');

function inventory(): SiteInventory {
  const racks = Array.from({ length: DEVICES }, (_, i) => ({ id: `r${i}`, hall: 'h1', rated_kw: 8 }));
  const devices: unknown[] = racks.map((r, i) => ({
    id: `pdu-${i}`,
    profile: 'apc-rpdu2',
    rack: r.id,
    address: { protocol: 'snmp', host: '127.0.0.1', community: `c${i}` },
    interval_s: 10,
    meter: { role: 'it', level: 'pdu_out', rated_kw: 8 },
  }));
  devices.push({ id: 'incomer', profile: 'eastron-sdm630', hall: 'h1', address: { protocol: 'modbus', host: '127.0.0.1' }, interval_s: 10, meter: { role: 'facility_in', rated_kw: 100_000 } });
  return SiteInventorySchema.parse({ site: { id: 'bench', name: 'bench' }, halls: [{ id: 'h1' }], racks, devices });
}


function publish(url: string, messages: number, rate: number): Promise<{ sent: number; seconds: number; rate_per_s: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'support', 'telemetry-publisher.ts'), url, String(DEVICES), String(messages), String(rate)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}')) : reject(new Error(`publisher exited ${code}`))));
  });
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
/** The load average after each measured phase: the figures of a phase run on a busy machine are read with it. */
const loads: string[] = [];
const cpuMs = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
// As deployed for a collector (collector/README.md, "Size the broker's queue"): mosquitto's default queue of 1,000
// QoS 1 messages per session drops everything beyond it while the collector is behind a burst.
const mosq = await startMosquitto({ config: ['max_queued_messages 1000000', 'max_queued_bytes 0'] });
const broker = mosq.ok ? { url: mosq.value.url, stop: () => mosq.value.stop(), name: 'mosquitto' } : { ...(await startEmbeddedBroker()), name: 'aedes (embedded)' };
console.log(`broker: ${broker.name} ${broker.url}; ${DEVICES} devices, ${MESSAGES} messages of ${READINGS_PER_MESSAGE} readings; load average ${load()}`);

/**
 * One consumer's rate on the stream, two ways:
 * - live: the publisher runs while the consumer takes the messages (publisher, broker and
 *   consumer share the machine's cores);
 * - backlog: the messages are queued by the broker for the consumer's persistent session while it
 *   is away, then drained (a collector restart after an outage): the broker's delivery and the
 *   consumer alone.
 */
interface Consumer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  received(): number;
  /** Time and CPU at the first message since the last call to `mark`. */
  mark(): void;
  first(): { at: number; cpu: NodeJS.CpuUsage } | undefined;
}

interface Rate {
  msg_per_s: number;
  readings_per_s: number;
  readings_per_cpu_s: number;
  /** The process's highest RSS while the messages came in (sampled every 50 ms), MiB. */
  peak_rss_mib: number;
}

const MIB = 2 ** 20;
let peakRss = 0;
const rssSampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);

async function measure(c: Consumer, mode: 'live' | 'backlog'): Promise<Rate> {
  if (mode === 'backlog') {
    await c.disconnect();
    await publish(broker.url, MESSAGES, 0);
  }
  const before = c.received();
  c.mark();
  peakRss = process.memoryUsage.rss();
  const pub = mode === 'live' ? publish(broker.url, MESSAGES, 0) : undefined;
  if (mode === 'backlog') await c.connect();
  await until(`${MESSAGES} messages`, () => c.received() - before >= MESSAGES, 300_000);
  const end = Date.now();
  const first = c.first()!;
  const cpu = cpuMs(first.cpu);
  await pub;
  loads.push(load());
  const seconds = (end - first.at) / 1000;
  return { msg_per_s: MESSAGES / seconds, readings_per_s: (MESSAGES * READINGS_PER_MESSAGE) / seconds, readings_per_cpu_s: (MESSAGES * READINGS_PER_MESSAGE) / (cpu / 1000), peak_rss_mib: Math.round(Math.max(peakRss, process.memoryUsage.rss()) / MIB) };
}

/** CPU time of this process per message: the consumer's own cost (mqtt.js included), whatever the broker's pace. */
const usPerMessage = (r: Rate) => ((1e6 * READINGS_PER_MESSAGE) / r.readings_per_cpu_s).toFixed(1);
/**
 * The consumer's CPU over the wall time of its drain: near 100 % it was CPU-bound; well below, it
 * waited (on the broker, or for a core taken by other processes on a busy machine).
 */
const busy = (r: Rate) => `${Math.round((100 * r.readings_per_s) / r.readings_per_cpu_s)} % of a core`;
const fmt = (r: Rate) => `${Math.round(r.readings_per_s)} readings/s (${Math.round(r.msg_per_s)} msg/s), ${Math.round(r.readings_per_cpu_s)} per CPU-second (${usPerMessage(r)} µs CPU per message, ${busy(r)}), peak RSS ${r.peak_rss_mib} MiB`;

// A. the broker to a plain subscriber (persistent session, as the collector's).
let plainGot = 0;
let plainFirst: { at: number; cpu: NodeJS.CpuUsage } | undefined;
let plain: ReturnType<typeof connect> | undefined;
const plainConsumer: Consumer = {
  async connect() {
    plain = connect(broker.url, { clientId: 'bench-plain', clean: false, protocolVersion: 4, reconnectPeriod: 0 });
    plain.on('message', () => {
      plainFirst ??= { at: Date.now(), cpu: process.cpuUsage() };
      plainGot++;
    });
    await new Promise<void>((r) => plain!.once('connect', () => r()));
    await plain.subscribeAsync(topics.filters.telemetry('bench'), { qos: 1 });
  },
  async disconnect() {
    await plain?.endAsync();
  },
  received: () => plainGot,
  mark: () => (plainFirst = undefined),
  first: () => plainFirst,
};
await plainConsumer.connect();
const brokerLive = await measure(plainConsumer, 'live');
const brokerBacklog = await measure(plainConsumer, 'backlog');
await plainConsumer.disconnect();
console.log(`A  broker → plain subscriber, live: ${fmt(brokerLive)}`);
console.log(`A  broker → plain subscriber, backlog: ${fmt(brokerBacklog)}`);

// B. the collector on the same stream, then C. paced latency.
const inv = inventory();
const sink = new CountingSink();
/** Poll stamps (`ts`) ingested since the last KPI evaluation, and each one's ingest delay. */
let measuring = false;
let pendingTs: number[] = [];
const ingestLatency: number[] = [];
const kpiLatency: number[] = [];
const tickMs: number[] = [];
let collectorFirst: { at: number; cpu: NodeJS.CpuUsage } | undefined;
let collector: Collector | undefined;
let received = 0;

/** A collector as the composition root builds it, with a counting sink and probes on ingest and evaluation. */
function newCollector(): Collector {
  const c = new Collector({
    id: 'bench',
    inventories: [inv],
    mqtt: { url: broker.url, clientId: 'bench-collector' },
    sink,
    profiles: loadProfiles(),
    logger: createLogger({ level: 'error' }),
    kpiIntervalMs: KPI_INTERVAL_MS,
    // The evaluation that first includes a reading: every poll ingested before it now counts.
    onKpi: () => {
      const now = Date.now();
      for (const ts of pendingTs) kpiLatency.push(now - ts);
      pendingTs = [];
    },
  });
  const ingest = c.ingest.bind(c);
  c.ingest = (topic: string, payload: Uint8Array) => {
    collectorFirst ??= { at: Date.now(), cpu: process.cpuUsage() };
    ingest(topic, payload);
    received++;
    if (measuring) {
      const ts = Number(/"ts":(\d+)/.exec(Buffer.from(payload.buffer, payload.byteOffset, Math.min(payload.byteLength, 400)).toString())?.[1]);
      if (ts > 0) {
        ingestLatency.push(Date.now() - ts);
        pendingTs.push(ts);
      }
    }
  };
  const evaluate = c.evaluateKpis.bind(c);
  c.evaluateKpis = (at_ms: number) => {
    const t = performance.now();
    evaluate(at_ms);
    tickMs.push(performance.now() - t);
  };
  return c;
}
const collectorConsumer: Consumer = {
  async connect() {
    // A restart is a new process: the stopped instance's engine is gone before the new one is built,
    // so the figures below hold one collector's memory, not two.
    collector = undefined;
    (globalThis as { gc?: () => void }).gc?.();
    collector = newCollector();
    await collector.start();
  },
  async disconnect() {
    await collector?.stop();
  },
  received: () => received,
  mark: () => (collectorFirst = undefined),
  first: () => collectorFirst,
};
await collectorConsumer.connect();
const collectorLive = await measure(collectorConsumer, 'live');
// The restarted collector drains the backlog on a fresh engine, as after a real restart.
const collectorBacklog = await measure(collectorConsumer, 'backlog');
{
  const s = collector!.stats();
  // With --expose-gc the figure is the live collector's, without the first instance's garbage.
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  const mib = (b: number) => Math.round(b / MIB);
  console.log(`B  collector, live: ${fmt(collectorLive)}; ratio to the broker's plain delivery ${(collectorLive.readings_per_s / brokerLive.readings_per_s).toFixed(2)}`);
  console.log(`B  collector, backlog: ${fmt(collectorBacklog)}; ratio to the broker's plain delivery ${(collectorBacklog.readings_per_s / brokerBacklog.readings_per_s).toFixed(2)}`);
  console.log(`   accepted ${s.readings_accepted}, invalid ${s.readings_invalid}, duplicates ${s.duplicates}, points to the sink ${sink.points} with ${DEVICES * (READINGS_PER_MESSAGE - 1) + DEVICES} series`);
  // Array buffers are the KPI engine's energy rings (a quarter-hour ring per rack and meter group,
  // allocated at start); the process's high-water mark holds both collector instances of this run.
  console.log(
    `   memory after a full GC: RSS ${mib(m.rss)} MiB = heap ${mib(m.heapUsed)} MiB used of ${mib(m.heapTotal)} MiB, array buffers ${mib(m.arrayBuffers)} MiB, ` +
      `the rest ${mib(m.rss - m.heapTotal - m.arrayBuffers)} MiB (code, stacks, allocator); process high-water ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`,
  );
}
{
  const rate = DEVICES / 10;
  // Start on an evaluated state: the first evaluation after a start judges the month so far.
  await new Promise((r) => setTimeout(r, 2 * KPI_INTERVAL_MS));
  tickMs.length = 0;
  measuring = true;
  await publish(broker.url, Math.round(rate * PACED_S), rate);
  await new Promise((r) => setTimeout(r, KPI_INTERVAL_MS + 500));
  measuring = false;
  console.log(
    `C  ${DEVICES} devices every 10 s (${rate} msg/s for ${PACED_S} s), KPI every ${KPI_INTERVAL_MS} ms: ` +
      `poll → collector ingest p50 ${pct(ingestLatency, 50)} ms, p99 ${pct(ingestLatency, 99)} ms; ` +
      `poll → KPI evaluation including it p50 ${pct(kpiLatency, 50)} ms, p99 ${pct(kpiLatency, 99)} ms, max ${pct(kpiLatency, 100)} ms (${kpiLatency.length} polls); ` +
      `evaluation ${pct(tickMs, 50).toFixed(1)} ms p50, ${pct(tickMs, 100).toFixed(1)} ms max`,
  );
}
await collector!.stop();
await broker.stop();
clearInterval(rssSampler);
{
  // D. The drained collector is gone first, so the fresh one below starts from the same state as B's restart.
  collector = undefined;
  (globalThis as { gc?: () => void }).gc?.();
  // The same sequence of polls as B's drain (publisher order: device `s % DEVICES`, seq `s`), built a
  // round of devices at a time outside the timing so they never sit in memory all at once.
  const poll = (s: number) => ({ topic: topics.telemetry('bench', 'bench-edge', `pdu-${s % DEVICES}`), payload: Buffer.from(JSON.stringify(pduPoll(s % DEVICES, s))) });
  const round = Math.min(DEVICES, MESSAGES);
  /** CPU of this process per message of `polls`, µs (GC threads included, as in A and B). */
  const cpuOver = (polls: readonly ReturnType<typeof poll>[], f: (p: ReturnType<typeof poll>) => void): number => {
    const since = process.cpuUsage();
    for (const p of polls) f(p);
    return 1000 * cpuMs(since);
  };
  const first = Array.from({ length: round }, (_, s) => poll(s));
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const parseUs = cpuOver(first, (p) => JSON.parse(utf8.decode(p.payload))) / round;
  const decodeUs = cpuOver(first, (p) => void decodeTelemetry(p.topic, p.payload, Date.now())) / round;
  // Not started: no broker and no KPI tick, only the message path B's collector ran per message.
  const fresh = new Collector({ id: 'bench', inventories: [inv], mqtt: { url: broker.url }, sink: new CountingSink(), profiles: loadProfiles(), logger: createLogger({ level: 'error' }) });
  let ingestCpuUs = 0;
  for (let s = 0; s < MESSAGES; s += round) {
    const polls = s === 0 ? first : Array.from({ length: Math.min(round, MESSAGES - s) }, (_, k) => poll(s + k));
    ingestCpuUs += cpuOver(polls, (p) => fresh.ingest(p.topic, p.payload));
  }
  const ingestUs = ingestCpuUs / MESSAGES;
  const t = performance.now();
  fresh.evaluateKpis(Date.now());
  const evalMs = performance.now() - t;
  const accepted = fresh.stats().readings_accepted;
  const plainUs = Number(usPerMessage(brokerBacklog));
  const drainUs = Number(usPerMessage(collectorBacklog));
  const f1 = (x: number) => x.toFixed(1);
  console.log(
    `D  per message in this process (B's ${MESSAGES} polls on a fresh collector, no broker; ${accepted} readings accepted): UTF-8 + JSON.parse ${f1(parseUs)} µs, telemetry decoder (parse + envelope and reading checks) ${f1(decodeUs)} µs, collector ingest ${f1(ingestUs)} µs ` +
      `(of which after decoding ${f1(ingestUs - decodeUs)} µs: inventory, profile and series bounds, dedup, latest values, engine, store points); the first KPI evaluation after it ${evalMs.toFixed(1)} ms. ` +
      `With the plain subscriber's ${f1(plainUs)} µs for mqtt.js and the socket, one thread bounds the backlog ratio at ${(plainUs / (plainUs + ingestUs)).toFixed(2)} ` +
      `(${(plainUs / (plainUs + parseUs)).toFixed(2)} if a message cost only its JSON.parse); B's drain spent ${f1(drainUs)} µs per message, ${f1(drainUs - plainUs - ingestUs)} µs beyond both (KPI ticks, the socket; negative when the machine's load changed between B and D)`,
  );
}
console.log(`load average after A live, A backlog, B live, B backlog: ${loads.join(' | ')}; at the end ${load()}`);
