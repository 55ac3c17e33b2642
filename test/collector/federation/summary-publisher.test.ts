import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { Collector } from '../../../collector/collector.js';
import { collectorMetricFamilies } from '../../../collector/http/collector-metrics.js';
import { ManualClock } from '../../../contract/clock.js';
import { SiteInventorySchema, type SiteInventory } from '../../../contract/inventory.js';
import { loadYamlFile } from '../../../shared/config/load.js';
import { memoryLogger } from '../../../shared/log.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { SUMMARY_MEASUREMENT } from '../../../contract/storage-schema.js';
import { SiteSummarySchema, type SiteSummary } from '../../../contract/summary.js';
import { topics } from '../../../contract/topics.js';
import { startMosquitto } from '../../support/mosquitto.js';
import { useService } from '../../support/require-service.js';
import { until } from '../../support/until.js';
import { RecordingSink } from '../support/recording-sink.js';

const MIN = 60_000;
// 16:00 in Asia/Shanghai: quarter hours and the hour start here.
const T0 = Date.UTC(2026, 0, 1, 8);
const PROFILES = loadProfiles();
const minimal = loadYamlFile(SiteInventorySchema, path.resolve(import.meta.dirname, '../../../seeds/minimal.yaml'));
/**
 * The smallest complete site, two meters polled every minute: the incomer 10 kW by its energy
 * counter, the IT load 9 kW at the UPS output by its power alone (3 lines × 3 kW), so time the UPS
 * is silent is uncovered until its readings arrive.
 */
const SITE: SiteInventory = SiteInventorySchema.parse({
  ...minimal,
  site: { ...minimal.site, pue_it_level: 'ups_out' },
  devices: [
    { ...minimal.devices.find((d) => d.id === 'meter-incomer-1')!, interval_s: 60 },
    { id: 'ups-1', profile: 'rfc1628-ups', hall: 'h1', address: { protocol: 'snmp', host: '127.0.0.1', community: 'public' }, interval_s: 60, meter: { role: 'it', level: 'ups_out' } },
  ],
});
const KW = { 'ups-1': 9, 'meter-incomer-1': 10 } as const;
type Device = keyof typeof KW;

const dir = mkdtempSync(path.join(tmpdir(), 'dcim-summary-pub-'));
const ACL = path.join(dir, 'acl');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const USERS = [
  { username: 'collector', password: 'c-secret' },
  { username: 'bureau', password: 'b-secret' },
];
/** The collector may write its KPI topic; its summary topics only when `summaries` is set. */
function writeAcl(summaries: boolean): void {
  const lines = ['user collector', 'topic read dcim/v1/#', 'topic write dcim/v1/demo/kpi', 'topic write dcim/v1/demo/alerts/+'];
  if (summaries) lines.push('topic write dcim/v1/demo/summary/+');
  lines.push('', 'user bureau', 'topic read dcim/v1/+/summary/+', '');
  writeFileSync(ACL, lines.join('\n'));
}
writeAcl(true);

interface Received {
  summary: SiteSummary;
  topic: string;
  qos: number;
  retain: boolean;
}

/** A bureau-side reader: every summary message, parsed against the contract (a bad one fails the test). */
async function reader(url: string, id: string): Promise<{ client: MqttClient; got: Received[] }> {
  const got: Received[] = [];
  const client = await mqtt.connectAsync(url, { clientId: id, username: 'bureau', password: 'b-secret', protocolVersion: 5, reconnectPeriod: 100 });
  client.on('message', (topic, payload, packet) => got.push({ topic, summary: SiteSummarySchema.parse(JSON.parse(payload.toString())), qos: packet.qos, retain: packet.retain }));
  await client.subscribeAsync(topics.filters.summary('demo'), { qos: 1 });
  return { client, got };
}

/**
 * A collector for the site on a real broker, fed polls by minute through `ingest` (the broker's
 * part under test is the summary publishing); the clock steps a minute at a time, each step a KPI
 * tick. Polls of `skip` are held back and delivered by `late()`, with the seqs they were polled with.
 */
