import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { loadBureauConfig } from '../../../collector/bureau/bureau-config.js';
import { createBureauFromConfig } from '../../../collector/bureau/from-config.js';
import { SummarySiteSource } from '../../../collector/federation/summary-source.js';
import { clusterKpis } from '../../../collector/kpi/site-kpis.js';
import { ManualClock } from '../../../contract/clock.js';
import { memoryLogger } from '../../../shared/log.js';
import type { KpiValue } from '../../../contract/messages.js';
import { topics } from '../../../contract/topics.js';
import { startInfluxV1 } from '../../support/influxdb-v1.js';
import { startMosquitto } from '../../support/mosquitto.js';
import { useService } from '../../support/require-service.js';
import { until } from '../../support/until.js';
import { CLUSTER, NOW, SETTLE, SITES, threeSites } from './three-sites.js';

const TOKEN = 'bureau-influx-token-0123456789';
const env = { DCIM_API_TOKEN: TOKEN };

async function clusterApi(base: string): Promise<{ ts: number; kpis: KpiValue[] }> {
  const res = await fetch(`${base}/api/clusters/c1/kpi`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return (await res.json()) as { ts: number; kpis: KpiValue[] };
}

describe('dcim bureau on InfluxDB 1.6: configured from YAML, summaries and KPIs stored, read back after a restart', () => {
  const broker = useService('mosquitto', () => startMosquitto());
  const influx = useService('influxd', () => startInfluxV1());

  it('writes the kpi measurement the dashboards read and rebuilds its sites from the stored summaries', async () => {
    const world = threeSites();
    await influx().createDatabase('bureau');
    const dir = mkdtempSync(path.join(tmpdir(), 'dcim-bureau-influx-'));
    try {
      writeFileSync(path.join(dir, 'clusters.yaml'), JSON.stringify({ clusters: [CLUSTER] }));
      writeFileSync(
        path.join(dir, 'bureau.yaml'),
        [
          'bureau: { id: b-influx, clusters: clusters.yaml, silent_after_windows: 8, max_skew_s: 300 }',
          `mqtt: { url: "${broker().url}" }`,
          `store: { kind: influx_v1, url: "${influx().url}", database: bureau }`,
          'http: { listen: "127.0.0.1:0", token: { env: DCIM_API_TOKEN } }',
          `kpi: { interval_s: 15, settle_s: ${SETTLE / 1000} }`,
        ].join('\n'),
      );
      const setup = loadBureauConfig(path.join(dir, 'bureau.yaml'));
      const clock = new ManualClock(NOW - 5_000);
      let { bureau, sink } = createBureauFromConfig(setup, { clock, logger: memoryLogger(), env });
      await bureau.start();
      const site = await mqtt.connectAsync(broker().url, { clientId: 'site-bridge-influx', protocolVersion: 5 });
      try {
        for (const s of world.sent) await site.publishAsync(topics.summary(s.site, s.window), JSON.stringify(s), { qos: 1 });
        await until('every summary taken', () => bureau.stats().summaries_received === world.sent.length, 60_000);
        clock.advance(5_000);
        const before = await clusterApi(bureau.httpUrl!);
        const refs = new Map<string, SummarySiteSource>();
        for (const s of world.sent) {
          if (!refs.has(s.site)) refs.set(s.site, new SummarySiteSource(s.site, s.timezone));
          refs.get(s.site)!.put(s);
        }
        expect(before.kpis).toEqual(JSON.parse(JSON.stringify(clusterKpis(CLUSTER, SITES.map((s) => refs.get(s)!), [], NOW, SETTLE))));
        await sink.flush();
        expect(sink.stats().points_rejected).toBe(0);

        const day = before.kpis.find((v) => v.kpi === 'pue' && v.window === '1d' && v.basis === 'energy_weighted')!;
        expect(day.ok).toBe(true);
        const stored = await influx().query('bureau', `SELECT "value" FROM "kpi" WHERE "site" = 'c1' AND "kpi" = 'pue' AND "window" = '1d' AND "basis" = 'energy_weighted'`);
        expect(stored[0]?.values?.at(-1)?.[1]).toBe(day.value);
        const windows = new Set(world.sent.map((s) => `${s.site}|${s.window}|${s.window_start}`)).size;
        const rows = await influx().query('bureau', 'SELECT count("revision") FROM "site_summary"');
        expect(rows[0]?.values?.[0]?.[1]).toBe(windows);

        await bureau.stop();
        await sink.close();
        ({ bureau, sink } = createBureauFromConfig(setup, { clock, logger: memoryLogger(), env }));
        await bureau.start();
        expect(bureau.stats().summaries_restored).toBe(windows);
        clock.advance(15_000);
        const after = await clusterApi(bureau.httpUrl!);
        expect(after.ts).toBe(NOW + 15_000);
        expect(after.kpis).toEqual(JSON.parse(JSON.stringify(clusterKpis(CLUSTER, SITES.map((s) => refs.get(s)!), [], NOW + 15_000, SETTLE))));
      } finally {
        await site.endAsync(true);
        await bureau.stop();
        await sink.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
