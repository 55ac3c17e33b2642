/**
 * Collector ingest benchmark (issue 5; printed figures, not a timed test).
 *
 *   npx tsx bench/collector-ingest.ts [--devices 10000] [--messages 100000] [--paced-s 30] [--kpi-interval-ms 500]
 *
 * One broker (mosquitto from PATH, else the embedded aedes), one publisher in a child process
 * sending contract telemetry (APC PDU polls, 14 readings each) at QoS 1. Three phases:
 *   A. the broker's own delivery rate to a plain mqtt.js subscriber on the same stream;
 *   B. the collector (validation, dedup, latest values, KPI engine, raw points encoded for the
 *      store) on the same stream: readings per second, per CPU-second, and the ratio to A;
 *   C. 10,000 devices polled every 10 s (1,000 messages/s, paced): latency from the poll's `ts`
 *      to the collector's ingest and to the first KPI evaluation that includes it, p50/p99.
 * The store is a counting sink: the InfluxDB writers are measured on their own
 * (test/collector/store/fixtures/store-measure.ts), so this isolates the collector's CPU.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { connect } from 'mqtt';
import { Collector } from '../collector/collector.js';
import { emptySinkStats, type MetricSink } from '../collector/store/metric-sink.js';
import type { MetricPoint } from '../collector/store/metric-point.js';
import { SiteInventorySchema, type SiteInventory } from '../contract/inventory.js';
import { createLogger } from '../contract/log.js';
import { loadProfiles } from '../contract/profiles.js';
import { topics } from '../contract/topics.js';
import { startEmbeddedBroker } from '../cli/embedded-broker.js';
import { startMosquitto } from '../test/support/services.js';

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

class CountingSink implements MetricSink {
  points = 0;
  write(points: readonly MetricPoint[]): void {
    this.points += points.length;
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
  stats() {
    return { ...emptySinkStats(), points_accepted: this.points, points_written: this.points };
  }
  health() {
    return { target: 'counting sink', reachable: true, last_success_ms: null, last_error: null, retry_at_ms: null };
  }
}

function publish(url: string, messages: number, rate: number): Promise<{ sent: number; seconds: number; rate_per_s: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'support', 'telemetry-publisher.ts'), url, String(DEVICES), String(messages), String(rate)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}')) : reject(new Error(`publisher exited ${code}`))));
  });
}

const cpuMs = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

// As deployed for a collector (collector/README.md, "Broker"): mosquitto's default queue of 1,000
// QoS 1 messages per session drops everything beyond it while the collector is behind a burst.
const mosq = await startMosquitto({ config: ['max_queued_messages 1000000', 'max_queued_bytes 0'] });
const broker = mosq.ok ? { url: mosq.value.url, stop: () => mosq.value.stop(), name: 'mosquitto' } : { ...(await startEmbeddedBroker()), name: 'aedes (embedded)' };
console.log(`broker: ${broker.name} ${broker.url}; ${DEVICES} devices, ${MESSAGES} messages of ${READINGS_PER_MESSAGE} readings`);

// A. the broker to a plain subscriber.
{
  const sub = connect(broker.url, { clientId: 'bench-plain', clean: true });
  await new Promise<void>((r) => sub.once('connect', () => r()));
  await sub.subscribeAsync(topics.filters.telemetry('bench'), { qos: 1 });
  let got = 0;
  let first = 0;
  let cpu0 = process.cpuUsage();
  sub.on('message', () => {
    if (got === 0) {
      first = Date.now();
      cpu0 = process.cpuUsage();
    }
    got++;
  });
  const pub = publish(broker.url, MESSAGES, 0);
  await until(() => got >= MESSAGES, 300_000);
  const seconds = (Date.now() - first) / 1000;
  const cpu = cpuMs(cpu0);
  await pub;
  await sub.endAsync();
  const rate = (got * READINGS_PER_MESSAGE) / seconds;
  console.log(`A  broker → plain subscriber: ${Math.round(got / seconds)} msg/s = ${Math.round(rate)} readings/s; subscriber CPU ${Math.round(cpu)} ms`);
  (globalThis as { brokerRate?: number }).brokerRate = rate;
}

// B. the collector on the same stream, then C. paced latency.
const inv = inventory();
const sink = new CountingSink();
/** Poll stamps (`ts`) ingested since the last KPI evaluation, and each one's ingest delay. */
let measuring = false;
let pendingTs: number[] = [];
const ingestLatency: number[] = [];
const kpiLatency: number[] = [];
const tickMs: number[] = [];
let firstIngest = 0;
let cpuAtFirst = process.cpuUsage();
const collector = new Collector({
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
const original = collector.ingest.bind(collector);
collector.ingest = (topic: string, payload: Uint8Array) => {
  if (firstIngest === 0) {
    firstIngest = Date.now();
    cpuAtFirst = process.cpuUsage();
  }
  original(topic, payload);
  if (measuring) {
    const ts = Number(/"ts":(\d+)/.exec(Buffer.from(payload.buffer, payload.byteOffset, Math.min(payload.byteLength, 400)).toString())?.[1]);
    if (ts > 0) {
      ingestLatency.push(Date.now() - ts);
      pendingTs.push(ts);
    }
  }
};
const evaluate = collector.evaluateKpis.bind(collector);
collector.evaluateKpis = (at_ms: number) => {
  const t = performance.now();
  evaluate(at_ms);
  tickMs.push(performance.now() - t);
};
await collector.start();
{
  const before = collector.stats().messages_received;
  firstIngest = 0;
  const pub = publish(broker.url, MESSAGES, 0);
  await until(() => collector.stats().messages_received - before >= MESSAGES, 200_000).catch((e: unknown) => {
    console.error(JSON.stringify(collector.stats()).slice(0, 600));
    throw e;
  });
  const seconds = (Date.now() - firstIngest) / 1000;
  const cpu = cpuMs(cpuAtFirst);
  await pub;
  const s = collector.stats();
  const readings = MESSAGES * READINGS_PER_MESSAGE;
  const rate = readings / seconds;
  const brokerRate = (globalThis as { brokerRate?: number }).brokerRate ?? NaN;
  const m = process.memoryUsage();
  console.log(`B  collector: ${Math.round(rate)} readings/s (${Math.round(MESSAGES / seconds)} msg/s), ${Math.round(readings / (cpu / 1000))} readings per CPU-second; ratio to the broker's plain delivery ${(rate / brokerRate).toFixed(2)}`);
  console.log(`   accepted ${s.readings_accepted}, invalid ${s.readings_invalid}, duplicates ${s.duplicates}, points to the sink ${sink.points}; RSS ${Math.round(m.rss / 2 ** 20)} MiB, heap ${Math.round(m.heapUsed / 2 ** 20)} MiB with ${DEVICES * (READINGS_PER_MESSAGE - 1) + DEVICES} series`);
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
await collector.stop();
await broker.stop();
