import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DcimError, SiteInventorySchema, SystemClock, siteAgents, type KpiMessage, type KpiValue } from '../../contract/index.js';
import { createLogger } from '../../shared/log.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { loadYamlFile } from '../../shared/config/load.js';
import { Agent } from '../../agent/index.js';
import { Collector, createSink, type CollectorStats, type MetricSink, type SinkHealth, type StoreConfig } from '../../collector/index.js';
import { startSimSite } from '../../simulators/index.js';
import { clustersOfSites } from '../../collector/config.js';
import { DURATION_OPTION, durationMs, numberOption, parseCommandArgs, stringOption, helpText, type CommandSpec, type ParsedValues } from '../args.js';
import { startEmbeddedBroker } from '../embedded-broker.js';
import { probeService } from '../probe.js';
import { runUntilSignal, watchStop } from '../run-until-signal.js';
import { DemoTruthCheck } from '../demo-truth-check.js';
import { DEFAULT_ENGINE_CONFIG } from '../../collector/kpi-engine.js';
import type { Command } from '../dcim.js';

const spec: CommandSpec = {
  name: 'demo',
  summary: 'run a live simulated site end to end (simulator → agent → MQTT → collector → store); print its live PUE, and each closed window\'s energy PUE next to the simulator\'s truth',
  usage: 'dcim demo [--seed seeds/demo.yaml] [--broker mqtt://…] [--influx http://… --influx-db …] [--duration-s N]',
  optionsFile: true,
  options: {
    seed: { type: 'string', placeholder: 'file', description: 'site inventory to simulate', default: 'seeds/demo.yaml' },
    broker: { type: 'string', placeholder: 'url', description: 'use this MQTT broker instead of the embedded one (aedes on loopback)' },
    influx: { type: 'string', placeholder: 'url', description: 'write to this InfluxDB instead of the embedded SQLite store' },
    'influx-db': { type: 'string', placeholder: 'name', description: 'InfluxDB 1.x database (selects the v1 /write API)' },
    'influx-org': { type: 'string', placeholder: 'org', description: 'InfluxDB 2.x/3.x organisation (selects the v2 write API)' },
    'influx-bucket': { type: 'string', placeholder: 'bucket', description: 'InfluxDB 2.x/3.x bucket' },
    'influx-token-env': { type: 'string', placeholder: 'VAR', description: 'environment variable holding the InfluxDB 2.x token', default: 'DCIM_INFLUX_TOKEN' },
    store: { type: 'string', placeholder: 'file', description: 'SQLite file of the embedded store (default: a new temporary file)' },
    'state-dir': { type: 'string', placeholder: 'dir', description: "agent state folder (seq counter; default: a new temporary folder)" },
    'http-port': { type: 'string', placeholder: 'P', description: 'port of the live page and HTTP API on 127.0.0.1 (0 = any free port)', default: '8080' },
    'interval-s': { type: 'string', placeholder: 's', description: 'poll interval for every device, overriding the seed', default: '2' },
    'print-every-s': { type: 'string', placeholder: 's', description: 'how often to print the live PUE', default: '5' },
    'duration-s': { ...DURATION_OPTION, description: 'stop by itself after this many seconds (default: run until Ctrl-C)' },
  },
};

function storeFrom(values: ParsedValues, scratch: string): StoreConfig {
  const influx = stringOption(values, 'influx');
  if (influx === undefined) return { kind: 'sqlite', path: stringOption(values, 'store') ?? join(scratch, 'demo.sqlite'), retention_days: 7 };
  const db = stringOption(values, 'influx-db');
  const org = stringOption(values, 'influx-org');
  const bucket = stringOption(values, 'influx-bucket');
  if (db !== undefined) return { kind: 'influx_v1', url: influx, database: db, batch_lines: 5000 };
  if (org !== undefined && bucket !== undefined) {
    return { kind: 'influx_v2', url: influx, org, bucket, token: { env: stringOption(values, 'influx-token-env') ?? 'DCIM_INFLUX_TOKEN' }, batch_lines: 5000 };
  }
  throw new DcimError('DCIM_E_CONFIG_INVALID', '--influx needs --influx-db (InfluxDB 1.x) or --influx-org and --influx-bucket (2.x/3.x)');
}

