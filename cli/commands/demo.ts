import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DcimError, SiteInventorySchema, SystemClock, createLogger, loadProfiles, loadYamlFile, type KpiMessage, type KpiValue } from '../../contract/index.js';
import { Agent } from '../../agent/index.js';
import { Collector, createSink, type StoreConfig } from '../../collector/index.js';
import { startSimSite } from '../../simulators/index.js';
import { DURATION_OPTION, durationMs, numberOption, parseCommandArgs, stringOption, helpText, type CommandSpec, type ParsedValues } from '../args.js';
import { startEmbeddedBroker } from '../embedded-broker.js';
import { runUntilSignal } from '../run-until-signal.js';
import type { Command } from '../dcim.js';

const spec: CommandSpec = {
  name: 'demo',
  summary: 'run a live simulated site end to end (simulator → agent → MQTT → collector → store) and print its live PUE',
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
  const logger = createLogger({ level: (process.env.DCIM_LOG_LEVEL as 'info' | undefined) ?? 'warn' });
  const seedFile = resolve(stringOption(values, 'seed') ?? 'seeds/demo.yaml');
  const seed = loadYamlFile(SiteInventorySchema, seedFile);
  const profiles = loadProfiles();
  const scratch = mkdtempSync(join(tmpdir(), 'dcim-demo-'));
  const store = storeFrom(values, scratch);

  // Everything binds to loopback on free ports, so the demo never collides with a real service.
  const sim = await startSimSite({ inventory: seed, profiles, bind: 'ephemeral', logger: logger.child({ part: 'sim' }) });
  const inventory = { ...sim.inventory(), devices: sim.inventory().devices.map((d) => ({ ...d, interval_s: intervalS })) };
  const externalBroker = stringOption(values, 'broker');
  const broker = externalBroker === undefined ? await startEmbeddedBroker() : undefined;
  const mqttUrl = externalBroker ?? broker!.url;
  const sink = createSink(store, { clock: new SystemClock(), logger });
  let latest: KpiMessage | undefined;
  const httpPort = numberOption(values, 'http-port', 0, 65535) ?? 8080;
  // A fresh token per run: the API is never open, even on loopback.
  const token = randomBytes(24).toString('hex');
  const collector = new Collector({
    id: 'demo',
    inventories: [inventory],
    mqtt: { url: mqttUrl },
    sink,
    profiles,
    logger: logger.child({ part: 'collector' }),
    kpiIntervalMs: 1000,
    http: { host: '127.0.0.1', port: httpPort, token },
    onKpi: (m) => (latest = m),
  });
  const agent = new Agent({ id: 'demo-edge', inventory, profiles, mqtt: { url: mqttUrl }, stateDir: stringOption(values, 'state-dir') ?? join(scratch, 'agent'), logger: logger.child({ part: 'agent' }) });
  await collector.start();
  await agent.start();

  console.log(`dcim demo: site ${inventory.site.id} (${inventory.site.name}), ${inventory.devices.length} simulated devices`);
  for (const e of sim.endpoints()) console.log(`  ${e.device.padEnd(20)} ${e.protocol.padEnd(6)} ${e.host}:${e.port}${e.community ? ` community ${e.community}` : ''}${e.unit_id !== undefined ? ` unit ${e.unit_id}` : ''}`);
  console.log(`  broker ${mqttUrl}${broker ? ' (embedded)' : ''}; store ${store.kind}${store.kind === 'sqlite' ? ` ${store.path}` : ` ${store.url}`}`);
  console.log(`  live page ${collector.httpUrl}/#token=${token}`);
  console.log(`  HTTP API  ${collector.httpUrl}/api/sites (Authorization: Bearer ${token})`);
  console.log('Ctrl-C to stop.');
  const printer = setInterval(() => {
    const k = latest?.kpis.find((x) => x.kpi === 'pue_live');
    const truth = sim.truth();
    console.log(`${new Date().toISOString()}  ${fmt(k)}  (simulator truth ${truth.pue.toFixed(3)})`);
  }, printEveryS * 1000);

  await runUntilSignal(async () => {
    clearInterval(printer);
    await agent.stop();
    await collector.stop();
    await sink.close();
    await sim.stop();
    await broker?.stop();
    const s = collector.stats();
    console.log(`dcim demo: stopped; ${s.messages_received} messages, ${s.readings_accepted} readings, ${s.points_written} points written`);
  }, durationMs(values));
  return 0;
}

export const command: Command = { spec, run };
