import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../cli/embedded-broker.js';
import { Collector } from '../../collector/collector.js';
import { SqliteSink } from '../../collector/store/sqlite-sink.js';
import { SiteInventorySchema, type SiteInventory } from '../../contract/index.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { loadYamlFile } from '../../shared/config/load.js';
import { memoryLogger } from '../../shared/log.js';
import { startSimSite, type SimSite } from '../../simulators/index.js';
import { parseExposition, type ParsedFamily } from './metrics/parse-exposition.js';
import { REPO_ROOT } from '../support/repo-path.js';

/**
 * A real agent run: the minimal seed served by the simulator on free loopback ports, the agent
 * polling it every second and publishing to an embedded aedes broker, a collector storing what
 * arrives in SQLite. The /metrics endpoint is scraped over HTTP and read with the strict parser;
 * the health map must reach the collector's agent_health measurement.
 */
const ROOT = REPO_ROOT;
const profiles = loadProfiles();

let sim: SimSite;
let broker: EmbeddedBroker;
let agent: Agent;
let collector: Collector;
let sink: SqliteSink;
let stateDir: string;

beforeAll(async () => {
  const seed = loadYamlFile(SiteInventorySchema, join(ROOT, 'seeds', 'minimal.yaml'));
  sim = await startSimSite({ inventory: seed, bind: 'ephemeral', logger: memoryLogger('error') });
  const served: SiteInventory = { ...sim.inventory(), devices: sim.inventory().devices.map((d) => ({ ...d, interval_s: 1 })) };
  broker = await startEmbeddedBroker();
  sink = new SqliteSink({ path: ':memory:', logger: memoryLogger('error') });
  collector = new Collector({ id: 'test', inventories: [served], profiles, mqtt: { url: broker.url }, sink, logger: memoryLogger('error') });
  await collector.start();
  stateDir = mkdtempSync(join(tmpdir(), 'dcim-agent-metrics-'));
  agent = new Agent({
    id: 'edge-1',
    inventory: served,
    profiles,
    mqtt: { url: broker.url },
    stateDir,
    logger: memoryLogger('error'),
    snmp: { timeoutMs: 300, retries: 0 },
    modbus: { timeoutMs: 300, retries: 0 },
    reconnectPeriodMs: 100,
    metrics: { host: '127.0.0.1', port: 0 },
    health: { intervalMs: 300 },
  });
  await agent.start();
}, 20_000);