function fmt(k: KpiValue | undefined): string {
  if (!k) return 'no live PUE yet';
  const inputs = k.inputs ?? {};
  const power = (w: number | undefined) => (w === undefined ? '?' : `${(w / 1000).toFixed(2)} kW`);
  const head = k.ok && k.value !== undefined ? `PUE ${k.value.toFixed(3)} (instantaneous${k.category ? `, category ${k.category}` : ''})` : `PUE unknown (${k.reason ?? 'no data'})`;
  return `${head}  facility ${power(inputs.facility_power_w)}  IT ${power(inputs.it_power_w)}  quality ${k.quality}  target ${k.target ?? '-'} ${k.status}`;
}

async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(spec, argv);
  if (parsed.help) {
    console.log(helpText(spec));
    return 0;
  }
  const { values } = parsed;
  const intervalS = numberOption(values, 'interval-s', 1, 3600) ?? 2;
  const printEveryS = numberOption(values, 'print-every-s', 1, 3600) ?? 5;
  const httpPort = numberOption(values, 'http-port', 0, 65535) ?? 8080;
  const logger = createLogger({ level: (process.env.DCIM_LOG_LEVEL as 'info' | undefined) ?? 'warn' });
  const seedFile = resolve(stringOption(values, 'seed') ?? 'seeds/demo.yaml');
  const seed = loadYamlFile(SiteInventorySchema, seedFile);
  const profiles = loadProfiles();
  const externalBroker = stringOption(values, 'broker');
  // A missing broker or store is said now, in one line, rather than retried in the background.
  if (externalBroker !== undefined) await probeService('--broker', externalBroker);
  const influx = stringOption(values, 'influx');
  if (influx !== undefined) await probeInflux(influx);

  // Everything started is stopped in reverse order, whether the demo ends, is interrupted (also
  // while it still starts) or fails half-way (a port in use must not leave simulators running
  // and the process hanging).
  const watch = watchStop();
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((e: unknown) => logger.warn('stop failed', { error: e as Error }));
    stops.length = 0;
  };
  const scratch = mkdtempSync(join(tmpdir(), 'dcim-demo-'));
  // The scratch folder (SQLite store, agent state) grows by megabytes a minute: removed on every
  // way out, a second Ctrl-C (process.exit) included. Removed again at exit: a part that writes its
  // state once more while stopping (the agent's state folder) would create it anew.
  const removeScratch = () => rmSync(scratch, { recursive: true, force: true });
  process.once('exit', removeScratch);
  stops.push(async () => removeScratch());
  let sink: MetricSink | undefined;
  let collector: Collector | undefined;
  let sim: Awaited<ReturnType<typeof startSimSite>> | undefined;
  let mqttUrl = externalBroker ?? '';
  let brokerNote = '';
  let store: StoreConfig;
  let latest: KpiMessage | undefined;
  // Each closed window's energy KPIs against the simulator's truth for the same window (the demo's proof).
  const energyCheck = new DemoTruthCheck({ timezone: seed.site.timezone, tolerance: 0.005, settle_ms: DEFAULT_ENGINE_CONFIG.settle_ms, started_ms: Date.now() });
  // A fresh token per run: the API is never open, even on loopback.
  const token = randomBytes(24).toString('hex');
  try {
    store = storeFrom(values, scratch);
    // Everything binds to loopback on free ports, so the demo never collides with a real service.
    sim = await startSimSite({ inventory: seed, profiles, bind: 'ephemeral', logger: logger.child({ part: 'sim' }) });
    const started = sim;
    stops.push(() => started.stop());
    const inventory = { ...sim.inventory(), devices: sim.inventory().devices.map((d) => ({ ...d, interval_s: intervalS })) };
    if (externalBroker === undefined) {
      const broker = await startEmbeddedBroker();
      stops.push(() => broker.stop());
      mqttUrl = broker.url;
      brokerNote = ' (embedded)';
    }
    sink = createSink(store, { clock: new SystemClock(), logger });
    const openSink = sink;
    stops.push(() => openSink.close());
    collector = new Collector({
      id: 'demo',
      inventories: [inventory],
      clusters: clustersOfSites([inventory]).clusters,
      mqtt: { url: mqttUrl },
      sink,
      profiles,
      logger: logger.child({ part: 'collector' }),
      kpiIntervalMs: 1000,
      http: { host: '127.0.0.1', port: httpPort, token },
      onKpi: (m) => {
        if (m.site !== seed.site.id) return;
        latest = m;
        const truthOf = sim;
        if (truthOf) for (const line of energyCheck.observe(m, () => truthOf.truth(undefined, { devices: false }))) console.log(`${new Date().toISOString()}  ${line}`);
      },
    });
    await collector.start();
    const runningCollector = collector;
    stops.push(() => runningCollector.stop());
    // One agent per owner the seed names (an open seed: one agent for every device).
    const owners = [...siteAgents(inventory).keys()];
    for (const id of owners.length > 0 ? owners : ['demo-edge']) {
      const agent = new Agent({ id, inventory, profiles, mqtt: { url: mqttUrl }, stateDir: join(stringOption(values, 'state-dir') ?? join(scratch, 'agent'), owners.length > 1 ? id : ''), logger: logger.child({ part: 'agent', agent: id }) });
      await agent.start();
      stops.push(() => agent.stop());
    }

    console.log(`dcim demo: site ${inventory.site.id} (${inventory.site.name}), ${inventory.devices.length} simulated devices`);
    for (const e of sim.endpoints()) console.log(`  ${e.device.padEnd(20)} ${e.protocol.padEnd(6)} ${e.host}:${e.port}${e.community ? ` community ${e.community}` : ''}${e.unit_id !== undefined ? ` unit ${e.unit_id}` : ''}`);
    console.log(`  broker ${mqttUrl}${brokerNote}; store ${store.kind}${store.kind === 'sqlite' ? ` ${store.path}` : ` ${store.url}`}`);
    console.log(`  scratch folder ${scratch} (removed when the demo stops)`);
    console.log(`  live page ${collector.httpUrl}/#token=${token}`);
    console.log(`  HTTP API  ${collector.httpUrl}/api/sites (Authorization: Bearer ${token})`);
    console.log('Ctrl-C to stop.');
    for (const line of energyCheck.firstDue()) console.log(line);
  } catch (e) {
    await stopAll();
    watch.dispose();
    throw e;
  }
  const running = { sim, collector, sink };
  // --duration-s counts from here: what it promises is that long a run, however slow the start.
  const duration = durationMs(values);
  if (duration !== undefined) watch.stopAfter(duration);
  let lastStore = 'ok';
  const printer = setInterval(() => {
    const k = latest?.kpis.find((x) => x.kpi === 'pue_live');
    const truth = running.sim.truth();
    console.log(`${new Date().toISOString()}  ${fmt(k)}  (simulator truth ${truth.pue.toFixed(3)})`);
    const h = running.sink.health();
    // Said when the state or its reason changes, not every few seconds.
    const now = h.state === 'ok' ? 'ok' : `${h.state}: ${h.reason ?? ''}`;
    if (now !== lastStore) console.log(h.state === 'ok' ? `  store ${h.target}: ok again` : `  store ${h.target}: ${now} (points are kept in memory meanwhile)`);
    lastStore = now;
  }, printEveryS * 1000);

  await runUntilSignal(async () => {
    clearInterval(printer);
    await stopAll();
    console.log(`dcim demo: stopped; ${summary(running.collector.stats(), running.sink.health())}`);
    const e = energyCheck.summary();
    console.log(`  energy KPIs against the truth: ${e.matched} windows matched within 0.5 %, ${e.off} off or not graded measured, ${e.not_compared} not compared (partial windows)`);
  }, undefined, watch);
  return 0;
}

