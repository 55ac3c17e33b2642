import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { Publisher } from '../../../agent/publisher.js';
import { SpoolOutbox } from '../../../agent/telemetry-outbox.js';
import { agentUser, brokerAcl, command, passwordLine } from '../../../cli/commands/broker-config.js';
import { Collector } from '../../../collector/collector.js';
import { ManualClock, SystemClock } from '../../../contract/clock.js';
import { SiteInventorySchema, type SiteInventory } from '../../../contract/inventory.js';
import { loadYamlFile } from '../../../shared/config/load.js';
import { memoryLogger } from '../../../shared/log.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { Spool } from '../../../shared/spool/spool.js';
import { topics } from '../../../contract/topics.js';
import type { TelemetryMessage } from '../../../contract/messages.js';
import { RecordingSink } from '../../collector/support/recording-sink.js';
import { startMosquitto } from '../../support/mosquitto.js';
import { makeTestCertificates } from '../../support/test-ca.js';
import { useService } from '../../support/require-service.js';
import { until } from '../../support/until.js';
import { REPO_ROOT } from '../../support/repo-path.js';

/**
 * `dcim broker-config` against a real mosquitto 2 running the shipped
 * collector/deploy/mosquitto-dcim-auth.conf with the ACL and password file the command wrote:
 * the broker refuses anonymous clients, lets each agent publish only its own branch and
 * devices, lets only the collector publish KPIs and alerts; under MQTT 5 a denied publish comes
 * back as reason 0x87 and stays in the agent's spool; a client holding agent A's password cannot
 * get a message counted as agent B (the broker denies B's topic, the collector refuses B's name on
 * A's topic).
 */
/** The PUBACK reason code of a QoS 1 publish: 0 accepted, 0x87 not authorized (MQTT 5). */
async function pubackCode(c: MqttClient, topic: string, payload: string): Promise<number> {
  try {
    await c.publishAsync(topic, payload, { qos: 1 });
    return 0;
  } catch (e) {
    return (e as { code?: number }).code ?? -1;
  }
}

const ROOT = REPO_ROOT;
const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);

/** seeds/minimal.yaml with its two devices split between two agents. */
function twoAgentSite(): SiteInventory {
  const inv = loadYamlFile(SiteInventorySchema, path.join(ROOT, 'seeds/minimal.yaml'));
  return SiteInventorySchema.parse({ ...inv, site: { ...inv.site, agent: 'edge-1' }, devices: inv.devices.map((d) => (d.id === 'meter-incomer-1' ? { ...d, agent: 'edge-2' } : d)) });
}