function site(url: string, skip: (device: Device, ts: number) => boolean = () => false, publish_summaries = true, tick: { interval_ms: number; late_days?: number } = { interval_ms: MIN }) {
  const clock = new ManualClock(T0);
  const sink = new RecordingSink();
  const logger = memoryLogger();
  const collector = new Collector({ id: 'site', inventories: [SITE], profiles: PROFILES, mqtt: { url, username: 'collector', password: 'c-secret', clientId: `site-${url}` }, sink, clock, logger, kpiIntervalMs: tick.interval_ms, federation: { publish_summaries }, ...(tick.late_days !== undefined ? { kpi: { late_days: tick.late_days } } : {}) });
  let seq = 0;
  const held: [string, Buffer][] = [];
  const message = (device: Device, ts: number): [string, Buffer] => {
    const kwh = 1000 + (KW[device] * (ts - T0)) / 3_600_000;
    const body = {
      schema: 1,
      agent: 'edge-1',
      site: 'demo',
      device,
      class: device === 'ups-1' ? 'ups' : 'meter',
      seq: ++seq,
      ts,
      readings:
        device === 'ups-1'
          ? ['1', '2', '3'].map((line) => ({ point: 'output_power_w', value: 3000, unit: 'W', index: { line }, quality: 'good' }))
          : [
              { point: 'active_power_w', value: 10_000, unit: 'W', quality: 'good' },
              { point: 'energy_kwh', value: kwh, unit: 'kWh', quality: 'good' },
            ],
      poll: { ms: 5, requests: 1, retries: 0 },
    };
    return [topics.telemetry('demo', 'edge-1', device), Buffer.from(JSON.stringify(body))];
  };
  return {
    clock,
    sink,
    logger,
    collector,
    /** Poll both meters at each minute up to `to` (exclusive), a KPI tick after each. */
    run(to: number): void {
      while (clock.now() < to) {
        for (const d of Object.keys(KW) as Device[]) {
          const m = message(d, clock.now());
          if (skip(d, clock.now())) held.push(m);
          else collector.ingest(...m);
        }
        clock.advance(MIN);
      }
    },
    late(): void {
      for (const m of held.splice(0)) collector.ingest(...m);
    },
  };
}

const id = (s: SiteSummary) => `${s.window}|${s.window_start}`;
const stored = (sink: RecordingSink) => sink.of(SUMMARY_MEASUREMENT);