afterAll(async () => {
  await agent?.stop();
  await collector?.stop();
  await sink?.close();
  await broker?.stop();
  await sim?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

async function scrape(): Promise<Map<string, ParsedFamily>> {
  const url = agent.metricsUrl();
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  const res = await fetch(url as string);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(await res.text());
}

const v = (m: Map<string, ParsedFamily>, name: string, labels: Record<string, string> = {}) =>
  m.get(name)?.samples.find((s) => Object.entries(labels).every(([k, x]) => s.labels[k] === x))?.value;

async function until<T>(what: string, get: () => Promise<T | undefined> | T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const x = await get();
    if (x !== undefined) return x;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const healthField = (field: string) => {
  const s = sink.series({ measurement: 'agent_health', field, tags: { agent: 'edge-1' }, since_ms: 0 });
  return s.at(-1)?.value;
};

describe('self-metrics of a running agent', () => {
  it('serves /metrics that a strict parser accepts, with each device up and its counters moving', async () => {
    const m = await until('both devices up', async () => {
      const x = await scrape();
      return v(x, 'dcim_agent_devices_by_state', { state: 'up' }) === 2 ? x : undefined;
    });
    const pdu = { site: 'demo', device: 'pdu-r01-a', profile: 'apc-rpdu2' };
    const meter = { site: 'demo', device: 'meter-incomer-1', profile: 'eastron-sdm630' };
    expect(v(m, 'dcim_agent_info', { site: 'demo', agent: 'edge-1' })).toBe(1);
    expect(v(m, 'dcim_agent_devices')).toBe(2);
    expect(v(m, 'dcim_agent_device_state', { ...pdu, state: 'up' })).toBe(1);
    expect(v(m, 'dcim_agent_device_state', { ...meter, state: 'down' })).toBe(0);
    for (const d of [pdu, meter]) {
      expect(v(m, 'dcim_agent_device_polls_total', d)).toBeGreaterThanOrEqual(1);
      expect(v(m, 'dcim_agent_device_requests_total', d)).toBeGreaterThanOrEqual(1);
      expect(v(m, 'dcim_agent_device_poll_duration_seconds', d)).toBeLessThan(1);
      expect(Math.abs((v(m, 'dcim_agent_device_last_success_timestamp_seconds', d) as number) - Date.now() / 1000)).toBeLessThan(5);
    }
    await until('the broker connection', async () => (v(await scrape(), 'dcim_agent_mqtt_connected') === 1 ? true : undefined));
    await until('telemetry acknowledged', async () => ((v(await scrape(), 'dcim_agent_telemetry_published_total') ?? 0) >= 2 ? true : undefined));
  });

  it('publishes the health map, which the collector stores as agent_health fields', async () => {
    await until('health in agent_health', async () => {
      await sink.flush();
      return healthField('devices_up_count') === 2 ? true : undefined;
    });
    expect(healthField('devices_count')).toBe(2);
    expect(healthField('mqtt_connected')).toBe(1);
    expect(healthField('polls_total_count')).toBeGreaterThanOrEqual(2);
    expect(healthField('uptime_s')).toBeGreaterThan(0);
    expect([true, 1]).toContain(healthField('online')); // SQLite stores booleans as 1/0
    expect(collector.agentStates('demo').get('edge-1')?.health?.devices_count).toBe(2);
  });

  it('an address already in use fails start() with the address named, and leaves nothing held', async () => {
    const port = Number(new URL(agent.metricsUrl() as string).port);
    const dir = mkdtempSync(join(tmpdir(), 'dcim-agent-metrics-busy-'));
    const opts = { id: 'edge-1', inventory: sim.inventory(), profiles, mqtt: { url: broker.url }, stateDir: dir, logger: memoryLogger('error') };
    try {
      const busy = new Agent({ ...opts, metrics: { host: '127.0.0.1', port } });
      await expect(busy.start()).rejects.toMatchObject({ code: 'DCIM_E_NET_PORT_IN_USE', message: expect.stringMatching(new RegExp(`cannot serve metrics on 127\\.0\\.0\\.1:${port}: another process already uses it`)) });
      expect(busy.metricsUrl()).toBeUndefined();
      // The spool lock was released: another agent can use the same state directory at once.
      const next = new Agent(opts);
      await next.start();
      await next.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a device that stops answering shows as down, with timeouts and failures, on both', async () => {
    expect(sim.putFault('meter-incomer-1', { kind: 'offline' }).ok).toBe(true);
    const meter = { device: 'meter-incomer-1' };
    const m = await until('the meter down', async () => {
      const x = await scrape();
      return v(x, 'dcim_agent_device_state', { ...meter, state: 'down' }) === 1 ? x : undefined;
    });
    expect(v(m, 'dcim_agent_device_state', { ...meter, state: 'up' })).toBe(0);
    expect(v(m, 'dcim_agent_device_timeouts_total', meter)).toBeGreaterThanOrEqual(1);
    expect(v(m, 'dcim_agent_device_poll_failures_total', meter)).toBeGreaterThanOrEqual(1);
    expect(v(m, 'dcim_agent_device_consecutive_failures', meter)).toBeGreaterThanOrEqual(1);
    expect(v(m, 'dcim_agent_device_last_success_timestamp_seconds', meter)).toBeLessThan(v(m, 'dcim_agent_device_last_poll_timestamp_seconds', meter) as number);
    expect(v(m, 'dcim_agent_devices_by_state', { state: 'down' })).toBe(1);
    await until('health shows the meter down', async () => {
      await sink.flush();
      return healthField('devices_down_count') === 1 ? true : undefined;
    });
    expect(healthField('poll_timeouts_count')).toBeGreaterThanOrEqual(1);
    sim.removeFaults('meter-incomer-1');
  });
});
