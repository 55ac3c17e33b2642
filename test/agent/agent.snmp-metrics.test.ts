import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import { messageKey } from '../../agent/snmp/message-id.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../cli/embedded-broker.js';
import { SiteInventorySchema, SnmpProfileSchema, type DeviceProfile } from '../../contract/index.js';
import { memoryLogger } from '../../shared/log.js';
import { parseExposition, type ParsedFamily } from './metrics/parse-exposition.js';
import { int, snmpMessage, varbind } from '../support/snmp-ber.js';
import { until } from '../support/until.js';

/**
 * A real agent polls one SNMP v2c device on 127.0.0.1 whose scripted responder first sends a
 * datagram that is not SNMP at all (no request-id to read: `malformed`, the GET times out), then
 * an answer in another community and one in another version (`invalid`, DCIM_E_SNMP_MALFORMED),
 * then good answers. The counts differ (1 and 2) so one cannot pass for the other. The timeout is
 * generous so that a good answer never comes late (it would count `stray`) on a loaded machine.
 * The refusals must show on the agent's /metrics, in its stats and in the health map of its
 * retained state.
 */

const OID = '1.3.6.1.4.1.32473.99.1.0';
const answer = (version: number, community: string, id: number) => snmpMessage({ version, community, id, varbinds: [varbind(OID, int(7))] });

/** What the responder sends to its n-th request (0-based). */
const script = (n: number, id: number, version: number): Buffer => {
  if (n === 0) return Buffer.from('not snmp at all');
  if (n === 1) return answer(version, 'private', id);
  if (n === 2) return answer(0, 'public', id); // SNMPv1 to a v2c request
  return answer(version, 'public', id);
};

const profile = SnmpProfileSchema.parse({
  id: 'crafted-snmp',
  class: 'generic',
  vendor: 'test',
  model: 'crafted',
  protocol: 'snmp',
  points: [{ name: 'a_count', oid: OID, type: 'integer', unit: 'count' }],
  test_vectors: [{ point: 'a_count', raw: 1, expected: 1 }],
});

let responder: dgram.Socket;
let requests = 0;
let broker: EmbeddedBroker;
let agent: Agent;
let stateDir: string;
let watcher: mqtt.MqttClient;
let lastHealth: Record<string, number> | undefined;

beforeAll(async () => {
  responder = dgram.createSocket('udp4');
  responder.on('message', (msg, rinfo) => {
    const key = messageKey(msg);
    if (!key) return;
    responder.send(script(requests++, key.id, key.version), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => responder.bind(0, '127.0.0.1', () => r()));
  const port = responder.address().port;

  const inventory = SiteInventorySchema.parse({
    site: { id: 'demo', name: 'Demo', timezone: 'UTC', agent: 'edge-1' },
    halls: [{ id: 'h1', name: 'Hall 1' }],
    racks: [{ id: 'r01', hall: 'h1', rated_kw: 12 }],
    devices: [{ id: 'crafted-1', profile: profile.id, rack: 'r01', address: { protocol: 'snmp', host: '127.0.0.1', port, version: '2c', community: 'public' }, interval_s: 1 }],
  });
  broker = await startEmbeddedBroker();
  watcher = await mqtt.connectAsync(broker.url);
  watcher.on('message', (_topic, payload) => {
    const state = JSON.parse(payload.toString()) as { health?: Record<string, number> };
    if (state.health) lastHealth = state.health;
  });
  await watcher.subscribeAsync('dcim/v1/demo/agents/edge-1/state');
  stateDir = mkdtempSync(join(tmpdir(), 'dcim-agent-snmp-metrics-'));
  agent = new Agent({
    id: 'edge-1',
    inventory,
    profiles: new Map<string, DeviceProfile>([[profile.id, profile]]),
    mqtt: { url: broker.url },
    stateDir,
    logger: memoryLogger('error'),
    snmp: { timeoutMs: 2000, retries: 0 },
    reconnectPeriodMs: 100,
    metrics: { host: '127.0.0.1', port: 0 },
    health: { intervalMs: 300 },
  });
  await agent.start();
}, 20_000);

afterAll(async () => {
  await agent?.stop();
  await watcher?.endAsync();
  await broker?.stop();
  await new Promise<void>((r) => (responder ? responder.close(() => r()) : r()));
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

async function scrape(): Promise<Map<string, ParsedFamily>> {
  const res = await fetch(agent.metricsUrl() as string);
  expect(res.status).toBe(200);
  return parseExposition(await res.text());
}

const v = (m: Map<string, ParsedFamily>, name: string, labels: Record<string, string> = {}) =>
  m.get(name)?.samples.find((s) => Object.entries({ site: 'demo', agent: 'edge-1', ...labels }).every(([k, x]) => s.labels[k] === x))?.value;

describe('agent: SNMP answers refused by the shared socket pool', () => {
  it('counts a garbled datagram as malformed, another community or version as invalid, on /metrics and in the health map', async () => {
    // The fourth request is answered well: by then every refusal has been counted.
    await until('a good SNMP answer after the three bad ones', () => requests >= 4 && agent.stats().polling.devices['crafted-1']?.last_ok != null, 20_000, () => `${requests} requests, ${JSON.stringify(agent.stats().snmp)}`);
    const m = await scrape();
    expect(m.get('dcim_agent_snmp_answers_refused_total')?.help).toMatch(/invalid .*malformed .*stray/);
    expect(v(m, 'dcim_agent_snmp_answers_refused_total', { reason: 'malformed' })).toBe(1);
    expect(v(m, 'dcim_agent_snmp_answers_refused_total', { reason: 'invalid' })).toBe(2);
    expect(v(m, 'dcim_agent_snmp_answers_refused_total', { reason: 'stray' })).toBe(0);
    // The garbled datagram named no request, so its GET waited for the timeout.
    expect(v(m, 'dcim_agent_snmp_timeouts_total')).toBe(1);
    expect(v(m, 'dcim_agent_snmp_requests_total')).toBeGreaterThanOrEqual(4);
    expect(v(m, 'dcim_agent_snmp_datagrams_received_total')).toBeGreaterThanOrEqual(4);
    expect(v(m, 'dcim_agent_snmp_sockets')).toBe(1);
    expect(v(m, 'dcim_agent_snmp_send_errors_total')).toBe(0);
    expect(v(m, 'dcim_agent_snmp_socket_errors_total')).toBe(0);
    expect(agent.stats().snmp).toMatchObject({ malformed: 1, invalid_answers: 2, stray: 0, timeouts: 1 });

    // Malformed plus invalid; the health map is republished every 300 ms.
    await until('a health map counting the three refusals', () => lastHealth?.['snmp_refused_answers_count'] === 3, 20_000, () => JSON.stringify(lastHealth));
  }, 60_000);

  it('reports zeros once stopped', async () => {
    await agent.stop();
    expect(agent.stats().snmp).toEqual({ sockets: 0, sessions: 0, sent: 0, received: 0, stray: 0, malformed: 0, send_errors: 0, socket_errors: 0, requests: 0, timeouts: 0, invalid_answers: 0, pending: 0 });
  });
});