describe('site collector: summaries for the bureau, retained QoS 1 on dcim/v1/<site>/summary/<window>', () => {
  const broker = useService('mosquitto', () => startMosquitto({ users: USERS, config: [`acl_file ${ACL}`] }));

  it('publishes each closed window once, retained, stores it, and republishes a window late data changed with a higher revision', async () => {
    // The UPS is silent 16:05–16:09; its polls arrive after the hour closed.
    const s = site(broker().url, (d, ts) => d === 'ups-1' && ts >= T0 + 5 * MIN && ts < T0 + 10 * MIN);
    const live = await reader(broker().url, 'bureau-live');
    await s.collector.start();
    try {
      s.run(T0 + 62 * MIN);
      // 16:00–17:00 closed at 17:01 (60 s settle): four quarter hours and the hour.
      await until('the hour published', () => live.got.some((g) => g.summary.window === '1h'), 60_000, () => JSON.stringify(s.collector.stats().summaries));
      await until('all acknowledged', () => s.collector.stats().summaries!.pending === 0);
      const first = live.got.map((g) => g.summary);
      expect(first.map((x) => `${x.window} ${(x.window_start - T0) / MIN}`)).toEqual(['15m 0', '15m 15', '15m 30', '15m 45', '1h 0']);
      for (const g of live.got) {
        expect(g.qos).toBe(1);
        expect(g.topic).toBe(topics.summary('demo', g.summary.window));
        expect(g.summary).toMatchObject({ schema: 1, site: 'demo', window_end: g.summary.window_start + (g.summary.window === '1h' ? 60 : 15) * MIN });
      }
      const hour = first.find((x) => x.window === '1h')!;
      expect(hour.groups.facility_in).toMatchObject({ covered_ms: 60 * MIN, meters: 1 });
      expect(hour.groups.facility_in.kwh).toBeCloseTo(10, 6);
      // The UPS's silence is uncovered time; what was covered is at its 8 kW.
      expect(hour.groups.it.covered_ms).toBeLessThan(60 * MIN);
      expect(hour.groups.it.kwh / (hour.groups.it.covered_ms / 3_600_000)).toBeCloseTo(9, 6);

      // Nothing new for the closed windows: another quarter hour brings only its own summary.
      s.run(T0 + 77 * MIN);
      await until('the fifth quarter', () => live.got.length === 6);
      await until('all acknowledged', () => s.collector.stats().summaries!.pending === 0);
      expect(live.got[5]!.summary).toMatchObject({ window: '15m', window_start: T0 + 60 * MIN });
      expect(new Set(live.got.map((g) => id(g.summary))).size).toBe(6);

      // A reader that connects now gets the newest of each window's topic, retained.
      const late = await reader(broker().url, 'bureau-late');
      try {
        await until('retained summaries', () => late.got.length === 2);
        expect(late.got.every((g) => g.retain && g.qos === 1)).toBe(true);
        expect(Object.fromEntries(late.got.map((g) => [g.summary.window, (g.summary.window_start - T0) / MIN]))).toEqual({ '15m': 60, '1h': 0 });
      } finally {
        await late.client.endAsync();
      }

      // The UPS's late polls change the 16:00 quarter and the hour: both go again, revised.
      s.late();
      s.run(T0 + 78 * MIN);
      await until('the revisions', () => live.got.length === 8, 60_000, () => JSON.stringify(live.got.slice(6).map((g) => id(g.summary))));
      await until('all acknowledged', () => s.collector.stats().summaries!.pending === 0);
      const revised = live.got.slice(6).map((g) => g.summary);
      expect(revised.map(id)).toEqual([`15m|${T0}`, `1h|${T0}`]);
      for (const r of revised) {
        const before = first.find((x) => id(x) === id(r))!;
        expect(r.revision).toBeGreaterThan(before.revision);
        expect(r.groups.it.covered_ms).toBeGreaterThan(before.groups.it.covered_ms);
      }
      expect(revised[1]!.groups.it).toMatchObject({ covered_ms: 60 * MIN });
      expect(revised[1]!.groups.it.kwh).toBeCloseTo(9, 6);
      expect(revised[1]!.kpis.find((k) => k.kpi === 'pue' && k.window === '1h')).toMatchObject({ ok: true, quality: 'measured' });
      expect(revised[1]!.kpis.find((k) => k.kpi === 'pue' && k.window === '1h')!.value).toBeCloseTo(10 / 9, 3);

      // Every summary built is in the store, the revision beside the first.
      const lines = stored(s.sink);
      expect(lines).toHaveLength(8);
      for (const g of live.got) expect(lines.some((l) => l.includes(`window=${g.summary.window} `) && l.includes(`revision=${g.summary.revision}i`) && l.endsWith(` ${g.summary.window_start}`))).toBe(true);
      expect(s.collector.stats().summaries).toEqual({ built: 8, revisions: 2, published: { '15m': 6, '1h': 2, '1d': 0, '1mo': 0 }, publish_failures: 0, pending: 0, in_flight: 0, expired: 0 });
    } finally {
      await live.client.endAsync();
      await s.collector.stop();
    }
  });

  it('keeps a summary the broker refuses (ACL 0x87) pending, logs it once per period, and sends it once the ACL allows it', async () => {
    writeAcl(false);
    process.kill(broker().pid!, 'SIGHUP');
    const s = site(broker().url);
    const live = await reader(broker().url, 'bureau-refused');
    // What the first test left retained on the topics is not news.
    const fresh = () => live.got.filter((g) => !g.retain);
    await s.collector.start();
    try {
      s.run(T0 + 47 * MIN);
      await until('three refusals', () => s.collector.stats().summaries!.publish_failures >= 3);
      // Refused on the next ticks too: each retried, none lost, the log throttled.
      s.run(T0 + 50 * MIN);
      // Three ticks back to back: the first sends the three again, the next two find them in flight.
      await until('retries refused', () => s.collector.stats().summaries!.publish_failures === 6);
      expect(s.collector.stats().summaries).toMatchObject({ built: 3, pending: 3, published: { '15m': 0 } });
      // One line for the episode; the next (after the throttle period) says how many were held back.
      expect(s.logger.lines.filter((l) => l.msg === 'site summary publish failed; kept pending, retried next tick' && l.suppressed === undefined)).toHaveLength(1);
      expect(fresh()).toHaveLength(0);
      // The stored points do not wait for the broker.
      expect(stored(s.sink)).toHaveLength(3);

      writeAcl(true);
      process.kill(broker().pid!, 'SIGHUP');
      // mosquitto re-reads the ACL asynchronously: tick until the retries get through.
      await until('the pending summaries delivered', () => {
        if (s.collector.stats().summaries!.pending > 0) s.run(s.clock.now() + MIN);
        return fresh().length === 3 && s.collector.stats().summaries!.pending === 0;
      });
      expect(fresh().map((g) => (g.summary.window_start - T0) / MIN)).toEqual([0, 15, 30]);
      const metrics = collectorMetricFamilies({ collector: 'site', stats: s.collector.stats(), health: s.collector.health(), kpis: [] });
      expect(metrics.find((f) => f.name === 'dcim_collector_summaries_published_total')!.samples).toContainEqual({ labels: { window: '15m' }, value: 3 });
      expect(metrics.find((f) => f.name === 'dcim_collector_summary_publish_failures_total')!.samples[0]!.value).toBeGreaterThanOrEqual(6);
    } finally {
      writeAcl(true);
      await live.client.endAsync();
      await s.collector.stop();
    }
  });

  it('drops a summary refused past the late-data horizon, counted, so a broker that never takes them costs bounded memory', async () => {
    writeAcl(false);
    process.kill(broker().pid!, 'SIGHUP');
    // late_days 0: a pending summary is kept until its window ended a day before the settled edge.
    const s = site(broker().url, () => false, true, { interval_ms: 15 * MIN, late_days: 0 });
    await s.collector.start();
    try {
      // Ticks back to back find the refused ones still in flight: their answers come in after.
      s.run(T0 + 24 * 60 * MIN + 31 * MIN);
      await until('every refusal answered', () => s.collector.stats().summaries!.in_flight === 0, 60_000, () => JSON.stringify(s.collector.stats().summaries));
      expect(s.collector.stats().summaries!.expired).toBe(0);
      // The tick at 16:45 the next day: settled edge 16:30, horizon 16:30 the day before.
      s.run(T0 + 24 * 60 * MIN + 46 * MIN);
      const st = s.collector.stats().summaries!;
      // 16:00 → 16:30 the next day: 98 quarter hours, 24 hours and Jan 1 built, none published.
      expect(st).toMatchObject({ built: 98 + 24 + 1, published: { '15m': 0, '1h': 0, '1d': 0, '1mo': 0 } });
      // Those whose window ended a day or more before the settled edge (16:00 → 16:30: two quarter hours) are gone.
      expect(st.expired).toBe(2);
      expect(st.pending).toBe(st.built - st.expired);
      await until('the last retries answered', () => s.collector.stats().summaries!.in_flight === 0);
      expect(stored(s.sink)).toHaveLength(st.built);
    } finally {
      writeAcl(true);
      await s.collector.stop();
    }
  });

  it('publishes nothing and stores no summary with federation.publish_summaries off', async () => {
    const s = site(broker().url, () => false, false);
    const live = await reader(broker().url, 'bureau-off');
    await s.collector.start();
    try {
      s.run(T0 + 20 * MIN);
      // The KPI windows were evaluated and stored as always.
      await until('KPIs stored', () => s.sink.lines.some((l) => l.startsWith('kpi,') && l.includes('window=15m')));
      expect(s.collector.stats().summaries).toBeUndefined();
      expect(stored(s.sink)).toHaveLength(0);
      expect(live.got).toHaveLength(0);
    } finally {
      await live.client.endAsync();
      await s.collector.stop();
    }
  });
});

