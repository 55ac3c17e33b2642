import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SystemClock, topics, type TelemetryMessage } from '../../contract/index.js';
import { memoryLogger } from '../../shared/log.js';
import { Publisher, redactUrl, type PublisherOptions } from '../../agent/publisher.js';
import { SeqStore } from '../../agent/seq-store.js';
import { clientsOf, startBroker, subscriber, type TestBroker } from './support/broker.js';
import { until } from '../support/until.js';

let broker: TestBroker;
let dir: string;
const running: Publisher[] = [];

beforeEach(async () => {
  broker = await startBroker();
  dir = mkdtempSync(join(tmpdir(), 'dcim-pub-'));
});
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop();
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
});

function publisher(over: Partial<PublisherOptions> = {}) {
  const bd = new SeqStore({ file: join(dir, 'bd-seq.json'), block: 1 });
  bd.open();
  const logger = memoryLogger();
  const p = new Publisher({ url: broker.url, clientId: 'dcim-agent-demo-edge1', site: 'demo', agentId: 'edge1', devices: 2, version: '0.1.0', bdSeq: bd, clock: new SystemClock(), logger, reconnectPeriodMs: 50, ...over });
  running.push(p);
  return { p, logger };
}

const stateTopic = topics.agentState('demo', 'edge1');
const telemetry = (over: Partial<TelemetryMessage> = {}): TelemetryMessage => ({
  schema: 1,
  agent: 'edge1',
  site: 'demo',
  device: 'pdu-r01-a',
  class: 'pdu',
  seq: 7,
  ts: 1_767_225_600_000,
  readings: [{ point: 'active_power_w', value: 1140, unit: 'W', quality: 'good' }],
  poll: { ms: 12, requests: 2, retries: 0, timeouts: 0 },
  ...over,
});

