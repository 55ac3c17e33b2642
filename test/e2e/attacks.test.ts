import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { AlertsConfigSchema, createAlertEngine } from '../../collector/alerts/index.js';
import { Collector } from '../../collector/collector.js';
import { createSink } from '../../collector/store/create-sink.js';
import { ManualClock } from '../../contract/clock.js';
import { SiteInventorySchema, type SiteInventory } from '../../contract/inventory.js';
import { memoryLogger } from '../../shared/log.js';
import type { KpiMessage, Reading } from '../../contract/messages.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { topics } from '../../contract/topics.js';
import { freePort } from '../support/free-port.js';
import type { InfluxV1 } from '../support/influxdb-v1.js';
import { startInfluxV1 } from '../support/influxdb-v1.js';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.js';
import { useService } from '../support/require-service.js';
import { until } from '../support/until.js';
import { securedBrokerFiles, type SecuredBrokerFiles } from './support/secured-broker.js';

/**
 * The trust boundaries end to end, as an attacker on the broker would probe them. One site
 * (agent edge-1 owns two PDUs and the incomer, agent edge-2 the green feed), a real mosquitto
 * running the shipped auth config with the ACL and password file `dcim broker-config` wrote (and
 * its TLS listener taking client certificates as identities), the collector with its alert engine
 * and HTTP API writing to a real InfluxDB 1.x, and a scripted agent pair publishing the same polls
 * through MQTT 5 with their own credentials. A ManualClock drives polls and KPI ticks 5 s apart
 * across a closed 15-minute window.
 *
 * Run 1 has no attacker; run 2 adds every attack of the threat model beside the same traffic.
 * Every attack is refused (by the broker, reason 0x87 or a refused CONNECT, or by the collector
 * with its code and counter) or bounded, the KPI messages of both runs are identical, every real
 * reading is stored in both, and the collector's heap grows by less than HEAP_BOUND_MB under a
 * flood of FLOOD_READINGS forged series.
 */
const T_WINDOW = Date.UTC(2026, 2, 2, 0, 0, 0);
const START = T_WINDOW - 60_000;
const STEP_MS = 5000;
/** Past the first 15-minute window's close (and the settle time that follows it). */
const STEPS = 216;
const FLOOD_MESSAGES = 200;
const FLOOD_PER_MESSAGE = 500;
const FLOOD_READINGS = FLOOD_MESSAGES * FLOOD_PER_MESSAGE;
const HEAP_BOUND_MB = 16;
/** Index values a device keeps per index tag (collector/ingest/series-budget.ts). */
const SERIES_PER_TAG = 256;
const MAX_CONNECTIONS = 8;
const TOKEN = 'attack-suite-token-0123456789abcdef';
const PASSWORDS: Record<string, string> = { collector: 'collector-secret-1', 'demo.edge-1': 'edge-one-secret-1', 'demo.edge-2': 'edge-two-secret-2' };

const snmp = (community: string) => ({ protocol: 'snmp', host: '127.0.0.1', port: 16161, version: '2c', community });
const modbus = (unit_id: number) => ({ protocol: 'modbus', host: '127.0.0.1', port: 15020, unit_id });
const SITE: SiteInventory = SiteInventorySchema.parse({
  site: { id: 'demo', name: 'Attack suite hall', timezone: 'Asia/Shanghai', agent: 'edge-1' },
  targets: { pue: 1.2, rack_occupancy: 0.7, green_share: 0.3 },
  halls: [{ id: 'h1', name: 'Hall 1' }],
  racks: [
    { id: 'r01', hall: 'h1', rated_kw: 12 },
    { id: 'r02', hall: 'h1', rated_kw: 12 },
  ],
  devices: [
    { id: 'pdu-r01-a', profile: 'apc-rpdu2', rack: 'r01', address: snmp('public'), interval_s: 5, meter: { role: 'it', level: 'pdu_out', rated_kw: 12 } },
    { id: 'pdu-r02-a', profile: 'apc-rpdu2', rack: 'r02', address: snmp('pdu-r02-a'), interval_s: 5, meter: { role: 'it', level: 'pdu_out', rated_kw: 12 } },
    { id: 'meter-incomer-1', profile: 'eastron-sdm630', hall: 'h1', address: modbus(1), interval_s: 5, meter: { role: 'facility_in', rated_kw: 40 } },
    { id: 'meter-green-feed', profile: 'wattnode-wnd', hall: 'h1', agent: 'edge-2', address: modbus(3), interval_s: 5, meter: { role: 'green_feed', rated_kw: 40 } },
  ],
});
const profiles = loadProfiles();

