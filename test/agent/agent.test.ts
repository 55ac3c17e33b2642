import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DcimError, SiteInventorySchema, topics, type SiteInventory } from '../../contract/index.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { memoryLogger } from '../../shared/log.js';
import { Agent } from '../../agent/index.js';
import { startBroker, subscriber, type TestBroker } from './support/broker.js';
import { freeTcpPort, startPymodbus, startSnmpsim, useService } from './support/services.js';
import { offsetFromSlot } from '../support/slot-offset.js';
import { until } from '../support/until.js';

/**
 * The smallest site end to end on loopback: snmpsimd (APC rPDU2 recording) and pymodbus
 * (SDM630 layout) → Agent → aedes → a plain MQTT subscriber.
 */
const profiles = loadProfiles();
const apcRecording = readFileSync(join(import.meta.dirname, 'fixtures', 'snmprec', 'apc-rpdu2.snmprec'), 'utf8');

function inventory(devices: unknown[]): SiteInventory {
  return SiteInventorySchema.parse({
    site: { id: 'demo', name: 'Demo' },
    halls: [{ id: 'h1' }],
    racks: [{ id: 'r01', hall: 'h1', rated_kw: 12 }],
    devices,
  });
}

let broker: TestBroker;
let stateDir: string;
const agents: Agent[] = [];
beforeEach(async () => {
  broker = await startBroker();
  stateDir = mkdtempSync(join(tmpdir(), 'dcim-agent-state-'));
});
afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop();
  await broker.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

function agent(inv: SiteInventory, over: Partial<ConstructorParameters<typeof Agent>[0]> = {}) {
  const a = new Agent({ id: 'edge1', inventory: inv, profiles, mqtt: { url: broker.url }, stateDir, logger: memoryLogger('warn'), snmp: { timeoutMs: 300, retries: 0 }, modbus: { timeoutMs: 300, retries: 0 }, reconnectPeriodMs: 100, ...over });
  agents.push(a);
  return a;
}

describe('Agent with real devices', () => {
  const snmp = useService('snmpsimd', () => startSnmpsim({ 'apc-rpdu2': apcRecording }));
  const modbus = useService('pymodbus', () => startPymodbus());

  // Real peers answer in milliseconds, but on a loaded machine snmpsimd and pymodbus (Python)
  // may take longer than the 300 ms the failing-device tests use: wait for their answers.
  const patient = { snmp: { timeoutMs: 3000, retries: 0 }, modbus: { timeoutMs: 3000, retries: 0 } };
  const devices = () => [
    { id: 'pdu-r01-a', profile: 'apc-rpdu2', rack: 'r01', interval_s: 1, address: { protocol: 'snmp', host: '127.0.0.1', port: snmp().port, community: 'apc-rpdu2' } },
    { id: 'meter-incomer-1', profile: 'eastron-sdm630', hall: 'h1', interval_s: 1, address: { protocol: 'modbus', host: '127.0.0.1', port: modbus().tcpPort, unit_id: 1 } },
  ];

  it('polls both devices, publishes telemetry (QoS 1, aligned ts, rising seq), retained statuses and its state', async () => {
    const sub = await subscriber(broker.url, 'dcim/v1/demo/#');
    const a = agent(inventory(devices()), patient);
    await a.start();
    // Polls taken before the broker connection was up are spooled and delivered too, so the first
    // message of each device may come from different cycles: pair them by second.
    const pduTopic = topics.telemetry('demo', 'edge1', 'pdu-r01-a');
    const meterTopic = topics.telemetry('demo', 'edge1', 'meter-incomer-1');
    const second = (m: { payload: Record<string, unknown> }) => Math.floor((m.payload.ts as number) / 1000);
    const pairOf = (m: { topic: string; payload: Record<string, unknown> }) =>
      sub.messages.find((x) => (m.topic === pduTopic ? x.topic === meterTopic : m.topic === meterTopic && x.topic === pduTopic) && second(x) === second(m));
    const first = await sub.waitFor((m) => pairOf(m) !== undefined, 20_000);
    const [pdu, meter] = first.topic === pduTopic ? [first, pairOf(first)!] : [pairOf(first)!, first];
    const value = (m: typeof pdu, point: string) => (m.payload.readings as { point: string; value: unknown }[]).find((r) => r.point === point)?.value;
    expect(pdu.qos).toBe(1);
    expect(pdu.payload).toMatchObject({ schema: 1, agent: 'edge1', site: 'demo', device: 'pdu-r01-a', class: 'pdu' });
    expect(value(pdu, 'active_power_w')).toBe(1140);
    expect(value(pdu, 'energy_kwh')).toBe(12345.6);
    expect(meter.payload).toMatchObject({ class: 'meter' });
    expect(value(meter, 'active_power_w')).toBe(8123.5);
    expect(value(meter, 'energy_kwh')).toBe(46341.5);
    expect(pdu.payload.seq).not.toBe(meter.payload.seq);
    // Same interval → read at nearly the same instant, each at its slot plus the jitter cap (a
    // tenth of 1 s). Polls that were not aligned keep the phase they started with, so the best of
    // three cycles is as far off as the first; a loaded machine makes some timers late, rarely
    // all three by the slack.
    const LATE_TIMER_SLACK_MS = 400;
    const pairs = () => {
      const bySecond = new Map<number, [typeof pdu, typeof pdu]>();
      for (const m of sub.messages) {
        const other = m.topic === pduTopic ? pairOf(m) : undefined;
        if (other) bySecond.set(second(m), [m, other]);
      }
      return [...bySecond.values()];
    };
    await until('three cycles of both devices', () => pairs().length >= 3, 30_000);
    const best = (f: (p: [typeof pdu, typeof pdu]) => number) => Math.min(...pairs().map(f));
    expect(best(([p, m]) => Math.abs((p.payload.ts as number) - (m.payload.ts as number)))).toBeLessThan(100 + LATE_TIMER_SLACK_MS);
    expect(best(([p]) => offsetFromSlot(p.payload.ts as number))).toBeLessThan(100 + LATE_TIMER_SLACK_MS);
    expect(best(([, m]) => offsetFromSlot(m.payload.ts as number))).toBeLessThan(100 + LATE_TIMER_SLACK_MS);

    const up = await sub.waitFor((m) => m.topic === topics.deviceStatus('demo', 'edge1', 'meter-incomer-1'));
    expect(up).toMatchObject({ qos: 1, payload: { state: 'up' } });
    const state = await sub.waitFor((m) => m.topic === topics.agentState('demo', 'edge1'));
    expect(state.payload).toMatchObject({ online: true, devices: 2, bd_seq: 0 });

    await sub.waitFor((m) => m.topic.endsWith('/telemetry') && (m.payload.seq as number) >= 3, 20_000);
    const seqs = sub.messages.filter((m) => m.topic.endsWith('/telemetry')).map((m) => m.payload.seq as number);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs.slice().sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(seqs.length);

    const stats = a.stats();
    expect(stats.devices).toBe(2);
    expect(stats.telemetry.published).toBeGreaterThanOrEqual(2);
    expect(stats.polling.devices['pdu-r01-a']).toMatchObject({ consecutive_failures: 0 });

    await a.stop();
    await sub.waitFor((m) => m.topic === topics.agentState('demo', 'edge1') && m.payload.online === false);
    // Retained status survives for a late subscriber.
    const late = await subscriber(broker.url, topics.filters.deviceStatus('demo'));
    expect((await late.waitFor(() => true)).payload).toMatchObject({ state: 'up' });
    await sub.client.endAsync();
    await late.client.endAsync();
  });

  it('seq keeps rising across an agent restart', async () => {
    const sub = await subscriber(broker.url, topics.filters.telemetry('demo'));
    const first = agent(inventory(devices().slice(1)), patient);
    await first.start();
    await sub.waitFor(() => true, 20_000);
    await first.stop();
    const before = Math.max(...sub.messages.map((m) => m.payload.seq as number));
    const second = agent(inventory(devices().slice(1)), patient);
    await second.start();
    const next = await sub.waitFor((m) => (m.payload.seq as number) > before, 20_000);
    expect(next.payload.seq).toBeGreaterThanOrEqual(1000); // the first block was reserved up to 1000
    await sub.client.endAsync();
  });
});

