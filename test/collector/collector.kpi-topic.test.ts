import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { Collector } from '../../collector/collector.js';
import { ManualClock } from '../../contract/clock.js';
import { SiteInventorySchema, type Cluster } from '../../contract/inventory.js';
import { loadYamlFile } from '../../shared/config/load.js';
import { memoryLogger } from '../../shared/log.js';
import { KpiMessageSchema, type KpiMessage } from '../../contract/messages.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { topics } from '../../contract/topics.js';
import { startMosquitto } from '../support/mosquitto.js';
import { useService } from '../support/require-service.js';
import { RecordingSink } from './support/recording-sink.js';
import { until } from '../support/until.js';
import { repoPath } from '../support/repo-path.js';

/**
 * The retained KPI topic (docs/design.md §2): every KPI of the site — live figures and every energy
 * window — in one KpiMessage on dcim/v1/<site>/kpi, the cluster's roll-ups on
 * dcim/v1/<cluster>/kpi; published when something changed, else at least every publishEveryMs.
 */
const SEED = loadYamlFile(SiteInventorySchema, repoPath('seeds', 'minimal.yaml'));
const CLUSTERS: Cluster[] = [{ id: 'guian', name: "Gui'an", targets: { pue: 1.25, rack_occupancy: 0.7, green_share: 0.8 }, sites: ['demo'] }];
// 08:05 UTC: no quarter hour closes (plus its settle time) within the test, so only the interval republishes.
const T0 = Date.UTC(2026, 0, 1, 8, 5, 0);

const poll = (seq: number, device: 'pdu-r01-a' | 'meter-incomer-1', w: number, ts: number) =>
  JSON.stringify({ schema: 1, agent: 'edge-1', site: 'demo', device, class: device === 'pdu-r01-a' ? 'pdu' : 'meter', seq, ts, readings: [{ point: 'active_power_w', value: w, unit: 'W', quality: 'good' }], poll: { ms: 5, requests: 1, retries: 0 } });

const settle = () => new Promise((r) => setTimeout(r, 300));

describe('the retained KPI topics', () => {
  const broker = useService('mosquitto', () => startMosquitto());

  it('site and cluster messages carry every KPI; republished on change or every publish interval', async () => {
    const clock = new ManualClock(T0);
    const collector = new Collector({ id: 'topic', inventories: [SEED], clusters: CLUSTERS, profiles: loadProfiles(), mqtt: { url: broker().url }, sink: new RecordingSink(), clock, logger: memoryLogger(), kpiIntervalMs: 5000, publishEveryMs: 60_000 });
    await collector.start();
    const agent = await mqtt.connectAsync(broker().url, { clientId: 'agent-topic', protocolVersion: 4 });
    const viewer = await mqtt.connectAsync(broker().url, { clientId: 'viewer-topic', protocolVersion: 4 });
    const got: { topic: string; msg: KpiMessage }[] = [];
    viewer.on('message', (topic, payload) => got.push({ topic, msg: KpiMessageSchema.parse(JSON.parse(payload.toString())) }));
    await viewer.subscribeAsync(topics.filters.kpi(), { qos: 1 });
    const count = (topic: string) => got.filter((g) => g.topic === topic).length;
    try {
      await agent.publishAsync(topics.telemetry('demo', 'edge-1', 'pdu-r01-a'), poll(1, 'pdu-r01-a', 8000, T0 + 1000), { qos: 1 });
      await agent.publishAsync(topics.telemetry('demo', 'edge-1', 'meter-incomer-1'), poll(2, 'meter-incomer-1', 10_000, T0 + 1200), { qos: 1 });
      await until('two polls', () => collector.stats().readings_accepted === 2);

      clock.advance(5000);
      await until('site and cluster published', () => count(topics.kpi('demo')) === 1 && count(topics.kpi('guian')) === 1);
      const site = got.find((g) => g.topic === topics.kpi('demo'))!.msg;
      const windows = new Set(site.kpis.map((k) => `${k.kpi}/${k.window}`));
      for (const w of ['pue_live/instant', 'pue/15m', 'pue/1h', 'pue/1d', 'pue/1mo', 'pue/ytd', 'pue/12mo', 'pue/1y', 'rack_occupancy_ratio/1d', 'rack_occupancy_ratio/1mo', 'green_share_ratio/1mo', 'green_share_ratio/1y']) expect(windows, w).toContain(w);
      expect(site.kpis.find((k) => k.kpi === 'pue_live')).toMatchObject({ ok: true, value: 1.25 });
      const cluster = got.find((g) => g.topic === topics.kpi('guian'))!.msg;
      expect(cluster.site).toBe('guian');
      expect(cluster.kpis.every((k) => ['energy_weighted', 'power_weighted', 'pooled', 'mean_of_sites'].includes(k.basis) || k.basis.startsWith('sum:'))).toBe(true);
      expect(cluster.kpis.find((k) => k.kpi === 'pue_live' && k.basis === 'power_weighted')).toMatchObject({ ok: true, value: 1.25 });

      // Nothing changes for 55 s: no republish.
      for (let i = 0; i < 11; i++) clock.advance(5000);
      await settle();
      expect([count(topics.kpi('demo')), count(topics.kpi('guian'))]).toEqual([1, 1]);
      // 60 s after the last publish: both again, unchanged.
      clock.advance(5000);
      await until('republished', () => count(topics.kpi('demo')) === 2 && count(topics.kpi('guian')) === 2);
      const [first, second] = got.filter((g) => g.topic === topics.kpi('demo')).map((g) => g.msg);
      const content = (m: KpiMessage) => m.kpis.map((k) => (k.window === 'instant' ? { ...k, window_start: 0, window_end: 0 } : k));
      expect(content(second!)).toEqual(content(first!));
      expect(second!.ts - first!.ts).toBe(60_000);

      // The IT load changes: the site is published at the next tick.
      await agent.publishAsync(topics.telemetry('demo', 'edge-1', 'pdu-r01-a'), poll(3, 'pdu-r01-a', 9000, T0 + 66_000), { qos: 1 });
      await agent.publishAsync(topics.telemetry('demo', 'edge-1', 'meter-incomer-1'), poll(4, 'meter-incomer-1', 10_000, T0 + 66_200), { qos: 1 });
      await until('two more polls', () => collector.stats().readings_accepted === 4);
      clock.advance(5000);
      await until('published on change', () => count(topics.kpi('demo')) === 3);
      expect(got.filter((g) => g.topic === topics.kpi('demo')).at(-1)!.msg.kpis.find((k) => k.kpi === 'pue_live')).toMatchObject({ value: 1.1111 });
      expect(collector.stats()).toMatchObject({ kpi_publish_errors: 0 });
    } finally {
      await agent.endAsync();
      await viewer.endAsync();
      await collector.stop();
    }
  });
});