// The collector's heap, measured after a full collection (the bound is on what it retains).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapMb = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

/** The real agents' polls: fixed power figures and counters that integrate them, per step. */
interface RealPoll {
  agent: 'edge-1' | 'edge-2';
  device: string;
  cls: 'pdu' | 'meter';
  readings: Reading[];
}
function realPolls(step: number): RealPoll[] {
  const hours = (step * STEP_MS) / 3_600_000;
  const p1 = 4000 + 10 * (step % 5);
  const p2 = 3000 + 20 * (step % 3);
  const facility = Math.round((p1 + p2) * 1.3);
  const kwh = (base: number, watts: number, digits: number) => Math.round((base + (watts / 1000) * hours) * 10 ** digits) / 10 ** digits;
  const pdu = (w: number, base: number): Reading[] => [
    { point: 'load_state', value: 'normal', quality: 'good' },
    { point: 'active_power_w', value: w, unit: 'W', quality: 'good' },
    { point: 'energy_kwh', value: kwh(base, 4000, 1), unit: 'kWh', quality: 'good' },
  ];
  const meter = (w: number, base: number, avg: number): Reading[] => [
    { point: 'active_power_w', value: w, unit: 'W', quality: 'good' },
    { point: 'energy_kwh', value: kwh(base, avg, 3), unit: 'kWh', quality: 'good' },
  ];
  return [
    { agent: 'edge-1', device: 'pdu-r01-a', cls: 'pdu', readings: pdu(p1, 1200) },
    { agent: 'edge-1', device: 'pdu-r02-a', cls: 'pdu', readings: pdu(p2, 800) },
    { agent: 'edge-1', device: 'meter-incomer-1', cls: 'meter', readings: meter(facility, 50_000, 9100) },
    { agent: 'edge-2', device: 'meter-green-feed', cls: 'meter', readings: meter(2500, 7000, 2500) },
  ];
}

const telemetry = (agent: string, device: string, cls: string, seq: number, ts: number, readings: readonly unknown[]) =>
  JSON.stringify({ schema: 1, agent, site: 'demo', device, class: cls, seq, ts, readings, poll: { ms: 5, requests: 1, retries: 0 } });

/** The PUBACK reason code: 0 accepted, 0x87 not authorized. */
async function pubackCode(c: MqttClient, topic: string, payload: string, retain = false): Promise<number> {
  try {
    await c.publishAsync(topic, payload, { qos: 1, retain });
    return 0;
  } catch (e) {
    return (e as { code?: number }).code ?? -1;
  }
}
const connectRefusal = (p: Promise<MqttClient>): Promise<number> =>
  p.then(
    async (c) => {
      await c.endAsync(true);
      return 0;
    },
    (e: { code?: number }) => e.code ?? -1,
  );

interface RunResult {
  kpis: KpiMessage[];
  stats: ReturnType<Collector['stats']>;
  alerts: { rule: string; state: string; labels: unknown }[];
  stored: Record<string, unknown[][]>;
  fieldTypes: unknown[][];
  phaseSeries: number;
  heapGrowthMb?: number;
  expected: Record<string, unknown[][]>;
}

