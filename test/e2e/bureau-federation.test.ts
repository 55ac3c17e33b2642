import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/index.js';
import { command as brokerConfig } from '../../cli/commands/broker-config.js';
import { Bureau } from '../../collector/bureau/bureau.js';
import { Collector } from '../../collector/collector.js';
import { KpiEngine } from '../../collector/kpi-engine.js';
import { ManualClock } from '../../contract/clock.js';
import { SiteInventorySchema, type Cluster, type SiteInventory } from '../../contract/inventory.js';
import { memoryLogger } from '../../shared/log.js';
import type { KpiValue, Reading } from '../../contract/messages.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { SiteSummarySchema, type SiteSummary } from '../../contract/summary.js';
import { parseTopic, topics } from '../../contract/topics.js';
import { startSimSite, type SimSite } from '../../simulators/index.js';
import { RecordingSink } from '../collector/support/recording-sink.js';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.js';
import { useService } from '../support/require-service.js';
import { makeTestCertificates } from '../support/test-ca.js';
import { until } from '../support/until.js';
import { PATIENT_REQUESTS } from '../support/patient-requests.js';

/**
 * The bureau across three sites, every part real: per site a simulator (SNMP PDUs, Modbus meters
 * and PV, a Redfish GPU server), an agent, a site mosquitto and a site collector publishing its
 * summaries; each site broker bridged (TLS, its own credential, the config `dcim broker-config
 * --bridge` writes) to one bureau mosquitto (ACL and passwords from `--bureau`), read by the
 * bureau's collector. A reference KpiEngine is fed every site's raw telemetry, tapped from the site
 * brokers: the bureau, which never sees a reading, must roll the cluster up to the same figures.
 *
 * One ManualClock drives simulators, agents, collectors and the bureau: each step advances it by
 * the poll interval and waits (real time) until every device polled and every part took what it
 * should. From midnight on Jan 31 (Asia/Shanghai) to 01:30 on Feb 1, so quarter hours, hours, a
 * whole day and a month close on the way; the bureau broker is stopped for an hour of it.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const profiles = loadProfiles();
const logger = memoryLogger();
/** The poll interval: half an hour, so a day is 48 steps (counters integrate exactly whatever the interval). */
const STEP_MS = 30 * 60_000;
/** Site collectors evaluate (and publish summaries) every quarter hour. */
const TICK_MS = 15 * 60_000;
const SETTLE_MS = 60_000;
/** Past the agent's per-device jitter, so every poll of a step starts within it. */
const PAST_SLOT_MS = 1000;
/** 2026-01-31 00:00 Asia/Shanghai. */
const FROM = Date.UTC(2026, 0, 30, 16);
/** 2026-02-01 01:30 Asia/Shanghai. */
const TO = Date.UTC(2026, 0, 31, 17, 30);
/** The bureau broker is down from 22:30 to 23:30 local: four quarter hours and an hour close meanwhile. */
const CUT_FROM = Date.UTC(2026, 0, 31, 14, 30);
const CUT_TO = Date.UTC(2026, 0, 31, 15, 30);
const SITES = ['gn', 'gs', 'ga'] as const;
type SiteId = (typeof SITES)[number];
const CLUSTER: Cluster = { id: 'guian', name: "Gui'an", targets: { pue: 1.2, rack_occupancy: 0.7, green_share: 0.8 }, sites: [...SITES] };
const PASSWORDS: Record<string, string> = { bureau: 'bureau-secret-1', ...Object.fromEntries(SITES.map((s, i) => [`bridge.${s}`, `bridge-secret-${s}-${i}`])) };

/**
 * A small site of the cluster: general, GPU, idle, empty and reserved racks; PDUs at the PUE level,
 * a GPU server over Redfish, an incomer, a cooling meter, PV behind the meter and (but for the AI
 * site) a green feed. Loads and green shares differ by site, so a mean of sites differs from ΣE/ΣE.
 */
