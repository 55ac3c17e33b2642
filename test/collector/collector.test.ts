import { createServer, type AddressInfo, type Server } from 'node:net';
import path from 'node:path';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Collector } from '../../collector/collector.js';
import { SqliteSink } from '../../collector/store/sqlite-sink.js';
import { ManualClock } from '../../contract/clock.js';
import { SiteInventorySchema } from '../../contract/inventory.js';
import { loadYamlFile } from '../../shared/config/load.js';
import { memoryLogger } from '../../shared/log.js';
import { KpiMessageSchema, MAX_PAYLOAD_BYTES, type KpiMessage } from '../../contract/messages.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { topics } from '../../contract/topics.js';

const DEMO = loadYamlFile(SiteInventorySchema, path.resolve(import.meta.dirname, '../../seeds/minimal.yaml'));
const PROFILES = loadProfiles();
const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);

let seqCounter = 0;
const telemetry = (device: 'pdu-r01-a' | 'meter-incomer-1', power_w: number, ts: number, over: Record<string, unknown> = {}) => ({
  schema: 1,
  agent: 'edge-1',
  site: 'demo',
  device,
  class: device === 'pdu-r01-a' ? 'pdu' : 'meter',
  seq: ++seqCounter,
  ts,
  readings: [
    { point: 'active_power_w', value: power_w, unit: 'W', quality: 'good' },
    { point: 'energy_kwh', value: 1234.5, unit: 'kWh', quality: 'good' },
  ],
  poll: { ms: 20, requests: 1, retries: 0 },
  ...over,
});
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const tTopic = (device: string) => topics.telemetry('demo', 'edge-1', device);

function setup(clock = new ManualClock(T0)) {
  const sink = new SqliteSink({ path: ':memory:', clock, logger: memoryLogger() });
  const logger = memoryLogger();
  const kpis: KpiMessage[] = [];
  const collector = new Collector({ id: 'test', inventories: [DEMO], profiles: PROFILES, mqtt: { url: 'mqtt://127.0.0.1:1' }, sink, clock, logger, kpiIntervalMs: 5000, onKpi: (m) => kpis.push(m) });
  return { collector, sink, logger, kpis, clock };
}