describe('Publisher (aedes on loopback)', () => {
  it('publishes a retained online state with bd_seq on connect, seen by a late subscriber', async () => {
    const { p } = publisher();
    p.start();
    expect(await p.whenConnected(20_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    const sub = await subscriber(broker.url, stateTopic);
    const m = await sub.waitFor((x) => x.topic === stateTopic);
    expect(m).toMatchObject({ retain: true, payload: { online: true, version: '0.1.0', devices: 2, bd_seq: 0 } });
    await sub.client.endAsync();
  });

  it('uses a persistent session with the stable client id', async () => {
    const { p } = publisher();
    p.start();
    await p.whenConnected(20_000);
    expect(clientsOf(broker.broker)['dcim-agent-demo-edge1']?.clean).toBe(false);
  });

  it('publishes made in one event-loop turn leave in one write, in order, each acknowledged', async () => {
    const { p } = publisher();
    const sub = await subscriber(broker.url, topics.filters.telemetry('demo'));
    p.start();
    await p.whenConnected(3000);
    const socket = (p as unknown as { client: { stream: { _write: unknown; _writev: unknown } } }).client.stream;
    const writes = [vi.spyOn(socket as { _write: () => void }, '_write'), vi.spyOn(socket as { _writev: () => void }, '_writev')];
    const count = () => writes.reduce((n, w) => n + w.mock.calls.length, 0);
    // Chunks the socket was handed: a writev of many chunks costs per chunk, not per call.
    const chunks = () => writes[0]!.mock.calls.length + writes[1]!.mock.calls.reduce((n, c) => n + ((c as unknown[])[0] as unknown[]).length, 0);
    await new Promise((r) => setImmediate(r));
    const before = count();
    const chunksBefore = chunks();
    // Five callbacks of one event-loop phase, as a burst of UDP answers ends five polls in one
    // turn (immediates queued together run in one check phase; a timer's ms could split them).
    const results = await new Promise<Promise<unknown>[]>((resolve) => {
      const out: Promise<unknown>[] = [];
      for (let seq = 0; seq < 5; seq++) {
        setImmediate(() => {
          out.push(p.publish(topics.telemetry('demo', 'edge1', 'pdu-r01-a'), telemetry({ seq })));
          if (out.length === 5) resolve(out);
        });
      }
    });
    expect(await Promise.all(results)).toEqual(Array.from({ length: 5 }, () => ({ ok: true, value: undefined })));
    expect(count() - before).toBe(1);
    // The five PUBLISHes (seven fields each, as mqtt-packet writes them) as one Buffer.
    expect(chunks() - chunksBefore).toBe(1);
    for (let seq = 0; seq < 5; seq++) await sub.waitFor((x) => x.topic.endsWith('/telemetry') && (x.payload as { seq: number }).seq === seq);
    expect(sub.messages.filter((x) => x.topic.endsWith('/telemetry')).map((x) => (x.payload as { seq: number }).seq)).toEqual([0, 1, 2, 3, 4]);
    await sub.client.endAsync();
  });

  it('a burst of publishes over a few turns reaches the socket in fewer writes than messages, every message byte for byte', async () => {
    const { p } = publisher();
    const raw = connect(broker.url, { clientId: `test-raw-${process.pid}`, reconnectPeriod: 0 });
    const got: Buffer[] = [];
    raw.on('message', (_t, payload) => got.push(payload));
    await new Promise<void>((resolve) => raw.once('connect', () => resolve()));
    await raw.subscribeAsync(topics.filters.telemetry('demo'), { qos: 1 });
    p.start();
    expect(await p.whenConnected(20_000)).toBe(true);
    const socket = (p as unknown as { client: { stream: object } }).client.stream;
    const writes = [vi.spyOn(socket as { _write: () => void }, '_write'), vi.spyOn(socket as { _writev: () => void }, '_writev')];
    await new Promise((r) => setImmediate(r));
    const before = writes.map((w) => w.mock.calls.length);
    // 200 messages in 4 turns of 50, as Buffers of UTF-8 with multi-byte text (a wrong length or a
    // string decode on the way would show as a different byte or a lost message).
    const topic = topics.telemetry('demo', 'edge1', 'pdu-r01-a');
    const payloads = Array.from({ length: 200 }, (_, seq) => Buffer.from(JSON.stringify(telemetry({ seq, readings: [{ point: 'inlet_temp_c', value: `Ω ${seq} 温度 µ°C`, quality: 'good' }] })), 'utf8'));
    const results: Promise<unknown>[] = [];
    for (let turn = 0; turn < 4; turn++) {
      await new Promise((r) => setImmediate(r));
      for (const payload of payloads.slice(turn * 50, turn * 50 + 50)) results.push(p.publishPrepared(topic, payload));
    }
    expect(await Promise.all(results)).toEqual(payloads.map(() => ({ ok: true, value: undefined })));
    // Chunks handed to the socket (a writev of many chunks costs per chunk): one per turn.
    const chunks = writes[0]!.mock.calls.length - (before[0] ?? 0) + writes[1]!.mock.calls.slice(before[1] ?? 0).reduce((n, c) => n + ((c as unknown[])[0] as unknown[]).length, 0);
    expect(chunks).toBeGreaterThan(0);
    expect(chunks).toBeLessThanOrEqual(8); // 4 turns of publishes, and the PUBACKs' turns may send nothing else
    await until('all 200 messages at the subscriber', () => got.length >= 200, 20_000, () => `${got.length} received`);
    expect(got.map((b) => b.toString('hex'))).toEqual(payloads.map((b) => b.toString('hex')));
    await raw.endAsync();
  });

  it('delivers telemetry with QoS 1 and resolves on PUBACK', async () => {
    const { p } = publisher();
    const sub = await subscriber(broker.url, topics.filters.telemetry('demo'));
    p.start();
    await p.whenConnected(20_000);
    const r = await p.publish(topics.telemetry('demo', 'edge1', 'pdu-r01-a'), telemetry());
    expect(r).toEqual({ ok: true, value: undefined });
    const m = await sub.waitFor((x) => x.topic.endsWith('/telemetry'));
    expect(m).toMatchObject({ qos: 1, retain: false, payload: { seq: 7, device: 'pdu-r01-a' } });
    expect(p.stats()).toMatchObject({ connected: true, published: 2 }); // birth + telemetry
    await sub.client.endAsync();
  });

  it.each([
    ['a wildcard topic', 'dcim/v1/demo/devices/+/telemetry', telemetry(), 'DCIM_E_MQTT_TOPIC_INVALID'],
    ['a multi-level wildcard', 'dcim/v1/demo/#', telemetry(), 'DCIM_E_MQTT_TOPIC_INVALID'],
    ['a topic outside the grammar', 'foo/bar', telemetry(), 'DCIM_E_MQTT_TOPIC_INVALID'],
    ['another site', topics.telemetry('other', 'edge1', 'pdu-r01-a'), telemetry(), 'DCIM_E_MQTT_TOPIC_INVALID'],
    ['an alert (the collector publishes those)', topics.alert('demo', 'a1'), { x: 1 }, 'DCIM_E_MQTT_TOPIC_INVALID'],
    ['a payload missing fields', topics.telemetry('demo', 'edge1', 'pdu-r01-a'), { schema: 1 }, 'DCIM_E_MQTT_PAYLOAD_INVALID'],
    ['a NaN reading', topics.telemetry('demo', 'edge1', 'pdu-r01-a'), telemetry({ readings: [{ point: 'active_power_w', value: Number.NaN, quality: 'good' }] }), 'DCIM_E_MQTT_PAYLOAD_INVALID'],
    ['a bad device status', topics.deviceStatus('demo', 'edge1', 'pdu-r01-a'), { state: 'sleepy', since: 1, last_ok: null }, 'DCIM_E_MQTT_PAYLOAD_INVALID'],
    ["another agent's telemetry topic", topics.telemetry('demo', 'edge2', 'pdu-r01-a'), telemetry(), 'DCIM_E_MQTT_TOPIC_INVALID'],
    ["another agent's status topic", topics.deviceStatus('demo', 'edge2', 'pdu-r01-a'), { state: 'up', since: 1, last_ok: 1 }, 'DCIM_E_MQTT_TOPIC_INVALID'],
    ["another agent's state topic", topics.agentState('demo', 'edge2'), { online: true, ts: 1, version: 'x', devices: 1, bd_seq: 1 }, 'DCIM_E_MQTT_TOPIC_INVALID'],
    ['a payload naming another agent', topics.telemetry('demo', 'edge1', 'pdu-r01-a'), telemetry({ agent: 'edge2' }), 'DCIM_E_MQTT_PAYLOAD_INVALID'],
    ['a payload naming another device', topics.telemetry('demo', 'edge1', 'meter-incomer-1'), telemetry(), 'DCIM_E_MQTT_PAYLOAD_INVALID'],
    [
      'an oversized payload',
      topics.telemetry('demo', 'edge1', 'pdu-r01-a'),
      telemetry({ readings: Array.from({ length: 2000 }, (_, i) => ({ point: 'label', value: `${i}`.padEnd(200, 'x'), quality: 'good' as const })) }),
      'DCIM_E_MQTT_PAYLOAD_TOO_LARGE',
    ],
    [
      // About 120,000 UTF-16 units but over 256 KiB as UTF-8 (3 bytes each): counted in bytes, not characters.
      'a payload over the limit only in UTF-8 bytes',
      topics.telemetry('demo', 'edge1', 'pdu-r01-a'),
      telemetry({ readings: Array.from({ length: 600 }, (_, i) => ({ point: 'label', value: `${i}`.padEnd(200, '温'), quality: 'good' as const })) }),
      'DCIM_E_MQTT_PAYLOAD_TOO_LARGE',
    ],
  ])('refuses %s without sending', async (_name, topic, payload, code) => {
    const { p, logger } = publisher();
    const sub = await subscriber(broker.url, '#');
    p.start();
    await p.whenConnected(20_000);
    const r = await p.publish(topic, payload);
    expect(r).toMatchObject({ ok: false, reason: { code } });
    expect(p.stats().refused_invalid).toBe(1);
    expect(logger.lines.some((l) => l.msg === 'mqtt publish refused' && l.code === code)).toBe(true);
    await new Promise((res) => setTimeout(res, 50));
    expect(sub.messages.filter((m) => m.topic === topic)).toEqual([]);
    await sub.client.endAsync();
  });

  it('refuses to publish while disconnected instead of queueing in memory', async () => {
    const { p } = publisher({ url: 'mqtt://127.0.0.1:1' });
    p.start();
    const r = await p.publish(topics.telemetry('demo', 'edge1', 'pdu-r01-a'), telemetry());
    expect(r).toMatchObject({ ok: false, reason: { code: 'offline' } });
    expect(p.stats().refused_offline).toBe(1);
  });

  it('on an abrupt connection loss the broker publishes the will; the reconnect births with bd_seq + 1', async () => {
    const { p } = publisher();
    const reconnected: number[] = [];
    p.onConnect(() => reconnected.push(p.stats().bd_seq));
    p.start();
    await p.whenConnected(20_000);
    const sub = await subscriber(broker.url, stateTopic);
    await sub.waitFor((m) => m.payload.online === true && m.payload.bd_seq === 0);
    broker.cut('dcim-agent-');
    const will = await sub.waitFor((m) => m.payload.online === false);
    expect(will.payload).toMatchObject({ online: false, bd_seq: 0, devices: 2 });
    const birth = await sub.waitFor((m) => m.payload.online === true && m.payload.bd_seq === 1);
    expect(birth.payload.bd_seq).toBe(1);
    expect(reconnected).toEqual([0, 1]);
    // The retained state is now the new birth.
    const late = await subscriber(broker.url, stateTopic);
    expect((await late.waitFor(() => true)).payload).toMatchObject({ online: true, bd_seq: 1 });
    await sub.client.endAsync();
    await late.client.endAsync();
  });

  it('onClose runs on a connection loss, before the reconnect runs the onConnect hooks', async () => {
    const { p } = publisher();
    const events: string[] = [];
    p.onConnect(() => events.push('connect'));
    p.onClose(() => events.push('close'));
    p.start();
    await p.whenConnected(20_000);
    broker.cut('dcim-agent-');
    await until('the reconnect', () => events.length >= 3, 60_000, () => events.join(', '));
    expect(events).toEqual(['connect', 'close', 'connect']);
  });

  it('prepare checks like publish without sending; publishPrepared sends its JSON', async () => {
    const { p } = publisher();
    const sub = await subscriber(broker.url, topics.filters.telemetry('demo'));
    p.start();
    await p.whenConnected(20_000);
    expect(p.prepare(topics.telemetry('demo', 'edge1', 'pdu-r01-a'), { schema: 1 })).toMatchObject({ ok: false, reason: { code: 'DCIM_E_MQTT_PAYLOAD_INVALID' } });
    const prepared = p.prepare(topics.telemetry('demo', 'edge1', 'pdu-r01-a'), telemetry({ seq: 9 }));
    expect(prepared.ok).toBe(true);
    if (!prepared.ok) return;
    expect(await p.publishPrepared(topics.telemetry('demo', 'edge1', 'pdu-r01-a'), prepared.value)).toEqual({ ok: true, value: undefined });
    expect((await sub.waitFor((m) => m.topic.endsWith('/telemetry'))).payload).toMatchObject({ seq: 9 });
    expect(p.stats()).toMatchObject({ refused_invalid: 1, published: 2 });
    await sub.client.endAsync();
  });

  it.each([
    ['its own telemetry topic', 'dcim/v1/demo/agents/edge1/devices/pdu-r01-a/telemetry', 'ok'],
    ['a device id no topic can carry', 'dcim/v1/demo/agents/edge1/devices/PDU-R01-A/telemetry', 'DCIM_E_MQTT_TOPIC_INVALID'],
    ['an extra level under devices/', 'dcim/v1/demo/agents/edge1/devices/pdu-r01-a/x/telemetry', 'DCIM_E_MQTT_TOPIC_INVALID'],
    ['an empty device level', 'dcim/v1/demo/agents/edge1/devices//telemetry', 'DCIM_E_MQTT_TOPIC_INVALID'],
    ['another device than the payload names', 'dcim/v1/demo/agents/edge1/devices/pdu-r01-b/telemetry', 'DCIM_E_MQTT_PAYLOAD_INVALID'],
    ['another agent', 'dcim/v1/demo/agents/edge2/devices/pdu-r01-a/telemetry', 'DCIM_E_MQTT_TOPIC_INVALID'],
    ['another site', 'dcim/v1/demo2/agents/edge1/devices/pdu-r01-a/telemetry', 'DCIM_E_MQTT_TOPIC_INVALID'],
    ['the legacy device topic', 'dcim/v1/demo/devices/pdu-r01-a/telemetry', 'ok'],
  ])('prepare on %s', (_, topic, expected) => {
    const { p } = publisher();
    const r = p.prepare(topic, telemetry());
    expect(r.ok ? 'ok' : r.reason.code).toBe(expected);
  });

  it('stop() publishes the offline state itself and the broker sends no will', async () => {
    const { p } = publisher();
    p.start();
    await p.whenConnected(20_000);
    const sub = await subscriber(broker.url, stateTopic);
    await sub.waitFor((m) => m.payload.online === true);
    await p.stop();
    const off = await sub.waitFor((m) => m.payload.online === false);
    expect(off.payload.bd_seq).toBe(0);
    await new Promise((r) => setTimeout(r, 150));
    expect(sub.messages.filter((m) => m.payload.online === false)).toHaveLength(1);
    await sub.client.endAsync();
  });

  it('bd_seq keeps rising across publisher restarts', async () => {
    const first = publisher().p;
    first.start();
    await first.whenConnected(20_000);
    await first.stop();
    const second = publisher().p;
    second.start();
    await second.whenConnected(20_000);
    expect(second.stats().bd_seq).toBe(1);
  });

  it('sends a record spooled under the old device topic on its own agent topic', async () => {
    const { p } = publisher();
    const sub = await subscriber(broker.url, '#');
    p.start();
    await p.whenConnected(20_000);
    expect(await p.publishPrepared(topics.legacy.telemetry('demo', 'pdu-r01-a'), JSON.stringify(telemetry({ seq: 11 })))).toEqual({ ok: true, value: undefined });
    const m = await sub.waitFor((x) => x.topic.endsWith('/telemetry'));
    expect(m).toMatchObject({ topic: topics.telemetry('demo', 'edge1', 'pdu-r01-a'), payload: { seq: 11 } });
    await sub.client.endAsync();
  });

  it('speaks MQTT 5; a broker that refuses it (aedes) gets 3.1.1 at once, said once, the same bd_seq', async () => {
    const { p, logger } = publisher();
    p.start();
    expect(await p.whenConnected(20_000)).toBe(true);
    expect(p.stats()).toMatchObject({ protocol_version: 4, bd_seq: 0, connects: 1 });
    expect(logger.lines.filter((l) => /does not speak MQTT 5/.test(String(l.msg)))).toHaveLength(1);
  });

  it('never logs broker credentials', () => {
    expect(redactUrl('mqtt://agent:s3cret@broker:1883')).toBe('mqtt://agent:***@broker:1883');
  });
});