describe('attacks against a secured site: every one refused or bounded, the KPIs unchanged', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'dcim-attacks-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  let files: SecuredBrokerFiles | undefined;
  let tlsPort = 0;
  const broker = useService<Mosquitto>('mosquitto', async () => {
    tlsPort = await freePort();
    files = await securedBrokerFiles(scratch, SITE, PASSWORDS, tlsPort);
    return startMosquitto({ config: files.config });
  });
  const influx = useService<InfluxV1>('influxd', () => startInfluxV1());
  const clients: MqttClient[] = [];
  afterAll(async () => {
    for (const c of clients.splice(0)) await c.endAsync(true).catch(() => undefined);
  });

  const connect = async (user: string | undefined, password = user !== undefined ? PASSWORDS[user] : undefined, clientId = `attack-${user ?? 'anon'}-${clients.length}`): Promise<MqttClient> => {
    const c = await mqtt.connectAsync(broker().url, { protocolVersion: 5, clientId, reconnectPeriod: 0, ...(user !== undefined ? { username: user } : {}), ...(password !== undefined ? { password } : {}) });
    clients.push(c);
    return c;
  };
  /** The TLS listener: the certificate's CN is the user, whatever CONNECT claims. */
  const connectCert = async (cert: string | undefined, claim?: string): Promise<MqttClient> => {
    const f = files!;
    const c = await mqtt.connectAsync(`mqtts://127.0.0.1:${tlsPort}`, {
      protocolVersion: 5,
      clientId: `attack-cert-${cert ?? 'none'}-${clients.length}`,
      reconnectPeriod: 0,
      ca: f.pem('ca.pem'),
      ...(cert !== undefined ? { cert: f.pem(`${cert}.pem`), key: f.pem(`${cert}.key`) } : {}),
      ...(claim !== undefined ? { username: claim } : {}),
    });
    clients.push(c);
    return c;
  };

  async function run(label: 'clean' | 'attacked'): Promise<RunResult> {
    const attacked = label === 'attacked';
    const database = `attacks_${label}`;
    await influx().createDatabase(database);
    const clock = new ManualClock(START);
    const logger = memoryLogger();
    const sink = createSink({ kind: 'influx_v1', url: influx().url, database, batch_lines: 1000 }, { clock, logger });
    const alerts = createAlertEngine(AlertsConfigSchema.parse({}), { inventories: [SITE], profiles, clock, logger, publish: (site, id, msg) => collector.publishAlert(site, id, msg) });
    const kpis: KpiMessage[] = [];
    const collector = new Collector({
      id: `attacks-${label}`,
      inventories: [SITE],
      mqtt: { url: broker().url, username: 'collector', password: PASSWORDS.collector!, clientId: `attacks-collector-${label}` },
      sink,
      profiles,
      logger,
      clock,
      kpiIntervalMs: STEP_MS,
      alerts,
      http: { host: '127.0.0.1', port: 0, token: TOKEN, max_connections: MAX_CONNECTIONS },
      onKpi: (m) => kpis.push(m),
    });
    await collector.start();
    const a = await connect('demo.edge-1', undefined, `edge-1-${label}`);
    const b = await connect('demo.edge-2', undefined, `edge-2-${label}`);
    /** Publishes the broker accepted on topics the collector reads: each reaches the collector once. */
    let passed = 0;
    const send = async (c: MqttClient, topic: string, payload: string, retain = false): Promise<number> => {
      const code = await pubackCode(c, topic, payload, retain);
      if (code === 0) passed++;
      return code;
    };
    const settled = (what: string) => until(what, () => collector.stats().messages_received === passed, 60_000, () => `${collector.stats().messages_received} of ${passed}`, 2);
    /** What the collector refused since the last call, by code, once everything sent has arrived. */
    let seenCodes: Record<string, number> = {};
    const refusedSince = async (what: string): Promise<Record<string, number>> => {
      await settled(what);
      const now = collector.stats().invalid_by_code as Record<string, number>;
      const delta = Object.fromEntries(Object.entries(now).filter(([k, n]) => n !== (seenCodes[k] ?? 0)).map(([k, n]) => [k, n - (seenCodes[k] ?? 0)]));
      seenCodes = { ...now };
      return delta;
    };

    const seq = { 'edge-1': 0, 'edge-2': 0 };
    const expected: Record<string, unknown[][]> = { 'pdu-r01-a': [], 'pdu-r02-a': [], 'meter-incomer-1': [], 'meter-green-feed': [] };
    let heapBefore = 0;
    let heapGrowthMb: number | undefined;
    const idle: net.Socket[] = [];
    try {
      for (const [c, agent] of [[a, 'edge-1'], [b, 'edge-2']] as const) {
        expect(await send(c, topics.agentState('demo', agent), JSON.stringify({ online: true, ts: START, version: '0.1.0', devices: agent === 'edge-1' ? 3 : 1, bd_seq: 1 }), true)).toBe(0);
      }
      for (let step = 0; step < STEPS; step++) {
        const ts = clock.now();
        for (const p of realPolls(step)) {
          const code = await send(p.agent === 'edge-1' ? a : b, topics.telemetry('demo', p.agent, p.device), telemetry(p.agent, p.device, p.cls, ++seq[p.agent], ts, p.readings));
          expect(code).toBe(0);
          const v = Object.fromEntries(p.readings.map((r) => [r.point, r.value]));
          expected[p.device]!.push(p.cls === 'pdu' ? [ts, v.active_power_w, v.energy_kwh, v.load_state] : [ts, v.active_power_w, v.energy_kwh]);
        }
        if (attacked) await attack(step, ts);
        await settled(`the polls of step ${step}`);
        clock.advance(STEP_MS);
      }
      await settled('the last step');
      const stats = collector.stats();
      const compared = [...kpis];
      if (attacked) {
        // (8, continued) The owner's identity itself sends a denormal IT power (5e-324 W): the
        // readings are valid numbers and stored, the PUE they give is not finite, so the live
        // figure is insufficient with its reason and the KPI message is still published.
        const ts = clock.now();
        const denormal = [{ point: 'active_power_w', value: 5e-324, unit: 'W', quality: 'good' }];
        for (const device of ['pdu-r01-a', 'pdu-r02-a']) {
          expect(await send(a, topics.telemetry('demo', 'edge-1', device), telemetry('edge-1', device, 'pdu', ++seq['edge-1'], ts, denormal))).toBe(0);
          expected[device]!.push([ts, 5e-324, null, null]);
        }
        await settled('the denormal polls');
        clock.advance(STEP_MS);
        const pue = collector.latestKpi('demo')?.kpis.find((k) => k.kpi === 'pue_live');
        expect(pue).toMatchObject({ ok: false, quality: 'insufficient', reason_code: 'DCIM_E_KPI_NOT_FINITE' });
        expect(pue).not.toHaveProperty('value');
        await until('the KPI message published', () => collector.stats().kpi_published === stats.kpi_published + 1);
        expect(collector.stats().kpi_publish_errors).toBe(0);

        // The idle connections: those beyond the cap were dropped at once; the held ones are
        // closed by the headers timeout, and the API answers again.
        await until('the idle connections closed by the server', () => idle.every((s) => s.destroyed), 60_000);
        // What a newcomer finds retained on the broker: the real births and the collector's KPI,
        // no forged status, state, KPI or alert (subscribed in that order, the KPI last).
        const viewer = await connect('collector', undefined, 'attacks-viewer');
        const retained: string[] = [];
        viewer.on('message', (topic, payload, packet) => {
          if (packet.retain) retained.push(`${topic} ${payload.length === 0 ? '' : (JSON.parse(payload.toString()) as { online?: boolean; bd_seq?: number }).bd_seq ?? 'kpi'}`);
        });
        await viewer.subscribeAsync([topics.filters.deviceStatus('demo'), topics.filters.agentState('demo'), topics.filters.alerts('demo')], { qos: 1 });
        await viewer.subscribeAsync(topics.filters.kpi('demo'), { qos: 1 });
        await until('the retained KPI', () => retained.some((r) => r.startsWith(topics.kpi('demo'))));
        expect(retained.sort()).toEqual([`${topics.agentState('demo', 'edge-1')} 1`, `${topics.agentState('demo', 'edge-2')} 1`, `${topics.kpi('demo')} kpi`]);
        const res = await fetch(`${collector.httpUrl}/api/sites`, { headers: { authorization: `Bearer ${TOKEN}` } });
        expect(res.status).toBe(200);
        expect(((await res.json()) as { sites: { id: string }[] }).sites.map((s) => s.id)).toEqual(['demo']);
      }
      return { kpis: compared, stats, alerts: alerts.list().map((x) => ({ rule: x.rule, state: x.state, labels: x.labels })), ...(await stored(database, sink)), ...(heapGrowthMb !== undefined ? { heapGrowthMb } : {}), expected };
    } finally {
      for (const s of idle) s.destroy();
      await collector.stop();
      await sink.close();
      // The real agents' retained births, so the next run's collector starts from nothing.
      for (const [c, agent] of [[a, 'edge-1'], [b, 'edge-2']] as const) await c.publishAsync(topics.agentState('demo', agent), '', { qos: 1, retain: true });
    }

    async function attack(step: number, ts: number): Promise<void> {
      const flood = (i: number): unknown[] =>
        Array.from({ length: FLOOD_PER_MESSAGE }, (_, k) =>
          k % 2 === 0 ? { point: `forged_${i}_${k}`, value: 1, quality: 'good' } : { point: 'phase_power_w', value: 1, unit: 'W', quality: 'good', index: { phase: String(4 + i * FLOOD_PER_MESSAGE + k) } },
        );
      switch (step) {
        case 2: {
          // (1) No credentials, a wrong password, no client certificate: the CONNECT is refused.
          expect([0x86, 0x87]).toContain(await connectRefusal(mqtt.connectAsync(broker().url, { protocolVersion: 5, clientId: 'attack-anon', reconnectPeriod: 0 })));
          expect([0x86, 0x87]).toContain(await connectRefusal(mqtt.connectAsync(broker().url, { protocolVersion: 5, clientId: 'attack-wrong', reconnectPeriod: 0, username: 'demo.edge-1', password: PASSWORDS['demo.edge-2']! })));
          await expect(connectCert(undefined)).rejects.toThrow();

          // (2) Agent B's password: A's device under A's branch and under B's own branch, the
          // broker denies; B's own device topic carrying A's name or A's device, the collector refuses.
          const bAttacker = await connect('demo.edge-2');
          const forged = (agent: string, device: string, cls: string) => telemetry(agent, device, cls, 10, ts, [{ point: 'active_power_w', value: 100, unit: 'W', quality: 'good' }]);
          expect(await send(bAttacker, topics.telemetry('demo', 'edge-1', 'pdu-r01-a'), forged('edge-1', 'pdu-r01-a', 'pdu'))).toBe(0x87);
          expect(await send(bAttacker, topics.telemetry('demo', 'edge-2', 'pdu-r01-a'), forged('edge-2', 'pdu-r01-a', 'pdu'))).toBe(0x87);
          expect(await send(bAttacker, topics.telemetry('demo', 'edge-2', 'meter-green-feed'), forged('edge-1', 'meter-green-feed', 'meter'))).toBe(0);
          expect(await send(bAttacker, topics.telemetry('demo', 'edge-2', 'meter-green-feed'), forged('edge-2', 'pdu-r01-a', 'pdu'))).toBe(0);
          expect(await refusedSince('impersonation with B password')).toEqual({ DCIM_E_MQTT_AGENT_MISMATCH: 1, DCIM_E_MQTT_PAYLOAD_INVALID: 1 });

          // (3) Agent B's certificate used as A (even claiming A's user name): the same denials.
          const stolenCert = await connectCert('demo.edge-2', 'demo.edge-1');
          expect(await send(stolenCert, topics.telemetry('demo', 'edge-1', 'pdu-r01-a'), forged('edge-1', 'pdu-r01-a', 'pdu'))).toBe(0x87);
          expect(await send(stolenCert, topics.agentState('demo', 'edge-1'), JSON.stringify({ online: false, ts, version: 'x', devices: 3, bd_seq: 99 }), true)).toBe(0x87);
          expect(await send(stolenCert, topics.telemetry('demo', 'edge-2', 'meter-green-feed'), forged('edge-1', 'meter-green-feed', 'meter'))).toBe(0);
          expect(await refusedSince("B's certificate used as A")).toEqual({ DCIM_E_MQTT_AGENT_MISMATCH: 1 });

          // (7) Forged retained statuses and states from non-owners, KPIs and alerts from agents: denied.
          const down = JSON.stringify({ state: 'down', code: 'DCIM_E_SNMP_TIMEOUT', since: ts, last_ok: null });
          expect(await send(bAttacker, topics.deviceStatus('demo', 'edge-1', 'pdu-r01-a'), down, true)).toBe(0x87);
          expect(await send(bAttacker, topics.deviceStatus('demo', 'edge-2', 'meter-incomer-1'), down, true)).toBe(0x87);
          expect(await send(bAttacker, topics.agentState('demo', 'edge-1'), JSON.stringify({ online: false, ts, version: 'x', devices: 3, bd_seq: 99 }), true)).toBe(0x87);
          expect(await send(a, topics.kpi('demo'), JSON.stringify({ schema: 1, site: 'demo', ts, kpis: [] }), true)).toBe(0x87);
          expect(await send(bAttacker, topics.alert('demo', 'forged-1'), '{}', true)).toBe(0x87);
          expect(await send(a, topics.legacy.deviceStatus('demo', 'pdu-r01-a'), down, true)).toBe(0x87);
          expect(collector.deviceStatuses('demo').size).toBe(0);
          expect([...collector.agentStates('demo')].map(([id, st]) => [id, st.online, st.bd_seq])).toEqual([['edge-1', true, 1], ['edge-2', true, 1]]);
          return;
        }
        case 10: {
          // (4) Dedup poisoning with A's stolen password: 300 polls a billion seqs ahead.
          const thief = await connect('demo.edge-1');
          for (let i = 0; i < 300; i++) expect(await send(thief, topics.telemetry('demo', 'edge-1', 'pdu-r01-a'), telemetry('edge-1', 'pdu-r01-a', 'pdu', 1_000_000_000 + i, ts, [{ point: 'active_power_w', value: 11_000, unit: 'W', quality: 'good' }]))).toBe(0);
          expect(await refusedSince('the dedup poisoning')).toEqual({ DCIM_E_SEQ_IMPLAUSIBLE: 300 });
          expect(collector.stats()).toMatchObject({ seq_implausible: 300, seq_rebased: 0 });
          return;
        }
        case 20: {
          // (5) Cardinality flood with A's stolen password, seqs in a band the real agent has not
          // reached (plausible: within the constant window): invented points and index values.
          await settled('before the flood');
          heapBefore = heapMb();
          const thief = await connect('demo.edge-1');
          for (let i = 0; i < FLOOD_MESSAGES; i++) expect(await send(thief, topics.telemetry('demo', 'edge-1', 'pdu-r01-a'), telemetry('edge-1', 'pdu-r01-a', 'pdu', 5000 + i, ts + 1, flood(i)))).toBe(0);
          // Every invented point refused; index values kept up to the per-tag bound (256), the rest refused.
          expect(await refusedSince('the flood')).toEqual({ DCIM_E_READING_NOT_IN_PROFILE: FLOOD_READINGS / 2, DCIM_E_READING_SERIES_LIMIT: FLOOD_READINGS / 2 - SERIES_PER_TAG });
          expect(collector.stats()).toMatchObject({ series_refused: FLOOD_READINGS / 2 - SERIES_PER_TAG, latest_refused: 0 });
          heapGrowthMb = heapMb() - heapBefore;
          return;
        }
        case 30: {
          // (6) Type poisoning: a string where the profile gives a number, a number for the enum.
          const thief = await connect('demo.edge-1');
          expect(await send(thief, topics.telemetry('demo', 'edge-1', 'pdu-r02-a'), telemetry('edge-1', 'pdu-r02-a', 'pdu', 6000, ts + 1, [{ point: 'active_power_w', value: '9000', unit: 'W', quality: 'good' }, { point: 'load_state', value: 3, quality: 'good' }]))).toBe(0);
          expect(await refusedSince('the type poisoning')).toEqual({ DCIM_E_READING_TYPE_MISMATCH: 2 });
          // (8) Infinity and NaN (not JSON numbers: 1e999 parses to Infinity), from the owner's
          // stolen password; the denormal 5e-324 from a non-owner.
          const inf = telemetry('edge-1', 'pdu-r01-a', 'pdu', 6001, ts + 1, [{ point: 'active_power_w', value: '__X__', unit: 'W', quality: 'good' }]);
          expect(await send(thief, topics.telemetry('demo', 'edge-1', 'pdu-r01-a'), inf.replace('"__X__"', '1e999'))).toBe(0);
          expect(await send(thief, topics.telemetry('demo', 'edge-1', 'pdu-r01-a'), inf.replace('"__X__"', '-1e999').replace('6001', '6002'))).toBe(0);
          expect(await send(thief, topics.telemetry('demo', 'edge-1', 'pdu-r01-a'), inf.replace('"__X__"', 'NaN').replace('6001', '6003'))).toBe(0);
          const bAttacker = await connect('demo.edge-2');
          expect(await send(bAttacker, topics.telemetry('demo', 'edge-2', 'meter-green-feed'), telemetry('edge-2', 'meter-green-feed', 'meter', 6004, ts + 1, [{ point: 'active_power_w', value: 5e-324, unit: 'W', quality: 'good' }]).replace('"agent":"edge-2"', '"agent":"edge-1"'))).toBe(0);
          // ±Infinity refused reading by reading, NaN is no JSON at all, the non-owner by its name.
          expect(await refusedSince('the non-finite inputs')).toEqual({ DCIM_E_READING_INVALID: 2, DCIM_E_MQTT_PAYLOAD_INVALID: 1, DCIM_E_MQTT_AGENT_MISMATCH: 1 });
          // (9) A poll stamped in 1970 and one 10 minutes ahead.
          expect(await send(thief, topics.telemetry('demo', 'edge-1', 'pdu-r01-a'), telemetry('edge-1', 'pdu-r01-a', 'pdu', 6005, 1000, [{ point: 'active_power_w', value: 100, unit: 'W', quality: 'good' }]))).toBe(0);
          expect(await send(thief, topics.telemetry('demo', 'edge-1', 'pdu-r01-a'), telemetry('edge-1', 'pdu-r01-a', 'pdu', 6006, ts + 600_000, [{ point: 'active_power_w', value: 100, unit: 'W', quality: 'good' }]))).toBe(0);
          expect(await refusedSince('the timestamps')).toEqual({ DCIM_E_MQTT_TS_TOO_OLD: 1, DCIM_E_MQTT_TS_AHEAD: 1 });
          return;
        }
        case 40: {
          // (10) Idle connections against the API: more than the cap, none sending a byte.
          const url = new URL(collector.httpUrl!);
          for (let i = 0; i < MAX_CONNECTIONS * 3; i++) {
            const s = net.connect(Number(url.port), '127.0.0.1');
            s.on('error', () => undefined);
            idle.push(s);
            await new Promise<void>((r) => s.once('connect', () => r()));
          }
          await until('the connections beyond the cap dropped', () => (collector.stats().http?.connections_refused ?? 0) >= MAX_CONNECTIONS * 2);
          expect(collector.stats().http?.connections_refused).toBe(MAX_CONNECTIONS * 2);
          return;
        }
        default:
          return;
      }
    }
  }

  async function stored(database: string, sink: ReturnType<typeof createSink>): Promise<Pick<RunResult, 'stored' | 'fieldTypes' | 'phaseSeries'>> {
    await sink.flush();
    const out: Record<string, unknown[][]> = {};
    for (const device of ['pdu-r01-a', 'pdu-r02-a']) {
      const rows = await influx().query(database, `SELECT active_power_w, energy_kwh, load_state FROM pdu WHERE device = '${device}' AND phase = ''`);
      out[device] = (rows[0]?.values ?? []).map((r) => [...r]);
    }
    for (const device of ['meter-incomer-1', 'meter-green-feed']) {
      const rows = await influx().query(database, `SELECT active_power_w, energy_kwh FROM meter WHERE device = '${device}'`);
      out[device] = (rows[0]?.values ?? []).map((r) => [...r]);
    }
    const types = await influx().query(database, 'SHOW FIELD KEYS FROM pdu');
    const phases = await influx().query(database, `SHOW TAG VALUES FROM pdu WITH KEY = "phase"`);
    return { stored: out, fieldTypes: (types[0]?.values ?? []).map((r) => [...r]), phaseSeries: phases[0]?.values?.length ?? 0 };
  }

  it('refuses or bounds every attack, stores every real reading, and publishes the same KPIs as the run without the attacker', { timeout: 180_000 }, async () => {
    const clean = await run('clean');
    const attacked = await run('attacked');

    // The run without the attacker is a real baseline: live PUE and green share good at the end, a closed 15-minute PUE.
    const last = clean.kpis.at(-1)!;
    const kpi = (m: KpiMessage, id: string, window: string) => m.kpis.find((k) => k.kpi === id && k.window === window);
    expect(kpi(last, 'pue_live', 'instant')).toMatchObject({ ok: true });
    expect(kpi(last, 'green_share_live_ratio', 'instant')).toMatchObject({ ok: true });
    expect(clean.kpis.some((m) => kpi(m, 'pue', '15m')?.ok === true)).toBe(true);
    expect(clean.stats).toMatchObject({ messages_invalid: 0, readings_invalid: 0, duplicates: 0, handler_errors: 0, kpi_publish_errors: 0 });

    // The KPIs are equal, tick by tick.
    expect(attacked.kpis).toHaveLength(clean.kpis.length);
    expect(attacked.kpis).toEqual(clean.kpis);
    expect(attacked.alerts).toEqual(clean.alerts);
    expect(attacked.alerts.filter((x) => /device_down|agent_offline/.test(x.rule))).toEqual([]);
    expect(attacked.stats.kpi_published).toBe(clean.stats.kpi_published);
    expect(attacked.stats.kpi_publish_errors).toBe(0);
    // What the attacker got stored: the flood's index values up to the bound, nothing else.
    expect(attacked.stats.readings_accepted).toBe(clean.stats.readings_accepted + SERIES_PER_TAG);
    expect(attacked.phaseSeries).toBe(SERIES_PER_TAG);
    expect(clean.phaseSeries).toBe(0);

    // Every real reading stored in both runs, the PDU's fields keeping their types.
    for (const r of [clean, attacked]) {
      for (const [device, rows] of Object.entries(r.expected)) expect(r.stored[device], device).toEqual(rows);
      expect(r.fieldTypes).toEqual(expect.arrayContaining([['load_state', 'string'], ['active_power_w', 'float']]));
    }

    // Nothing refused but the attacks (each checked where it happened), nothing lost, no crash.
    expect(attacked.stats).toMatchObject({ duplicates: 0, handler_errors: 0, messages_unknown: 0, readings_late: 0 });
    expect(attacked.stats.sink).toMatchObject({ points_rejected: 0, points_lost: 0 });
    // The collector's heap after a full collection grew by less than the bound under the flood.
    console.log(`attack suite: heap growth under ${FLOOD_READINGS} forged series ${attacked.heapGrowthMb!.toFixed(2)} MB (bound ${HEAP_BOUND_MB} MB)`);
    expect(attacked.heapGrowthMb).toBeLessThan(HEAP_BOUND_MB);
  });
});