describe('Collector.ingest: every message is counted, bad ones never stop the flow', () => {
  it('counts a mixed stream exactly', async () => {
    const { collector, sink, logger } = setup();
    const pdu = telemetry('pdu-r01-a', 8000, T0);
    const stream: [string, Buffer][] = [
      [tTopic('pdu-r01-a'), json(pdu)],
      [tTopic('meter-incomer-1'), json(telemetry('meter-incomer-1', 10_000, T0))],
      [tTopic('pdu-r01-a'), Buffer.from('{"schema":1,')], // malformed JSON
      [tTopic('pdu-r01-a'), json({ ...pdu, seq: 'seven' })], // wrong type
      [tTopic('pdu-r01-a'), json(pdu)], // QoS 1 redelivery: duplicate seq
      [tTopic('pdu-r01-a'), json({ ...pdu, site: 'other' })], // topic and payload disagree
      [tTopic('pdu-r01-a'), Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 0x20)], // too large
      [tTopic('pdu-r01-a'), Buffer.from('{"__proto__":{"x":1}}')], // prototype pollution
      [tTopic('pdu-r99'), json(telemetry('pdu-r01-a', 1, T0, { device: 'pdu-r99' }))], // not in the inventory
      [
        tTopic('pdu-r01-a'),
        json(telemetry('pdu-r01-a', 8100, T0 + 5000, { readings: [{ point: 'active_power_w', value: 8100, unit: 'W', quality: 'good' }, { point: 'energy_kwh', value: 'lots', quality: 'good' }, { point: 'x', value: { y: 1 }, quality: 'good' }] })),
      ], // two bad readings, one good
      ['dcim/v1/demo/agents/edge-1/devices/pdu-r01-a/status', json({ state: 'up', since: T0, last_ok: T0 })],
      ['dcim/v1/demo/agents/edge-1/state', json({ online: true, ts: T0, version: '0.1.0', devices: 2, bd_seq: 1 })],
      ['dcim/v1/demo/agents/edge-1/state', Buffer.alloc(0)], // retained clear
      ['dcim/v1/demo/agents/edge-1/devices/pdu-r01-a/status', json({ state: 'sideways' })],
    ];
    for (const [topic, payload] of stream) collector.ingest(topic, payload);

    const s = collector.stats();
    expect(s).toMatchObject({
      messages_received: 14,
      messages_invalid: 6,
      messages_unknown: 1,
      duplicates: 1,
      readings_accepted: 5,
      readings_invalid: 2,
      states_received: 2,
      handler_errors: 0,
      invalid_by_code: { DCIM_E_MQTT_PAYLOAD_INVALID: 5, DCIM_E_MQTT_PAYLOAD_TOO_LARGE: 1, DCIM_E_READING_INVALID: 2 },
    });
    expect(collector.deviceStatuses('demo').get('pdu-r01-a')?.state).toBe('up');
    expect(collector.agentStates('demo').get('edge-1')?.bd_seq).toBe(1);

    // One line per kind of problem (its code) and period, whatever topic or reason the sender varies.
    const refused = logger.lines.filter((l) => l.msg === 'MQTT message refused');
    expect(refused.map((l) => [l.code, l.reason])).toEqual([
      ['DCIM_E_MQTT_PAYLOAD_INVALID', expect.stringMatching(/not JSON/)],
      ['DCIM_E_MQTT_PAYLOAD_TOO_LARGE', expect.stringMatching(/exceeds/)],
    ]);
    expect(s.log_lines_suppressed).toBe(4);
    expect(logger.lines.find((l) => l.msg === 'invalid readings dropped')).toMatchObject({ code: 'DCIM_E_READING_INVALID', dropped: 2 });

    await sink.flush();
    expect(sink.series({ measurement: 'pdu', field: 'active_power_w', since_ms: 0 }).map((x) => [x.ts_ms, x.value])).toEqual([
      [T0, 8000],
      [T0 + 5000, 8100],
    ]);
    expect(sink.series({ measurement: 'pdu', field: 'active_power_w', since_ms: 0 })[0]!.tags).toEqual({ site: 'demo', device: 'pdu-r01-a', hall: 'h1', rack: 'r01', role: 'it', level: 'pdu_out' });
    expect(sink.series({ measurement: 'agent_health', field: 'online', since_ms: 0 })).toHaveLength(1);
    expect(sink.series({ measurement: 'device_status', field: 'state', since_ms: 0 })[0]!.value).toBe('up');
  });

  it.each([
    { name: 'a class its profile does not have', payload: () => telemetry('pdu-r01-a', 1, T0, { class: 'ups' }), reason: /class ups but profile apc-rpdu2 is a pdu/ },
    { name: 'a timestamp from the future', payload: () => telemetry('pdu-r01-a', 1, T0 + 3_600_000), reason: /ahead of the collector clock/ },
    { name: 'a 1970 timestamp (a reset device clock)', payload: () => telemetry('pdu-r01-a', 1, 1000), reason: /1970-01-01T00:00:01.000Z is more than 800 days behind the collector clock/ },
  ])('refuses telemetry with $name', ({ payload, reason }) => {
    const { collector, logger } = setup();
    collector.ingest(tTopic('pdu-r01-a'), json(payload()));
    expect(collector.stats()).toMatchObject({ messages_invalid: 1, readings_accepted: 0, points_to_store: 0 });
    expect(logger.lines.find((l) => l.msg === 'MQTT message refused')?.reason).toMatch(reason);
  });

  it('throttles the log of a flood of bad messages but counts all of them', () => {
    const { collector, logger } = setup();
    for (let i = 0; i < 1000; i++) collector.ingest(tTopic('pdu-r01-a'), Buffer.from('nope'));
    expect(collector.stats().messages_invalid).toBe(1000);
    expect(logger.lines.filter((l) => l.msg === 'MQTT message refused')).toHaveLength(1);
  });

  it('a replayed old message is stored but does not move the live value back', async () => {
    const { collector, sink } = setup();
    collector.ingest(tTopic('pdu-r01-a'), json(telemetry('pdu-r01-a', 8000, T0)));
    collector.ingest(tTopic('meter-incomer-1'), json(telemetry('meter-incomer-1', 10_000, T0)));
    collector.ingest(tTopic('pdu-r01-a'), json(telemetry('pdu-r01-a', 1, T0 - 60_000)));
    expect(collector.stats().readings_late).toBe(2);
    collector.evaluateKpis(T0 + 5000);
    expect(collector.latestKpi('demo')!.kpis[0]).toMatchObject({ ok: true, value: 1.25 });
    await sink.flush();
    expect(sink.series({ measurement: 'pdu', field: 'active_power_w', since_ms: 0 })).toHaveLength(2);
  });
});

