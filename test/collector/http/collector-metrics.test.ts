import { describe, expect, it } from 'vitest';
import type { HealthReport } from '../../../collector/http/api-source.js';
import { collectorMetricFamilies } from '../../../collector/http/collector-metrics.js';
import { formatExposition as renderPrometheus } from '../../../shared/metrics/exposition.js';
import { parseExposition } from '../../agent/metrics/parse-exposition.js';
import { health, stats } from './metrics-fixture.js';

describe('Prometheus text format 0.0.4', () => {
  it.each<[string, Parameters<typeof renderPrometheus>[0], string]>([
    ['a counter without labels', [{ name: 'a_total', help: 'A.', type: 'counter', samples: [{ value: 3 }] }], '# HELP a_total A.\n# TYPE a_total counter\na_total 3\n'],
    [
      'label values escape backslash, quote and newline; help escapes backslash and newline',
      [{ name: 'g', help: 'back\\slash\nnew "line"', type: 'gauge', samples: [{ labels: { site: 'a\\b"c\nd' }, value: 1.5 }] }],
      '# HELP g back\\\\slash\\nnew "line"\n# TYPE g gauge\ng{site="a\\\\b\\"c\\nd"} 1.5\n',
    ],
    ['NaN and infinities are written as the format spells them (one policy with the agent: never dropped, never a bare number)', [{ name: 'g', help: 'G.', type: 'gauge', samples: [{ labels: { v: 'nan' }, value: Number.NaN }, { labels: { v: 'inf' }, value: Infinity }, { labels: { v: 'neg' }, value: -Infinity }, { labels: { v: 'num' }, value: -0.25 }] }], '# HELP g G.\n# TYPE g gauge\ng{v="nan"} NaN\ng{v="inf"} +Inf\ng{v="neg"} -Inf\ng{v="num"} -0.25\n'],
  ])('%s', (_name, families, expected) => {
    expect(renderPrometheus(families)).toBe(expected);
  });


  it.each<[string, Parameters<typeof renderPrometheus>[0], RegExp]>([
    ['a bad metric name', [{ name: '1bad', help: 'x', type: 'gauge', samples: [{ value: 1 }] }], /invalid metric name "1bad"/],
    ['a family listed twice', [{ name: 'ok', help: 'first', type: 'gauge', samples: [{ value: 1 }] }, { name: 'ok', help: 'second', type: 'gauge', samples: [{ value: 2 }] }], /ok: family listed twice/],
    ['a reserved label name', [{ name: 'g', help: 'G.', type: 'gauge', samples: [{ labels: { __name__: 'y' }, value: 1 }] }], /g: invalid label name "__name__"/],
  ])('%s is a bug in the code that builds the families: it throws rather than write text a scraper refuses whole', (_name, families, error) => {
    expect(() => renderPrometheus(families)).toThrow(error);
  });
});

describe('the collector as metric families', () => {
  const text = renderPrometheus(
    collectorMetricFamilies({
      collector: 'main',
      stats,
      health,
      kpis: [{ scope: 'demo', kind: 'site', message: { schema: 1, site: 'demo', ts: 1, kpis: [{ kpi: 'pue', window: '1d', window_start: 0, window_end: 86_400_000, basis: 'energy', category: 2, coverage: 0.99, quality: 'partial', target: 1.2, status: 'red', ok: true, value: 1.31 }, { kpi: 'pue', window: '1d', window_start: 0, window_end: 86_400_000, basis: 'energy', category: 2, coverage: 1, quality: 'measured', status: 'green', ok: true, value: 1 }] } }],
    }),
  );

  it.each([
    'dcim_collector_messages_received_total 12\n',
    'dcim_collector_duplicates_total 3\n',
    'dcim_collector_refused_total{code="DCIM_E_MQTT_PAYLOAD_INVALID"} 2\n',
    'dcim_store_points_written_total 9\n',
    'dcim_store_pending_points 2\n',
    'dcim_store_reachable{target="influx_v1 http://db:8086 db=dcim"} 0\n',
    'dcim_store_last_success_timestamp_seconds 1767225600\n',
    'dcim_store_spool_oldest_age_seconds 2.5\n',
    'dcim_store_spool_recovered_batches 3\n',
    'dcim_kpi_engine_resets_total 1\n',
    'dcim_kpi_engine_bucket_bytes 4096\n',
    'dcim_alert_notifications_total{notifier="wecom-ops",result="throttled"} 2\n',
    'dcim_alert_notifier_events_total{event="digests",notifier="wecom-ops"} 1\n',
    'dcim_kpi_value{basis="energy",category="2",kpi="pue",scope="site",site="demo",window="1d"} 1.31\n',
    'dcim_kpi_coverage_ratio{basis="energy",category="2",kpi="pue",scope="site",site="demo",window="1d"} 0.99\n',
    'dcim_kpi_quality{basis="energy",category="2",kpi="pue",quality="partial",scope="site",site="demo",window="1d"} 1\n',
    'dcim_kpi_quality{basis="energy",category="2",kpi="pue",quality="measured",scope="site",site="demo",window="1d"} 0\n',
    'dcim_kpi_status{basis="energy",category="2",kpi="pue",scope="site",site="demo",status="red",window="1d"} 1\n',
    'dcim_kpi_window_end_timestamp_seconds{basis="energy",category="2",kpi="pue",scope="site",site="demo",window="1d"} 86400\n',
  ])('exposes %s', (sample) => {
    expect(text).toContain(sample);
  });

  it('keeps the first of two KPI samples with the same labels (a duplicate fails the whole scrape)', () => {
    expect(text.match(/^dcim_kpi_value\{/gm)).toHaveLength(1);
  });

  it('reads back with the strict parser of the Prometheus text format, every sample of every family', () => {
    const parsed = parseExposition(text);
    expect(parsed.get('dcim_kpi_value')?.samples).toEqual([{ labels: { scope: 'site', site: 'demo', kpi: 'pue', window: '1d', basis: 'energy', category: '2' }, value: 1.31 }]);
    expect([...parsed.values()].reduce((n, f) => n + f.samples.length, 0)).toBe(text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length);
  });

  it('a store that never took a batch and a KPI loop that never ran are NaN, still one series each, and parse', () => {
    const never: HealthReport = { ...health, store: { ...health.store, last_success_ms: null }, kpi: { ...health.kpi, last_evaluation_ms: null } };
    const t = renderPrometheus(collectorMetricFamilies({ collector: 'main', stats, health: never, kpis: [] }));
    expect(t).toContain('\ndcim_store_last_success_timestamp_seconds NaN\n');
    expect(t).toContain('\ndcim_collector_last_kpi_evaluation_timestamp_seconds NaN\n');
    expect(parseExposition(t).get('dcim_store_last_success_timestamp_seconds')?.samples[0]?.value).toBeNaN();
  });

  it('every family has HELP and TYPE, counters end in _total', () => {
    const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)];
    expect(types.length).toBeGreaterThan(30);
    for (const [, name, type] of types) if (type === 'counter') expect(name).toMatch(/_total$/);
    expect(text.match(/^# HELP /gm)).toHaveLength(types.length);
  });
});