const scratch = mkdtempSync(path.join(tmpdir(), 'dcim-broker-config-'));
const PASSWORDS: Record<string, string> = { collector: 'collector-secret-1', 'demo.edge-1': 'edge-one-secret-1', 'demo.edge-2': 'edge-two-secret-2' };
const passwordDir = path.join(scratch, 'passwords');
const outDir = path.join(scratch, 'out');
const seedFile = path.join(scratch, 'site.yaml');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs the command as an operator would, then the shipped auth config pointed at its output. */
async function generate(): Promise<string[]> {
  mkdirSync(passwordDir, { recursive: true, mode: 0o700 });
  for (const [user, pw] of Object.entries(PASSWORDS)) writeFileSync(path.join(passwordDir, user), `${pw}\n`, { mode: 0o600 });
  writeFileSync(seedFile, JSON.stringify(twoAgentSite()));
  const log = console.log;
  console.log = () => undefined;
  try {
    expect(await command.run(['--inventory', seedFile, '--password-dir', passwordDir, '--out', outDir])).toBe(0);
  } finally {
    console.log = log;
  }
  // The listeners and TLS files are the deployment's; the test broker has its own loopback listener.
  return readFileSync(path.join(ROOT, 'collector/deploy/mosquitto-dcim-auth.conf'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !/^(listener|cafile|certfile|keyfile|tls_version|require_certificate|use_identity_as_username)\b/.test(l))
    .map((l) => l.replace('/etc/mosquitto/dcim/', `${outDir}/`));
}

const poll = (agent: string, device: string, seq: number): TelemetryMessage => ({
  schema: 1,
  agent,
  site: 'demo',
  device,
  class: device.startsWith('pdu') ? 'pdu' : 'meter',
  seq,
  ts: T0 + seq * 1000,
  readings: [{ point: 'active_power_w', value: 1000 + seq, unit: 'W', quality: 'good' }],
  poll: { ms: 5, requests: 1, retries: 0 },
});

describe('dcim broker-config: the ACL and password file', () => {
  it('gives each agent its state and its own devices, the collector the reads and the KPI and alert topics', () => {
    const { acl, users } = brokerAcl({ inventories: [twoAgentSite()], viewers: ['grafana'] });
    expect(users).toEqual(['collector', 'grafana', 'demo.edge-1', 'demo.edge-2']);
    const block = (user: string) => acl.split('\n\n').find((b) => b.includes(`user ${user}\n`))!.split('\n').filter((l) => l.startsWith('topic '));
    expect(block('demo.edge-1')).toEqual([
      'topic write dcim/v1/demo/agents/edge-1/state',
      'topic write dcim/v1/demo/agents/edge-1/devices/pdu-r01-a/telemetry',
      'topic write dcim/v1/demo/agents/edge-1/devices/pdu-r01-a/status',
    ]);
    expect(block('collector')).toEqual([
      'topic read dcim/v1/demo/agents/+/state',
      'topic read dcim/v1/demo/agents/+/devices/+/telemetry',
      'topic read dcim/v1/demo/agents/+/devices/+/status',
      'topic readwrite dcim/v1/demo/kpi',
      'topic readwrite dcim/v1/demo/alerts/+',
      'topic readwrite dcim/v1/demo/summary/+',
      'topic readwrite dcim/v1/guian/kpi',
    ]);
    expect(block('grafana')).toEqual(['topic read dcim/v1/demo/kpi', 'topic read dcim/v1/guian/kpi', 'topic read dcim/v1/demo/alerts/+']);
  });

  it('refuses an inventory with a device no agent owns, and a user named twice', () => {
    const open = loadYamlFile(SiteInventorySchema, path.join(ROOT, 'seeds/minimal.yaml'));
    const unowned = { ...open, site: { ...open.site, agent: undefined } };
    expect(() => brokerAcl({ inventories: [unowned] })).toThrow(/2 device\(s\) name no owning agent/);
    expect(() => brokerAcl({ inventories: [twoAgentSite()], viewers: ['demo.edge-1'] })).toThrow(/user demo.edge-1 is named twice/);
  });

  it('hashes passwords the way mosquitto_passwd does ($7$: PBKDF2-SHA512, 101 rounds)', () => {
    // Reference: mosquitto_passwd 2.0 writes `user:$7$101$<salt b64>$<hash b64>` (12-byte salt, 64-byte hash).
    const line = passwordLine('demo.edge-1', 'x', Buffer.alloc(12, 1));
    expect(line).toMatch(/^demo\.edge-1:\$7\$101\$AQEBAQEBAQEBAQEB\$[A-Za-z0-9+/]{86}==$/);
  });

  it('names the missing passwords without printing any', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dcim-broker-config-missing-'));
    try {
      writeFileSync(path.join(dir, 'collector'), 'collector-secret-1\n', { mode: 0o600 });
      const seed = path.join(dir, 'site.yaml');
      writeFileSync(seed, JSON.stringify(twoAgentSite()));
      await expect(command.run(['--inventory', seed, '--password-dir', dir, '--out', path.join(dir, 'out')])).rejects.toMatchObject({
        code: 'DCIM_E_SECRET_MISSING',
        message: expect.stringMatching(/2 password\(s\) missing[\s\S]*demo\.edge-1[\s\S]*demo\.edge-2/),
      });
      expect(() => statSync(path.join(dir, 'out', 'acl'))).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('dcim broker-config on a real mosquitto with the shipped auth config', () => {
  let lines: string[] = [];
  const broker = useService('mosquitto', async () => {
    lines = await generate();
    return startMosquitto({ config: lines });
  });
  const clients: MqttClient[] = [];
  afterAll(async () => {
    for (const c of clients.splice(0)) await c.endAsync(true);
  });

  const connect = async (user: string | undefined, password = user !== undefined ? PASSWORDS[user] : undefined): Promise<MqttClient> => {
    const c = await mqtt.connectAsync(broker().url, {
      protocolVersion: 5,
      clientId: `t-${user ?? 'anon'}-${clients.length}`,
      reconnectPeriod: 0,
      ...(user !== undefined ? { username: user } : {}),
      ...(password !== undefined ? { password } : {}),
    });
    clients.push(c);
    return c;
  };

  it('ships allow_anonymous false, bounded packets and queues, and the generated files', () => {
    expect(lines).toEqual(expect.arrayContaining(['allow_anonymous false', 'max_packet_size 263168', 'max_queued_bytes 2147483648', `password_file ${outDir}/passwd`, `acl_file ${outDir}/acl`]));
    expect(statSync(path.join(outDir, 'passwd')).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(outDir, 'passwd'), 'utf8')).not.toContain('secret');
  });

  it('refuses a client without credentials or with a wrong password', async () => {
    const refusal = (p: Promise<unknown>) => p.then(() => 0, (e: { code?: number }) => e.code ?? -1);
    // CONNACK 0x87 not authorized (mosquitto 2 answers both cases so; 0x86 bad user name or password elsewhere).
    expect([0x86, 0x87]).toContain(await refusal(connect(undefined)));
    expect([0x86, 0x87]).toContain(await refusal(connect('demo.edge-1', 'edge-two-secret-2')));
    expect(await refusal(connect('demo.edge-1'))).toBe(0);
  });

  it('lets an agent publish its own devices only; nobody but the collector publishes KPIs and alerts', async () => {
    const edge1 = await connect('demo.edge-1');
    const collector = await connect('collector');
    const seen: string[] = [];
    collector.on('message', (topic) => seen.push(topic));
    await collector.subscribeAsync([topics.filters.telemetry('demo'), topics.filters.kpi('demo')], { qos: 1 });

    const own = topics.telemetry('demo', 'edge-1', 'pdu-r01-a');
    expect(await pubackCode(edge1, own, JSON.stringify(poll('edge-1', 'pdu-r01-a', 1)))).toBe(0);
    // Another agent's branch, a device of another agent on its own branch, the KPI and an alert: 0x87.
    expect(await pubackCode(edge1, topics.telemetry('demo', 'edge-2', 'meter-incomer-1'), JSON.stringify(poll('edge-2', 'meter-incomer-1', 1)))).toBe(0x87);
    expect(await pubackCode(edge1, topics.telemetry('demo', 'edge-1', 'meter-incomer-1'), JSON.stringify(poll('edge-1', 'meter-incomer-1', 1)))).toBe(0x87);
    expect(await pubackCode(edge1, topics.agentState('demo', 'edge-2'), '{}')).toBe(0x87);
    expect(await pubackCode(edge1, topics.kpi('demo'), '{}')).toBe(0x87);
    expect(await pubackCode(edge1, topics.alert('demo', 'a1'), '{}')).toBe(0x87);
    expect(await pubackCode(edge1, topics.legacy.telemetry('demo', 'pdu-r01-a'), '{}')).toBe(0x87);
    // The site's summaries for the bureau: the collector's alone.
    expect(await pubackCode(edge1, topics.summary('demo', '15m'), '{}')).toBe(0x87);
    expect(await pubackCode(collector, topics.summary('guian', '15m'), '{}')).toBe(0x87);
    expect(await pubackCode(collector, topics.summary('demo', '15m'), '{"probe":1}')).toBe(0);
    expect(await pubackCode(collector, topics.kpi('demo'), '{"probe":1}')).toBe(0);

    await until('the allowed messages delivered', () => seen.includes(own) && seen.includes(topics.kpi('demo')));
    expect(seen.sort()).toEqual([topics.kpi('demo'), own].sort());
  });

  it("agent A's password cannot get a message counted as agent B's, nor move B's dedup floor", async () => {
    const sink = new RecordingSink();
    const logger = memoryLogger();
    const collector = new Collector({
      id: 'acl',
      inventories: [twoAgentSite()],
      mqtt: { url: broker().url, username: 'collector', password: PASSWORDS.collector!, clientId: 'acl-collector' },
      sink,
      profiles: loadProfiles(),
      logger,
      clock: new ManualClock(T0 + 10_000),
      kpiIntervalMs: 60_000,
    });
    await collector.start();
    try {
      const edge1 = await connect('demo.edge-1');
      // B's own topic: the broker denies it.
      expect(await pubackCode(edge1, topics.telemetry('demo', 'edge-2', 'meter-incomer-1'), JSON.stringify(poll('edge-2', 'meter-incomer-1', 7)))).toBe(0x87);
      // A's topic carrying B's name, with seqs far ahead (the dedup-poisoning attack): the broker
      // lets them through, the collector refuses every one before dedup.
      for (let i = 0; i < 300; i++) expect(await pubackCode(edge1, topics.telemetry('demo', 'edge-1', 'pdu-r01-a'), JSON.stringify({ ...poll('edge-2', 'pdu-r01-a', 1_000_000_000 + i), ts: T0 + 8000 }))).toBe(0);
      // A's real poll still counts, and so does B's next real poll with its small seq.
      expect(await pubackCode(edge1, topics.telemetry('demo', 'edge-1', 'pdu-r01-a'), JSON.stringify(poll('edge-1', 'pdu-r01-a', 9)))).toBe(0);
      const edge2 = await connect('demo.edge-2');
      expect(await pubackCode(edge2, topics.telemetry('demo', 'edge-2', 'meter-incomer-1'), JSON.stringify(poll('edge-2', 'meter-incomer-1', 5)))).toBe(0);
      await until('every message that passed the broker', () => collector.stats().messages_received === 302);
      expect(collector.stats()).toMatchObject({ messages_invalid: 300, duplicates: 0, readings_accepted: 2, invalid_by_code: { DCIM_E_MQTT_AGENT_MISMATCH: 300 } });
    } finally {
      await collector.stop();
    }
  });

  it('under MQTT 5 a publish the ACL denies stays in the spool, counted, and goes out once the ACL grants it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dcim-broker-config-spool-'));
    const clock = new SystemClock();
    const logger = memoryLogger();
    const spool = new Spool({ dir, maxBytes: 1024 * 1024, maxAgeMs: 3_600_000, clock, logger });
    spool.open();
    // edge-1's identity, but its inventory copy gives it the meter: the broker's ACL does not.
    const publisher = new Publisher({ url: broker().url, clientId: 'acl-edge-1', username: 'demo.edge-1', password: PASSWORDS['demo.edge-1']!, site: 'demo', agentId: 'edge-1', devices: 2, version: '0.1.0', bdSeq: { next: () => 1 }, clock, logger, reconnectPeriodMs: 100 });
    const outbox = new SpoolOutbox({ spool, publisher, clock, logger });
    const collector = await connect('collector');
    const seen: string[] = [];
    collector.on('message', (_t, payload) => seen.push(payload.toString()));
    await collector.subscribeAsync(topics.filters.telemetry('demo'), { qos: 1 });
    try {
      publisher.start();
      expect(await publisher.whenConnected(20_000)).toBe(true);
      outbox.start();
      outbox.submit(poll('edge-1', 'meter-incomer-1', 1));
      await until('the broker refused it', () => publisher.stats().refused_by_broker >= 1);
      await until('settled', () => outbox.stats().in_flight === 0);
      expect(outbox.stats()).toMatchObject({ published: 0, live_pending: 1 });
      expect(spool.countPending(spool.floor, spool.nextId)).toBe(1);
      expect(logger.lines.filter((l) => l.code === 'DCIM_E_MQTT_PUBLISH_REFUSED')).toHaveLength(1);
      expect(seen).toEqual([]);

      // The operator gives the meter to edge-1 and reloads the broker: the kept message goes out.
      const regranted = SiteInventorySchema.parse({ ...twoAgentSite(), devices: twoAgentSite().devices.map((d) => ({ ...d, agent: 'edge-1' })) });
      writeFileSync(path.join(outDir, 'acl'), brokerAcl({ inventories: [regranted] }).acl);
      process.kill(broker().pid!, 'SIGHUP');
      await until('the broker reloaded its ACL', async () => (await pubackCode(await connect('demo.edge-1'), topics.telemetry('demo', 'edge-1', 'meter-incomer-1'), JSON.stringify(poll('edge-1', 'meter-incomer-1', 99)))) === 0);
      outbox.submit(poll('edge-1', 'pdu-r01-a', 2));
      await until('the spool emptied', () => outbox.stats().published === 2, 60_000);
      expect(seen.map((s) => (JSON.parse(s) as TelemetryMessage).seq)).toEqual(expect.arrayContaining([1, 2]));
      expect(spool.countPending(spool.floor, spool.nextId)).toBe(0);
    } finally {
      await outbox.stop(1000);
      await publisher.stop();
      await spool.close();
      writeFileSync(path.join(outDir, 'acl'), brokerAcl({ inventories: [twoAgentSite()] }).acl);
      process.kill(broker().pid!, 'SIGHUP');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('agentUser is <site>.<agent>', () => {
    expect(agentUser('demo', 'edge-1')).toBe('demo.edge-1');
  });
});

describe('dcim broker-config --identity certificate on a real mosquitto (use_identity_as_username)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'dcim-broker-config-tls-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const broker = useService('mosquitto', async () => {
    makeTestCertificates(dir, ['collector', 'demo.edge-1', 'demo.edge-2']);
    const seed = path.join(dir, 'site.yaml');
    writeFileSync(seed, JSON.stringify(twoAgentSite()));
    const log = console.log;
    console.log = () => undefined;
    try {
      expect(await command.run(['--inventory', seed, '--identity', 'certificate', '--out', path.join(dir, 'out')])).toBe(0);
    } finally {
      console.log = log;
    }
    expect(() => statSync(path.join(dir, 'out', 'passwd'))).toThrow();
    // The shipped file's TLS lines, applied to the test broker's loopback listener.
    const shipped = readFileSync(path.join(ROOT, 'collector/deploy/mosquitto-dcim-auth.conf'), 'utf8').split('\n').map((l) => l.trim());
    const config = shipped
      .filter((l) => l !== '' && !l.startsWith('#') && !/^(listener|password_file|require_certificate)\b/.test(l))
      .map((l) => l.replace('/etc/mosquitto/dcim/acl', path.join(dir, 'out', 'acl')).replace('/etc/mosquitto/dcim/', `${dir}/`));
    config.push('require_certificate true', ...shipped.filter((l) => l === '# use_identity_as_username true').map((l) => l.slice(2)));
    return startMosquitto({ config });
  });
  const clients: MqttClient[] = [];
  afterAll(async () => {
    for (const c of clients.splice(0)) await c.endAsync(true);
  });
  const connect = async (cert: string | undefined): Promise<MqttClient> => {
    const c = await mqtt.connectAsync(`mqtts://127.0.0.1:${broker().port}`, {
      protocolVersion: 5,
      clientId: `tls-${cert ?? 'none'}-${clients.length}`,
      reconnectPeriod: 0,
      ca: readFileSync(path.join(dir, 'ca.pem')),
      ...(cert !== undefined ? { cert: readFileSync(path.join(dir, `${cert}.pem`)), key: readFileSync(path.join(dir, `${cert}.key`)) } : {}),
    });
    clients.push(c);
    return c;
  };

  it("agent A's certificate is agent A everywhere: B's topics are denied, B's name on A's topic is refused by the collector", async () => {
    await expect(connect(undefined)).rejects.toThrow();
    const collector = new Collector({
      id: 'tls',
      inventories: [twoAgentSite()],
      mqtt: { url: `mqtts://127.0.0.1:${broker().port}`, clientId: 'tls-collector', tls: { ca: readFileSync(path.join(dir, 'ca.pem')), cert: readFileSync(path.join(dir, 'collector.pem')), key: readFileSync(path.join(dir, 'collector.key')) } },
      sink: new RecordingSink(),
      profiles: loadProfiles(),
      logger: memoryLogger(),
      clock: new ManualClock(T0 + 10_000),
      kpiIntervalMs: 60_000,
    });
    await collector.start();
    try {
      const stolen = await connect('demo.edge-1');
      expect(await pubackCode(stolen, topics.telemetry('demo', 'edge-2', 'meter-incomer-1'), JSON.stringify(poll('edge-2', 'meter-incomer-1', 1)))).toBe(0x87);
      expect(await pubackCode(stolen, topics.agentState('demo', 'edge-2'), JSON.stringify({ online: false, ts: T0, version: 'x', devices: 1, bd_seq: 9 }))).toBe(0x87);
      expect(await pubackCode(stolen, topics.kpi('demo'), '{}')).toBe(0x87);
      expect(await pubackCode(stolen, topics.telemetry('demo', 'edge-1', 'pdu-r01-a'), JSON.stringify(poll('edge-2', 'pdu-r01-a', 2)))).toBe(0);
      expect(await pubackCode(stolen, topics.telemetry('demo', 'edge-1', 'pdu-r01-a'), JSON.stringify(poll('edge-1', 'pdu-r01-a', 3)))).toBe(0);
      await until('what passed the broker', () => collector.stats().messages_received === 2);
      expect(collector.stats()).toMatchObject({ readings_accepted: 1, invalid_by_code: { DCIM_E_MQTT_AGENT_MISMATCH: 1 } });
      expect(collector.agentStates('demo').size).toBe(0);
    } finally {
      await collector.stop();
    }
  });
});