describe('Agent with failing devices (broker only)', () => {
  it('a device with a missing secret and one nobody answers are both down, with their reasons', async () => {
    const sub = await subscriber(broker.url, topics.filters.deviceStatus('demo'));
    const a = agent(
      inventory([
        { id: 'pdu-secret', profile: 'apc-rpdu2', interval_s: 1, address: { protocol: 'snmp', host: '127.0.0.1', port: 16161, community: { env: 'NOT_SET_ANYWHERE' } } },
        { id: 'meter-gone', profile: 'eastron-sdm630', interval_s: 1, address: { protocol: 'modbus', host: '127.0.0.1', port: await freeTcpPort(), unit_id: 1 } },
      ]),
      { env: {} },
    );
    await a.start();
    const secret = await sub.waitFor((m) => m.topic.includes('pdu-secret'), 20_000);
    const gone = await sub.waitFor((m) => m.topic.includes('meter-gone'), 20_000);
    expect(secret.payload).toMatchObject({ state: 'down', code: 'DCIM_E_SECRET_MISSING', last_ok: null });
    expect(gone.payload).toMatchObject({ state: 'down', code: 'DCIM_E_MODBUS_CONNECT' });
    await sub.client.endAsync();
  });

  it('refuses to start with an unknown profile', async () => {
    const a = agent(inventory([{ id: 'x', profile: 'no-such-profile', address: { protocol: 'modbus', host: '127.0.0.1' } }]));
    await expect(a.start()).rejects.toSatisfy((e) => e instanceof DcimError && e.code === 'DCIM_E_PROFILE_UNKNOWN');
  });

  it('keeps polling while the broker is away, spooling what it could not send', async () => {
    const port = await freeTcpPort();
    const a = new Agent({
      id: 'edge1',
      inventory: inventory([{ id: 'meter-gone', profile: 'eastron-sdm630', interval_s: 1, address: { protocol: 'modbus', host: '127.0.0.1', port, unit_id: 1 } }]),
      profiles,
      mqtt: { url: `mqtt://127.0.0.1:${await freeTcpPort()}` },
      stateDir,
      logger: memoryLogger('error'),
    });
    agents.push(a);
    await a.start();
    await until('a poll spooled', () => (a.stats().polling.devices['meter-gone']?.polls ?? 0) >= 1 && a.stats().telemetry.spool.records >= 1, 30_000);
    const s = a.stats();
    expect(s.polling.devices['meter-gone']?.polls).toBeGreaterThanOrEqual(1);
    expect(s.telemetry.spool.records).toBeGreaterThanOrEqual(1);
    expect(s.telemetry.published).toBe(0);
    expect(s.mqtt.connected).toBe(false);
  });
});