function tinySite(id: SiteId, load_kw: number, green_feed_share: number, gpu_model: string): SiteInventory {
  const snmp = (community: string) => ({ protocol: 'snmp', host: '127.0.0.1', port: 16161, version: '2c', community });
  const modbus = (unit_id: number) => ({ protocol: 'modbus', host: '127.0.0.1', port: 15020, unit_id });
  const interval_s = STEP_MS / 1000;
  return SiteInventorySchema.parse({
    site: { id, name: `Site ${id}`, timezone: 'Asia/Shanghai', cluster: 'guian', pue_it_level: 'pdu_out', agent: 'edge-1' },
    sim: { latitude_deg: 26.4, longitude_deg: 106.6, green_feed_share, lighting_kw: 1 },
    targets: { pue: 1.2, rack_occupancy: 0.7, green_share: 0.8 },
    halls: [{ id: 'h1' }],
    racks: [
      { id: 'r01', hall: 'h1', rated_kw: 12, sim: { workload: 'general', load_kw, cooling_group: 'pod-a' } },
      { id: 'r02', hall: 'h1', rated_kw: 20, sim: { workload: 'gpu_training', servers: 1, gpus_per_server: 8, gpu_model, cooling_group: 'pod-a' } },
      { id: 'r03', hall: 'h1', rated_kw: 10, sim: { workload: 'idle', cooling_group: 'pod-a' } },
      { id: 'r04', hall: 'h1', rated_kw: 10, sim: { workload: 'empty', cooling_group: 'pod-a' } },
      { id: 'r05', hall: 'h1', rated_kw: 10, status: 'reserved', sim: { cooling_group: 'pod-a' } },
    ],
    devices: [
      { id: 'pdu-r01-a', profile: 'apc-rpdu2', rack: 'r01', address: snmp('public'), interval_s, meter: { role: 'it', level: 'pdu_out', rated_kw: 12 } },
      { id: 'pdu-r02-a', profile: 'raritan-px2', rack: 'r02', address: snmp('pdu-r02-a'), interval_s, meter: { role: 'it', level: 'pdu_out', rated_kw: 20 } },
      { id: 'pdu-r03-a', profile: 'apc-rpdu2', rack: 'r03', address: snmp('pdu-r03-a'), interval_s, meter: { role: 'it', level: 'pdu_out', rated_kw: 10 } },
      { id: 'gpu-r02-1', profile: 'redfish-gpu-server', rack: 'r02', address: { protocol: 'redfish', host: '127.0.0.1', port: 18001, scheme: 'http', username: 'admin', password: 'sim' }, interval_s, meter: { role: 'it', level: 'it_in', rated_kw: 10.2 } },
      { id: 'meter-incomer-1', profile: 'eastron-sdm630', hall: 'h1', address: modbus(1), interval_s, meter: { role: 'facility_in', rated_kw: 100 } },
      { id: 'meter-cooling', profile: 'carlo-gavazzi-em24-e1', hall: 'h1', address: modbus(4), interval_s, meter: { role: 'cooling', rated_kw: 50 } },
      { id: 'pv-roof-1', profile: 'sunspec-inverter', hall: 'h1', address: modbus(6), interval_s, meter: { role: 'green_onsite', behind_meter: true, rated_kw: 20 }, sim: { kwp: 20 } },
      ...(green_feed_share > 0 ? [{ id: 'meter-green-feed', profile: 'wattnode-wnd', hall: 'h1', address: modbus(3), interval_s, meter: { role: 'green_feed', rated_kw: 100 } }] : []),
    ],
    green_certificates: [{ id: `gec-${id}-2026-01`, period: '2026-01', certificates: 2 }],
  });
}

const SEEDS: Record<SiteId, SiteInventory> = {
  gn: tinySite('gn', 8, 0.5, 'NVIDIA A100-SXM4-80GB'),
  gs: tinySite('gs', 5, 0.2, 'NVIDIA H100 80GB HBM3'),
  ga: tinySite('ga', 3, 0, 'Huawei Ascend 910B'),
};

async function dcim(args: string[]): Promise<void> {
  const log = console.log;
  console.log = () => undefined;
  try {
    expect(await brokerConfig.run(args)).toBe(0);
  } finally {
    console.log = log;
  }
}

/** A shipped mosquitto conf's lines, without comments and listeners (the launcher opens its own), paths mapped. */
function shipped(file: string, map: (line: string) => string): string[] {
  return readFileSync(path.join(ROOT, 'collector/deploy', file), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('listener '))
    .map(map);
}