const n = (x: number) => x.toLocaleString('en-US');

/** "N written" only for what the store took; everything else named with its reason. */
export function summary(s: CollectorStats, h: SinkHealth): string {
  const k = s.sink;
  const parts = [`${n(k.points_written)} points written to ${h.target}`];
  if (k.points_rejected > 0) parts.push(`${n(k.points_rejected)} refused by the store (quarantined)`);
  if (k.points_lost > 0) parts.push(`${n(k.points_lost)} lost (not stored before the end)`);
  if (k.pending > 0) parts.push(`${n(k.pending)} still pending${k.spool ? ' in the spool for the next start' : ''}`);
  if (k.points_invalid > 0) parts.push(`${n(k.points_invalid)} invalid`);
  const why = h.state === 'ok' ? '' : `; store ${h.state}: ${h.reason ?? 'unknown reason'}`;
  return `${n(s.messages_received)} messages, ${n(s.readings_accepted)} readings; ${parts.join(', ')}${why}`;
}

/** An unknown InfluxDB host is a typo: stop. One that refuses is an outage the demo rides out (and shows). */
async function probeInflux(url: string): Promise<void> {
  try {
    await probeService('--influx', url);
  } catch (e) {
    if (e instanceof DcimError && e.code === 'DCIM_E_NET_REFUSED') {
      console.error(`${e.code}: ${e.message}; the demo runs on, keeping points in memory until it answers`);
      return;
    }
    throw e;
  }
}

export const command: Command = { spec, run };