describe('SummaryPublisher after a restart', () => {
  it('sends the stored summaries once more as they were (one left pending at the stop still leaves), building no new revision of them', async () => {
    const { SummaryPublisher } = await import('../../../collector/federation/summary-publisher.js');
    const { summaryFromBody } = await import('../../../collector/federation/summary-points.js');
    const { KpiEngine } = await import('../../../collector/kpi-engine.js');
    const { inventory, DEVICES, JAN1, MIN, poll } = await import('../support/hand-site.js');
    const engine = KpiEngine.create({ inventories: [inventory('pdu_out')], profiles: loadProfiles(), config: { settle_ms: 60_000 } });
    for (let t = JAN1; t <= JAN1 + 3 * 3_600_000; t += MIN) for (const d of DEVICES) engine.ingest('hs', d, t, poll(d, t).readings);
    const now = JAN1 + 3 * 3_600_000 + 2 * MIN;
    const stored: SiteSummary[] = [];
    // Before the stop: every summary stored, none acknowledged (the broker refused them all).
    const before = new SummaryPublisher({
      sources: [engine.siteSource('hs')!],
      settle_ms: 60_000,
      late_days: 3,
      publish: () => Promise.reject(new Error('refused')),
      write: (points) => stored.push(...points.map((p) => summaryFromBody(p.fields.body)!)),
      onRefused: () => {},
    });
    before.tick(now);
    expect(stored.length).toBeGreaterThan(10);
    await until('the refusals', () => before.stats().publish_failures === stored.length);
    // After the restart: the same engine state (restored), the stored summaries remembered.
    const sent: SiteSummary[] = [];
    const written: unknown[] = [];
    const after = new SummaryPublisher({
      sources: [engine.siteSource('hs')!],
      settle_ms: 60_000,
      late_days: 3,
      publish: (s) => {
        sent.push(s);
        return Promise.resolve();
      },
      write: (points) => written.push(...points),
      onRefused: () => {},
    });
    after.remember(new Map([['hs', stored]]));
    after.tick(now);
    await until('the acknowledgements', () => after.stats().pending === 0);
    expect(after.stats().built).toBe(0);
    expect(written).toEqual([]);
    const key = (s: SiteSummary) => `${s.window}|${s.window_start}|${s.revision}`;
    expect(sent.map(key).sort()).toEqual(stored.map(key).sort());
  });
});