const dir = mkdtempSync(path.join(tmpdir(), 'dcim-bureau-federation-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Per-site: what its broker carried (summaries and telemetry), seen by a tap client. */
interface Tap {
  client: MqttClient;
  summaries: SiteSummary[];
}

const windowed = (vals: readonly KpiValue[]) => vals.filter((v) => v.window !== 'instant');
const key = (v: KpiValue) => `${v.kpi}|${v.window}|${v.basis}`;

describe('three sites bridged to a bureau: the bureau rolls the cluster up as one collector fed all raw telemetry', () => {
  const bureauBroker = useService('mosquitto', async () => {
    makeTestCertificates(dir, []);
    const clusters = path.join(dir, 'clusters.json');
    writeFileSync(clusters, JSON.stringify({ clusters: [CLUSTER] }));
    const passwords = path.join(dir, 'passwords');
    mkdirSync(passwords, { mode: 0o700 });
    for (const [user, pw] of Object.entries(PASSWORDS)) writeFileSync(path.join(passwords, user), `${pw}\n`, { mode: 0o600 });
    await dcim(['--bureau', '--clusters', clusters, '--password-dir', passwords, '--out', path.join(dir, 'bureau')]);
    const config = shipped('mosquitto-bureau.conf', (l) => l.replace('/etc/mosquitto/dcim-bureau/passwd', `${dir}/bureau/passwd`).replace('/etc/mosquitto/dcim-bureau/acl', `${dir}/bureau/acl`).replace('/etc/mosquitto/dcim-bureau/', `${dir}/`));
    return startMosquitto({ config });
  });
  const siteBrokers = Object.fromEntries(
    SITES.map((site) => [
      site,
      useService('mosquitto', async () => {
        const out = path.join(dir, `conf.d-${site}`);
        await dcim(['--bridge', '--site', site, '--bureau-address', `127.0.0.1:${bureauBroker().port}`, '--bureau-ca', path.join(dir, 'ca.pem'), '--remote-password-file', path.join(dir, 'passwords', `bridge.${site}`), '--retry-s', '1:1', '--out', out]);
        return startMosquitto({ config: [...shipped('mosquitto-dcim.conf', (l) => l), `include_dir ${out}`] });
      }),
    ]),
  ) as Record<SiteId, () => Mosquitto>;

  const parts: { sims: SimSite[]; agents: Agent[]; collectors: Collector[]; bureau?: Bureau; clients: MqttClient[] } = { sims: [], agents: [], collectors: [], clients: [] };
  afterAll(async () => {
    for (const a of parts.agents) await a.stop().catch(() => undefined);
    for (const c of parts.collectors) await c.stop().catch(() => undefined);
    await parts.bureau?.stop().catch(() => undefined);
    for (const c of parts.clients) await c.endAsync(true).catch(() => undefined);
    for (const s of parts.sims) await s.stop();
  });

  it('gives the same 15m, 1h, 1d and month figures, pooled and mean of sites, and loses nothing over an hour-long cut of the uplink', async () => {
    const clock = new ManualClock(FROM - 3 * STEP_MS + PAST_SLOT_MS);
    const inventories = {} as Record<SiteId, SiteInventory>;
    for (const site of SITES) {
      const sim = await startSimSite({ inventory: SEEDS[site], profiles, bind: 'ephemeral', logger, clock, tickMs: 60_000, rngSeed: SITES.indexOf(site) + 1 });
      parts.sims.push(sim);
      inventories[site] = sim.inventory();
    }
    const reference = KpiEngine.create({ inventories: SITES.map((s) => inventories[s]), profiles, clusters: [CLUSTER], config: { settle_ms: SETTLE_MS } });

    // The taps: every telemetry message into the reference engine, every summary recorded.
    const taps = {} as Record<SiteId, Tap>;
    const telemetry = { count: 0 };
    for (const site of SITES) {
      const client = await mqtt.connectAsync(siteBrokers[site]().url, { clientId: `tap-${site}`, protocolVersion: 5, reconnectPeriod: 100 });
      parts.clients.push(client);
      const tap: Tap = { client, summaries: [] };
      client.on('message', (topic, payload) => {
        const t = parseTopic(topic);
        if (t?.kind === 'summary') tap.summaries.push(SiteSummarySchema.parse(JSON.parse(payload.toString())));
        if (t?.kind !== 'telemetry') return;
        const m = JSON.parse(payload.toString()) as { site: string; device: string; ts: number; readings: Reading[] };
        reference.ingest(m.site, m.device, m.ts, m.readings);
        telemetry.count++;
      });
      await client.subscribeAsync([topics.filters.telemetry(site), topics.filters.summary(site)], { qos: 1 });
      taps[site] = tap;
    }

    const bureauSink = new RecordingSink();
    const bureau = new Bureau({
      id: 'bureau',
      clusters: [CLUSTER],
      mqtt: { url: `mqtts://127.0.0.1:${bureauBroker().port}`, username: 'bureau', password: PASSWORDS.bureau!, clientId: 'bureau', tls: { ca: readFileSync(path.join(dir, 'ca.pem')) } },
      sink: bureauSink,
      clock,
      logger,
      tickMs: TICK_MS,
      settleMs: SETTLE_MS,
      silentAfterWindows: 16,
      maxSkewMs: 5 * 60_000,
    });
    parts.bureau = bureau;
    await bureau.start();

    for (const site of SITES) {
      const collector = new Collector({ id: `site-${site}`, inventories: [inventories[site]], profiles, mqtt: { url: siteBrokers[site]().url, clientId: `collector-${site}` }, sink: new RecordingSink(), clock, logger, kpiIntervalMs: TICK_MS, kpi: { settle_ms: SETTLE_MS } });
      parts.collectors.push(collector);
      await collector.start();
      const agent = new Agent({ id: 'edge-1', inventory: inventories[site], profiles, mqtt: { url: siteBrokers[site]().url, clientId: `agent-${site}` }, stateDir: mkdtempSync(path.join(dir, `agent-${site}-`)), logger, clock, maxConcurrent: 32, ...PATIENT_REQUESTS });
      parts.agents.push(agent);
      await agent.start();
    }

    /** Every summary a site published is held at the bureau at its revision or a newer one. */
    const missing = (): string[] =>
      SITES.flatMap((site) => taps[site].summaries.filter((s) => (bureau.siteSource(site)?.revisionOf(s.window, s.window_start) ?? 0) < s.revision).map((s) => `${site} ${s.window} ${new Date(s.window_start).toISOString()} r${s.revision}`));
    const settled = () => parts.collectors.every((c) => c.stats().summaries!.pending === 0);
    let cut = false;
    /** Summaries published during the cut and not yet at the bureau when its broker came back. */
    let heldBack = 0;
    /**
     * The reference's figures at the last step's first tick (a quarter past), taken before that
     * step's polls reach it: the instant and the readings the site collectors built summaries with
     * (a summary's compute, accelerator utilisation included, is a snapshot of the quarter hour it
     * closed). A tick on the half hour comes before the polls of its step: its last quarter hour is
     * short of its closing reading and is revised on the next tick.
     */
    let last: { at: number; sites: Record<SiteId, KpiValue[]>; cluster: KpiValue[] } | undefined;
    while (clock.now() < TO) {
      const before = parts.agents.map((a) => Object.fromEntries(Object.entries(a.stats().polling.devices).map(([id, d]) => [id, d.polls])));
      const at = clock.now() + STEP_MS;
      if (!cut && at > CUT_FROM && at <= CUT_TO) {
        await bureauBroker().halt();
        cut = true;
      }
      if (cut && at > CUT_TO) {
        heldBack = missing().length;
        await bureauBroker().restart();
        cut = false;
      }
      const mid = at - TICK_MS;
      if (at >= TO) last = { at: mid, sites: Object.fromEntries(SITES.map((site) => [site, reference.evaluate(site, mid)])) as Record<SiteId, KpiValue[]>, cluster: reference.evaluateCluster('guian', mid) };
      clock.advance(STEP_MS);
      await until(
        `${new Date(at).toISOString()}: every device polled, its telemetry ingested by its site collector and the reference, the summaries acknowledged`,
        () => {
          let sent = 0;
          for (const [i, agent] of parts.agents.entries()) {
            const s = agent.stats();
            if (s.polling.in_flight > 0 || s.polling.queued > 0) return false;
            if (!Object.entries(s.polling.devices).every(([id, d]) => d.polls > (before[i]![id] ?? 0))) return false;
            sent += Object.values(s.polling.devices).reduce((n, d) => n + d.polls - d.down_polls, 0);
          }
          const ingested = parts.collectors.reduce((n, c) => n + c.stats().engine.polls, 0);
          return ingested >= sent && telemetry.count >= sent && settled();
        },
        60_000,
        () => JSON.stringify({ agents: parts.agents.map((a) => ({ in_flight: a.stats().polling.in_flight, queued: a.stats().polling.queued })), collectors: parts.collectors.map((c) => ({ polls: c.stats().engine.polls, summaries: c.stats().summaries })), telemetry: telemetry.count }),
      );
      if (!cut) await until(`${new Date(at).toISOString()}: the bureau holds every summary`, () => missing().length === 0, 60_000, () => missing().slice(0, 5).join('\n'));
    }
    // Everything a site published during the cut reached the bureau once the link was back.
    await until('the bureau holds every summary', () => missing().length === 0, 60_000, () => missing().slice(0, 5).join('\n'));
    expect(last).toBeDefined();
    const { at: NOW } = last!;
    bureau.tick(NOW);

    const published = SITES.flatMap((s) => taps[s].summaries);
    const kinds = (w: string) => new Set(published.filter((s) => s.window === w).map((s) => `${s.site}|${s.window_start}`)).size;
    // Polls from 23:00 on Jan 30: quarter hours 23:00 → 01:15 on Feb 1 (the last settled), hours
    // 23:00 → 00:00, Jan 30 (its last hour) and Jan 31, January: every one of them from each site.
    expect({ '15m': kinds('15m'), '1h': kinds('1h'), '1d': kinds('1d'), '1mo': kinds('1mo') }).toEqual({ '15m': 3 * 105, '1h': 3 * 26, '1d': 3 * 2, '1mo': 3 });
    // The cut held back what the sites published meanwhile (four quarter hours and an hour each, and
    // their revisions), and all of it arrived after it.
    expect(heldBack).toBeGreaterThanOrEqual(3 * 5);
    // The quarter hour a half-hour tick closed short of its reading was revised, and the bureau took the revision.
    const revisions = published.filter((s, i) => published.findIndex((x) => x.site === s.site && x.window === s.window && x.window_start === s.window_start) !== i);
    expect(revisions.length).toBeGreaterThan(3 * 40);
    expect(bureau.stats()).toMatchObject({ summaries_refused: 0, handler_errors: 0 });
    expect(bureau.stats().summaries_revised).toBeGreaterThanOrEqual(revisions.length);

    // Each site as the bureau evaluates it from its summaries, as its own data gives it.
    for (const site of SITES) {
      const fromSummaries = new Map(windowed(bureau.latestSiteKpi(site)!.kpis).map((v) => [key(v), v]));
      const fromTelemetry = windowed(last!.sites[site]);
      expect(fromTelemetry.length).toBeGreaterThan(15);
      for (const v of fromTelemetry) expect(fromSummaries.get(key(v)), `${site} ${key(v)}`).toEqual(v);
    }

    // The cluster: energy-weighted and mean of sites, green share, pooled occupancy, compute.
    const fromSummaries = new Map(bureau.latestClusterKpi('guian')!.kpis.map((v) => [key(v), v]));
    const fromTelemetry = last!.cluster.filter((v) => !v.kpi.endsWith('_live_ratio') && v.kpi !== 'pue_live' && !(v.window === 'instant' && (v.kpi === 'pue' || v.kpi.startsWith('green_share'))));
    expect(fromTelemetry.length).toBeGreaterThan(25);
    for (const v of fromTelemetry) expect(fromSummaries.get(key(v)), `guian ${key(v)}`).toEqual(v);
    const got = (k: string) => fromSummaries.get(k);
    for (const w of ['15m', '1h', '1d', '1mo']) {
      expect(got(`pue|${w}|energy_weighted`), `pue ${w}`).toMatchObject({ ok: true });
      expect(got(`pue|${w}|mean_of_sites`), `pue ${w} mean`).toMatchObject({ ok: true });
    }
    expect(got('pue|1d|energy_weighted')!.value).not.toBe(got('pue|1d|mean_of_sites')!.value);
    expect([...fromSummaries.keys()].some((k) => k.startsWith('rack_occupancy'))).toBe(true);
    expect([...fromSummaries.keys()].some((k) => k.startsWith('green_share'))).toBe(true);
    expect([...fromSummaries.keys()].some((k) => k.startsWith('compute'))).toBe(true);
    // What the run measured, for the record.
    console.log(JSON.stringify({ compared: fromTelemetry.length, held_back: heldBack, published: published.length, revisions: revisions.length, pue_1d: [got('pue|1d|energy_weighted')!.value, got('pue|1d|mean_of_sites')!.value] }));
  }, 900_000);
});
