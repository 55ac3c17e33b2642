import { createServer, type Server } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import type { HealthReport } from '../../../collector/http/api-source.js';
import { collectorMetricFamilies } from '../../../collector/http/collector-metrics.js';
import { EXPOSITION_CONTENT_TYPE as PROMETHEUS_CONTENT_TYPE, formatExposition as renderPrometheus } from '../../../shared/metrics/exposition.js';
import { LOOPBACK } from '../../support/local-service.js';
import { useService } from '../../support/require-service.js';
import { startScrapingVictoriaMetrics } from '../../support/victoria-metrics.js';
import { parseExposition } from '../../agent/metrics/parse-exposition.js';
import { health, stats } from './metrics-fixture.js';

/**
 * A third-party scraper reads the collector's metric text, NaN samples included (a store that
 * never took a batch): VictoriaMetrics must take every sample the strict parser counts.
 */

describe('VictoriaMetrics scraping the collector metric text', () => {
  const vm = useService('victoria-metrics', () => startScrapingVictoriaMetrics('dcim-collector'));
  let server: Server | undefined;
  afterAll(async () => {
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
  });

  it('takes every sample, NaN ones included, with the values rendered', async () => {
    const never: HealthReport = { ...health, store: { ...health.store, last_success_ms: null } };
    const text = renderPrometheus(
      collectorMetricFamilies({
        collector: 'main',
        stats,
        health: never,
        kpis: [{ scope: 'demo', kind: 'site', message: { schema: 1, site: 'demo', ts: 1, kpis: [{ kpi: 'pue', window: '1d', window_start: 0, window_end: 86_400_000, basis: 'energy', category: 2, coverage: 0.99, quality: 'partial', target: 1.2, status: 'red', ok: true, value: 1.31 }] } }],
      }),
    );
    expect(text).toContain('\ndcim_store_last_success_timestamp_seconds NaN\n');
    const expected = [...parseExposition(text).values()].reduce((n, f) => n + f.samples.length, 0);
    server = createServer((_req, res) => res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE }).end(text));
    await new Promise<void>((r) => server!.listen(vm().target, LOOPBACK, r));

    const scraped = await vm().waitForSeries('scrape_samples_scraped{job="dcim-collector"}', (s) => (s[0]?.values.at(-1) ?? 0) === expected, 10_000);
    expect(scraped[0]?.values.at(-1)).toBe(expected);
    const series = await vm().exportSeries('{__name__=~"dcim_.*", job="dcim-collector"}');
    const one = (name: string, labels: Record<string, string>) => series.find((s) => s.metric.__name__ === name && Object.entries(labels).every(([k, v]) => s.metric[k] === v))?.values.at(-1);
    expect(one('dcim_kpi_value', { scope: 'site', site: 'demo', kpi: 'pue', window: '1d', basis: 'energy', category: '2' })).toBe(1.31);
    expect(one('dcim_collector_messages_received_total', {})).toBe(12);
  });
});