describe('Collector.ingest: what peers invent stays bounded', () => {
  it('logs a flood from invented ids once per kind of problem, and counts every message', () => {
    const { collector, logger } = setup();
    for (let i = 0; i < 50_000; i++) {
      if (i % 2 === 0) collector.ingest(tTopic(`pdu-x${i}`), json(telemetry('pdu-r01-a', 1, T0, { device: `pdu-x${i}` })));
      else collector.ingest(`dcim/v1/demo/agents/edge-1/devices/pdu-x${i}/telemetry`, Buffer.from(`{"bad ${i}`));
    }
    const s = collector.stats();
    expect(s).toMatchObject({ messages_received: 50_000, messages_unknown: 25_000, messages_invalid: 25_000 });
    expect(logger.lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual(['message from outside the inventory ignored', 'MQTT message refused']);
    expect(s.log_lines_suppressed).toBe(49_998);
  });

  it('keeps at most as many agents per site as it has devices (at least 4); an offline one makes room', () => {
    const open = SiteInventorySchema.parse({ ...DEMO, site: { ...DEMO.site, agent: undefined } });
    const clock = new ManualClock(T0);
    const collector = new Collector({ id: 'open', inventories: [open], profiles: PROFILES, mqtt: { url: 'mqtt://127.0.0.1:1' }, sink: new SqliteSink({ path: ':memory:', clock, logger: memoryLogger() }), clock, logger: memoryLogger() });
    const state = (agent: string, online = true) => collector.ingest(topics.agentState('demo', agent), json({ online, ts: T0, version: '1', devices: 1, bd_seq: 1 }));
    state('edge-1');
    for (let i = 0; i < 1000; i++) state(`forged-${i}`);
    const cap = Math.max(4, open.devices.length);
    expect(collector.agentStates('demo').size).toBe(cap);
    expect(collector.stats()).toMatchObject({ agents_refused: 1001 - cap, invalid_by_code: { DCIM_E_AGENT_LIMIT: 1001 - cap } });
    // Known agents keep updating; one going offline makes room for a newcomer.
    state('edge-1', false);
    expect(collector.agentStates('demo').get('edge-1')?.online).toBe(false);
    state('edge-2');
    expect(collector.agentStates('demo').has('edge-2')).toBe(true);
    expect(collector.agentStates('demo').has('edge-1')).toBe(false);
  });

  it('refuses a seq leap until the agent announces a new birth on its state topic', () => {
    const { collector } = setup();
    collector.ingest(tTopic('pdu-r01-a'), json(telemetry('pdu-r01-a', 8000, T0, { seq: 10 })));
    collector.ingest(tTopic('pdu-r01-a'), json(telemetry('pdu-r01-a', 8000, T0 + 5000, { seq: 1e15 })));
    expect(collector.stats()).toMatchObject({ readings_accepted: 2, seq_implausible: 1, invalid_by_code: { DCIM_E_SEQ_IMPLAUSIBLE: 1 } });
    collector.ingest(topics.agentState('demo', 'edge-1'), json({ online: true, ts: T0 + 6000, version: '1', devices: 2, bd_seq: 9 }));
    collector.ingest(tTopic('pdu-r01-a'), json(telemetry('pdu-r01-a', 8000, T0 + 7000, { seq: 1e15 })));
    expect(collector.stats()).toMatchObject({ readings_accepted: 4, seq_rebased: 1 });
  });
});

describe('Collector end to end through an MQTT broker (aedes on loopback)', () => {
  let broker: Aedes;
  let server: Server;
  let url: string;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    broker = await Aedes.createBroker();
    server = createServer(broker.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const client = async (id: string) => {
    const c = await mqtt.connectAsync(url, { clientId: id, protocolVersion: 4, reconnectPeriod: 100 });
    clients.push(c);
    return c;
  };
  const until = async (what: string, cond: () => boolean, timeout_ms = 20_000) => {
    const deadline = Date.now() + timeout_ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  it('ingests telemetry, survives junk, publishes the retained KPI and writes it', async () => {
    const clock = new ManualClock(T0);
    const sink = new SqliteSink({ path: ':memory:', clock, logger: memoryLogger() });
    const kpis: KpiMessage[] = [];
    const collector = new Collector({ id: 'e2e', inventories: [DEMO], profiles: PROFILES, mqtt: { url }, sink, clock, logger: memoryLogger(), kpiIntervalMs: 5000, onKpi: (m) => kpis.push(m) });
    await collector.start();
    try {
      const agent = await client('agent-edge-1');
      const pdu = telemetry('pdu-r01-a', 8000, T0 + 1000);
      await agent.publishAsync(tTopic('pdu-r01-a'), JSON.stringify(pdu), { qos: 1 });
      await agent.publishAsync(tTopic('pdu-r01-a'), '{ not json', { qos: 1 });
      await agent.publishAsync(tTopic('pdu-r01-a'), JSON.stringify({ ...pdu, ts: 'yesterday' }), { qos: 1 });
      await agent.publishAsync(tTopic('pdu-r01-a'), JSON.stringify(pdu), { qos: 1 }); // duplicate seq
      await agent.publishAsync(tTopic('meter-incomer-1'), JSON.stringify(telemetry('meter-incomer-1', 10_000, T0 + 1200)), { qos: 1 });
      await until('5 messages', () => collector.stats().messages_received === 5);
      expect(collector.stats()).toMatchObject({ messages_invalid: 2, duplicates: 1, readings_accepted: 4, handler_errors: 0 });

      clock.advance(5000);
      expect(kpis).toHaveLength(1);
      const kpi = kpis[0]!;
      expect(KpiMessageSchema.parse(kpi)).toEqual(kpi);
      expect(kpi).toMatchObject({ site: 'demo', ts: T0 + 5000 });
      expect(kpi.kpis[0]).toMatchObject({ kpi: 'pue_live', window: 'instant', basis: 'power', ok: true, value: 1.25, category: 2, quality: 'measured', status: 'amber', coverage: 1 });
      expect(collector.latestKpi('demo')).toEqual(kpi);
      await until('KPI published', () => collector.stats().kpi_published === 1);

      // A client that subscribes later gets the retained KPI.
      const viewer = await client('viewer');
      const got = new Promise<{ payload: Buffer; retain: boolean }>((resolve) => viewer.on('message', (_t, payload, packet) => resolve({ payload, retain: packet.retain })));
      await viewer.subscribeAsync(topics.kpi('demo'), { qos: 1 });
      const retained = await got;
      expect(retained.retain).toBe(true);
      expect(JSON.parse(retained.payload.toString())).toEqual(kpi);

      // The IT meter goes quiet: after the stale limit the live PUE is unknown, not wrong.
      clock.advance(5 * 60_000);
      expect(kpis.at(-1)!.kpis[0]).toMatchObject({ ok: false, quality: 'insufficient', status: 'grey' });
      expect(kpis.at(-1)!.kpis[0]!.reason).toMatch(/^DCIM_E_KPI_STALE: no fresh power from meter-incomer-1, pdu-r01-a; /);

      await sink.flush();
      expect(sink.latestKpis('demo').find((k) => k.kpi === 'pue_live')).toMatchObject({ ok: false, status: 'grey', ts_ms: T0 + 5000 + 5 * 60_000 });
      // One KPI point per 5 s tick while the inputs were fresh (the PDU's last reading at T0+1 s
      // stays fresh for 5 min), then none: an unknown PUE has no value field.
      const values = sink.series({ measurement: 'kpi', field: 'value', tags: { kpi: 'pue_live' }, since_ms: 0 });
      expect(values[0]).toMatchObject({ ts_ms: T0 + 5000, value: 1.25 });
      expect(values.at(-1)!.ts_ms).toBe(T0 + 300_000);
      expect(values).toHaveLength(60);
      expect(sink.series({ measurement: 'kpi', field: 'status', tags: { kpi: 'pue_live' }, since_ms: 0 })).toHaveLength(61);
      expect(sink.series({ measurement: 'meter', field: 'active_power_w', since_ms: 0 }).map((s) => s.value)).toEqual([10_000]);
    } finally {
      await collector.stop();
      await sink.close();
    }
  });

  it('keeps its session: QoS 1 telemetry sent while it is down arrives when it returns', async () => {
    const clock = new ManualClock(T0);
    const make = () => new Collector({ id: 'persist', inventories: [DEMO], mqtt: { url }, sink: new SqliteSink({ path: ':memory:', clock, logger: memoryLogger() }), clock, logger: memoryLogger() });
    const first = make();
    await first.start();
    await first.stop();

    const agent = await client('agent-edge-2');
    await agent.publishAsync(tTopic('pdu-r01-a'), JSON.stringify(telemetry('pdu-r01-a', 8000, T0)), { qos: 1 });

    const second = make();
    await second.start();
    try {
      await until('queued message', () => second.stats().readings_accepted === 2);
      expect(second.stats()).toMatchObject({ messages_received: 1, messages_invalid: 0 });
    } finally {
      await second.stop();
    }
  });
});
