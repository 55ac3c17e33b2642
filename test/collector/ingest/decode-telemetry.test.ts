import { describe, expect, it } from 'vitest';
import { decodeState } from '../../../collector/ingest/decode-status.js';
import { decodeTelemetry } from '../../../collector/ingest/decode-telemetry.js';
import { MAX_PAYLOAD_BYTES } from '../../../contract/messages.js';
import { parseTopic } from '../../../contract/topics.js';

const TOPIC = 'dcim/v1/demo/devices/pdu-r01-a/telemetry';
const msg = (over: Record<string, unknown> = {}) => ({
  schema: 1,
  agent: 'edge-1',
  site: 'demo',
  device: 'pdu-r01-a',
  class: 'pdu',
  seq: 7,
  ts: 1767225600000,
  readings: [{ point: 'active_power_w', value: 1140, unit: 'W', quality: 'good' }],
  poll: { ms: 12, requests: 1, retries: 0 },
  ...over,
});
const buf = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('decodeTelemetry: whole message refused', () => {
  const cases: { name: string; topic?: string; payload: Buffer; code: string; reason: RegExp }[] = [
    { name: 'not JSON', payload: buf('{"schema":1,'), code: 'DCIM_E_MQTT_PAYLOAD_INVALID', reason: /not JSON/ },
    { name: 'empty payload', payload: Buffer.alloc(0), code: 'DCIM_E_MQTT_PAYLOAD_INVALID', reason: /not JSON/ },
    { name: 'invalid UTF-8', payload: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), code: 'DCIM_E_MQTT_PAYLOAD_INVALID', reason: /UTF-8/ },
    { name: 'JSON but an array', payload: buf([1, 2]), code: 'DCIM_E_MQTT_PAYLOAD_INVALID', reason: /expected object/ },
    { name: 'JSON null', payload: buf('null'), code: 'DCIM_E_MQTT_PAYLOAD_INVALID', reason: /expected object/ },
    { name: 'wrong schema version', payload: buf(msg({ schema: 2 })), code: 'DCIM_E_MQTT_PAYLOAD_INVALID', reason: /schema/ },
    { name: 'seq as a string', payload: buf(msg({ seq: '7' })), code: 'DCIM_E_MQTT_PAYLOAD_INVALID', reason: /seq/ },
    { name: 'negative seq', payload: buf(msg({ seq: -1 })), code: 'DCIM_E_MQTT_PAYLOAD_INVALID', reason: /seq/ },
    { name: 'seq beyond 2^53', payload: buf(msg({ seq: 2 ** 60 })), code: 'DCIM_E_MQTT_PAYLOAD_INVALID', reason: /seq/ },
    { name: 'fractional ts', payload: buf(msg({ ts: 1.5 })), code: 'DCIM_E_MQTT_PAYLOAD_INVALID', reason: /ts/ },
    { name: 'readings not an array', payload: buf(msg({ readings: { a: 1 } })), code: 'DCIM_E_MQTT_PAYLOAD_INVALID', reason: /readings/ },
    { name: 'unknown device class', payload: buf(msg({ class: 'toaster' })), code: 'DCIM_E_MQTT_PAYLOAD_INVALID', reason: /class/ },
    { name: 'bad agent id', payload: buf(msg({ agent: 'Edge 1' })), code: 'DCIM_E_MQTT_PAYLOAD_INVALID', reason: /agent/ },
    { name: 'payload site differs from topic', payload: buf(msg({ site: 'other' })), code: 'DCIM_E_MQTT_PAYLOAD_INVALID', reason: /published on demo/ },
    { name: 'payload device differs from topic', payload: buf(msg({ device: 'meter-1' })), code: 'DCIM_E_MQTT_PAYLOAD_INVALID', reason: /published on/ },
    { name: '__proto__ key (prototype pollution)', payload: buf('{"__proto__":{"polluted":true},"schema":1}'), code: 'DCIM_E_MQTT_PAYLOAD_INVALID', reason: /forbidden key "__proto__"/ },
    { name: 'nested constructor.prototype', payload: buf('{"readings":[{"constructor":{"prototype":{"x":1}}}]}'), code: 'DCIM_E_MQTT_PAYLOAD_INVALID', reason: /forbidden key/ },
    { name: '__proto__ spelled with a \\u escape', payload: buf('{"\\u005f_proto__":{"polluted":true},"schema":1}'), code: 'DCIM_E_MQTT_PAYLOAD_INVALID', reason: /forbidden key "__proto__"/ },
    { name: 'over the size limit', payload: Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 0x20), code: 'DCIM_E_MQTT_PAYLOAD_TOO_LARGE', reason: /exceeds/ },
    { name: 'status topic', topic: 'dcim/v1/demo/devices/pdu-r01-a/status', payload: buf(msg()), code: 'DCIM_E_MQTT_TOPIC_INVALID', reason: /telemetry topic/ },
    { name: 'foreign topic', topic: 'zigbee2mqtt/bridge', payload: buf(msg()), code: 'DCIM_E_MQTT_TOPIC_INVALID', reason: /telemetry topic/ },
    { name: 'uppercase id in topic', topic: 'dcim/v1/DEMO/devices/pdu-r01-a/telemetry', payload: buf(msg()), code: 'DCIM_E_MQTT_TOPIC_INVALID', reason: /telemetry topic/ },
  ];
  it.each(cases)('$name', ({ topic, payload, code, reason }) => {
    const r = decodeTelemetry(topic ?? TOPIC, payload);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason.code).toBe(code);
      expect(r.reason.reason).toMatch(reason);
    }
  });

  it.each([
    { ahead_ms: 5 * 60_000, ok: true },
    { ahead_ms: 5 * 60_000 + 1000, ok: false },
  ])('a poll stamped $ahead_ms ms ahead of the collector clock: accepted = $ok', ({ ahead_ms, ok }) => {
    const now = 1767225600000;
    const r = decodeTelemetry(TOPIC, buf(msg({ ts: now + ahead_ms })), now);
    expect(r.ok).toBe(ok);
    if (!r.ok) expect(r.reason.reason).toMatch(/301 s ahead of the collector clock \(agent edge-1/);
  });

  it.each([
    { behind_ms: 800 * 86_400_000, ok: true },
    { behind_ms: 800 * 86_400_000 + 1, ok: false },
    { behind_ms: 1767225600000 - 1000, ok: false },
  ])('a poll stamped $behind_ms ms behind the collector clock, 800 days kept: accepted = $ok', ({ behind_ms, ok }) => {
    const now = 1767225600000;
    const r = decodeTelemetry(TOPIC, buf(msg({ ts: now - behind_ms })), now, 800 * 86_400_000);
    expect(r.ok).toBe(ok);
    if (!r.ok) {
      expect(r.reason.code).toBe('DCIM_E_MQTT_TS_TOO_OLD');
      expect(r.reason.reason).toMatch(/is more than 800 days behind the collector clock \(agent edge-1/);
    }
    // Without a horizon (a readings file read offline) age alone refuses nothing.
    expect(decodeTelemetry(TOPIC, buf(msg({ ts: now - behind_ms })), now).ok).toBe(true);
  });

  it('never touches Object.prototype', () => {
    decodeTelemetry(TOPIC, buf('{"__proto__":{"polluted":true}}'));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('survives deeply nested JSON', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(decodeTelemetry(TOPIC, buf(deep)).ok).toBe(false);
  });
});

describe('decodeTelemetry: readings dropped one by one', () => {
  const good = { point: 'active_power_w', value: 1140, unit: 'W', quality: 'good' };
  const cases: { name: string; reading: unknown; reason: RegExp }[] = [
    { name: 'NaN as a string value on a W point', reading: { ...good, value: 'NaN' }, reason: /needs a number/ },
    { name: 'value is an object', reading: { ...good, value: { x: 1 } }, reason: /value/ },
    { name: 'value is an array', reading: { ...good, value: [1] }, reason: /value/ },
    { name: 'boolean on a W point', reading: { ...good, value: true }, reason: /needs a number/ },
    { name: 'huge string', reading: { point: 'serial', value: 'x'.repeat(10_000), quality: 'good' }, reason: /value/ },
    { name: 'unknown unit', reading: { ...good, unit: 'hp' }, reason: /unit/ },
    { name: 'unit disagrees with the name', reading: { ...good, unit: 'kW' }, reason: /does not match/ },
    { name: 'bad point name', reading: { ...good, point: 'Active Power' }, reason: /point/ },
    { name: 'unknown quality', reading: { ...good, quality: 'great' }, reason: /quality/ },
    { name: 'null value with good quality', reading: { ...good, value: null }, reason: /null value/ },
    { name: 'unknown index tag', reading: { ...good, index: { socket: '1' } }, reason: /index/ },
    { name: 'index value with a space', reading: { ...good, index: { phase: 'L 1' } }, reason: /index/ },
    { name: 'not an object', reading: 42, reason: /expected object/ },
    { name: 'bad error code', reading: { point: 'active_power_w', value: null, quality: 'bad', error: 'oops' }, reason: /error/ },
  ];
  it.each(cases)('$name', ({ reading, reason }) => {
    const r = decodeTelemetry(TOPIC, buf(msg({ readings: [good, reading, { point: 'energy_kwh', value: '12345', unit: 'kWh', quality: 'good' }] })));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.message.readings.map((x) => x.point)).toEqual(['active_power_w', 'energy_kwh']);
    expect(r.value.dropped).toHaveLength(1);
    expect(r.value.dropped[0]).toMatchObject({ index: 1, code: 'DCIM_E_READING_INVALID' });
    expect(r.value.dropped[0]!.reason).toMatch(reason);
  });

  it('drops the second reading of the same series', () => {
    const r = decodeTelemetry(TOPIC, buf(msg({ readings: [good, { ...good, value: 5 }, { ...good, index: { phase: '1' } }] })));
    expect(r.ok && r.value.dropped.map((d) => d.reason)).toEqual(['duplicate reading for active_power_w']);
    expect(r.ok && r.value.message.readings).toHaveLength(2);
  });

  it('a clean poll is the parsed message itself; one reading rebuilt by the schema is kept in its place', () => {
    const clean = decodeTelemetry(TOPIC, buf(msg({ readings: [good, { point: 'energy_kwh', value: '12345', unit: 'kWh', quality: 'good' }] })));
    expect(clean.ok && clean.value.message.readings).toEqual([good, { point: 'energy_kwh', value: '12345', unit: 'kWh', quality: 'good' }]);
    // A key the schema does not know is stripped by ReadingSchema: the reading stays, in order, without it.
    const stripped = decodeTelemetry(TOPIC, buf(msg({ readings: [good, { point: 'energy_kwh', value: 3, unit: 'kWh', quality: 'good', note: 'x' }, { point: 'phase_current_a', value: 1, unit: 'A', quality: 'good', index: { phase: '1' } }] })));
    expect(stripped.ok && stripped.value.dropped).toEqual([]);
    expect(stripped.ok && stripped.value.message.readings).toEqual([good, { point: 'energy_kwh', value: 3, unit: 'kWh', quality: 'good' }, { point: 'phase_current_a', value: 1, unit: 'A', quality: 'good', index: { phase: '1' } }]);
  });

  it('gives the same verdict with the caller\'s parsed topic as without', () => {
    const payload = buf(msg());
    for (const topic of [TOPIC, 'dcim/v1/demo/devices/pdu-r01-a/status', 'dcim/v1/demo/agents/edge-1/devices/pdu-r01-a/telemetry']) {
      expect(decodeTelemetry(topic, payload, undefined, undefined, parseTopic(topic))).toEqual(decodeTelemetry(topic, payload));
    }
  });

  it('keeps a valid message with every reading invalid (the poll still happened)', () => {
    const r = decodeTelemetry(TOPIC, buf(msg({ readings: [{ point: 'x', value: {}, quality: 'good' }] })));
    expect(r.ok && r.value.message.readings).toEqual([]);
    expect(r.ok && r.value.dropped).toHaveLength(1);
  });

  it('accepts bad-quality readings with an error code and table readings', () => {
    const r = decodeTelemetry(
      TOPIC,
      buf(msg({ readings: [{ point: 'active_power_w', value: null, quality: 'bad', error: 'DCIM_E_SNMP_TIMEOUT' }, { point: 'phase_current_a', value: 12.3, unit: 'A', quality: 'good', index: { phase: '1' } }] })),
    );
    expect(r.ok && r.value.dropped).toEqual([]);
    expect(r.ok && r.value.message.readings).toHaveLength(2);
  });
});

describe('decodeState', () => {
  it.each([
    { topic: 'dcim/v1/demo/devices/pdu-r01-a/status', payload: { state: 'up', since: 1, last_ok: 2 }, kind: 'device_status' },
    { topic: 'dcim/v1/demo/agents/edge-1/state', payload: { online: false, ts: 1, version: '0.1.0', devices: 2, bd_seq: 3 }, kind: 'agent_state' },
  ])('decodes $kind', ({ topic, payload, kind }) => {
    const r = decodeState(topic, buf(payload));
    expect(r.ok && r.value.kind).toBe(kind);
  });

  it('treats a zero-byte retained message as a clear, not an error', () => {
    const r = decodeState('dcim/v1/demo/devices/pdu-r01-a/status', Buffer.alloc(0));
    expect(r.ok && r.value.kind).toBe('cleared');
  });

  it.each([
    { name: 'bad state', topic: 'dcim/v1/demo/devices/pdu-r01-a/status', payload: buf({ state: 'on', since: 1, last_ok: null }), code: 'DCIM_E_MQTT_PAYLOAD_INVALID' },
    { name: 'agent state missing bd_seq', topic: 'dcim/v1/demo/agents/edge-1/state', payload: buf({ online: true, ts: 1, version: 'x', devices: 1 }), code: 'DCIM_E_MQTT_PAYLOAD_INVALID' },
    { name: 'telemetry topic', topic: TOPIC, payload: buf({}), code: 'DCIM_E_MQTT_TOPIC_INVALID' },
    { name: 'not JSON', topic: 'dcim/v1/demo/agents/edge-1/state', payload: buf('online'), code: 'DCIM_E_MQTT_PAYLOAD_INVALID' },
  ])('refuses $name', ({ topic, payload, code }) => {
    const r = decodeState(topic, payload);
    expect(!r.ok && r.reason.code).toBe(code);
  });
});
