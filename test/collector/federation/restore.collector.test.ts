import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Collector } from '../../../collector/collector.js';
import { restoreAtStart } from '../../../collector/federation/restore.js';
import { InfluxQlSummaries, SqliteSummaries } from '../../../collector/federation/stored-summaries.js';
import { SummaryTracker } from '../../../collector/federation/summary-builder.js';
import { summaryPoint } from '../../../collector/federation/summary-points.js';
import { KpiEngine } from '../../../collector/kpi-engine.js';
import { InfluxQlReader } from '../../../collector/recompute/influxql-reader.js';
import { buildSiteRegistry } from '../../../collector/state/site-registry.js';
import { readingPoints } from '../../../collector/store/reading-points.js';
import { SqliteSink } from '../../../collector/store/sqlite-sink.js';
import { ManualClock } from '../../../contract/clock.js';
import { memoryLogger } from '../../../shared/log.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { freePort } from '../../support/free-port.js';
import { startMosquitto } from '../../support/mosquitto.js';
import { useService } from '../../support/require-service.js';
import { startVictoriaMetrics } from '../../support/victoria-metrics.js';
import { day, DAY, inventory, JAN1 } from '../support/hand-site.js';

/**
 * The collector's start with history to restore: it rebuilds the month before it subscribes, and
 * a store it cannot read (down, or VictoriaMetrics, which cannot hold summaries) is a
 * DCIM_E_RESTORE_FAILED log line with the cause, and the collector starts all the same.
 */
const profiles = loadProfiles();
const inv = inventory('pdu_out');
const registry = buildSiteRegistry([inv], profiles).get('hs')!;
/** Jan 6 12:00 local: Jan 1 lies before the late-data horizon (Jan 3 00:00). */
const NOW = JAN1 + 5 * DAY + 12 * 3_600_000;
const tmp = mkdtempSync(path.join(tmpdir(), 'dcim-restore-start-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Jan 1's telemetry through an engine, its summaries and readings into a SQLite file; the engine as it stands at NOW. */
async function previousRun(file: string): Promise<KpiEngine> {
  const engine = KpiEngine.create({ inventories: [inv], profiles });
  const sink = new SqliteSink({ path: file, clock: new ManualClock(NOW), retention_ms: 3650 * DAY, logger: memoryLogger() });
  const tracker = new SummaryTracker(engine.siteSource('hs')!, { settle_ms: engine.settle_ms, late_days: 3 });
  let seq = 0;
  for (const p of day()) {
    engine.ingest(p.site, p.device, p.ts, p.readings);
    const d = registry.devices.get(p.device)!;
    sink.write(readingPoints({ schema: 1, agent: 'a1', site: 'hs', device: p.device, class: d.class!, seq: ++seq, ts: p.ts, readings: [...p.readings], poll: { ms: 1, requests: 1, retries: 0 } }, d.tags));
  }
  sink.write(tracker.due(JAN1 + DAY + 2 * 60_000).map(summaryPoint));
  await sink.close();
  return engine;
}

describe('the collector restores its history at start', () => {
  const broker = useService('mosquitto', () => startMosquitto());

  it('from its SQLite store: the month is back before it subscribes', { timeout: 120_000 }, async () => {
    const file = path.join(tmp, 'site.db');
    const before = await previousRun(file);
    const sink = new SqliteSink({ path: file, clock: new ManualClock(NOW), retention_ms: 3650 * DAY, logger: memoryLogger() });
    const logger = memoryLogger();
    const engine = KpiEngine.create({ inventories: [inv], profiles });
    const clock = new ManualClock(NOW);
    const collector = new Collector({
      id: 'restored',
      inventories: [inv],
      profiles,
      engine,
      mqtt: { url: broker().url },
      sink,
      clock,
      logger,
      restore: (e, now) => restoreAtStart(e, () => ({ summaries: new SqliteSummaries(sink), readings: { target: 'sqlite', slice: (s, m, f, t) => Promise.resolve(sink.rawRows(s, m, f, t)), close: () => Promise.resolve() } }), now, logger),
    });
    try {
      await collector.start();
      const line = logger.lines.find((l) => l.msg === 'history restored from the store');
      expect(line).toMatchObject({ days_seeded: 1, rows_skipped: 0 });
      const month = (e: KpiEngine) => e.evaluate('hs', NOW).find((v) => v.kpi === 'pue' && v.window === '1mo')!;
      expect(month(engine).inputs).toEqual(month(before).inputs);
      expect(month(engine).value).toBe(month(before).value);
      expect(month(engine).inputs?.facility_measured_kwh).toBeGreaterThan(3000);
    } finally {
      await collector.stop();
      await sink.close();
    }
  });

  const refused = async (store: { url: string }, cause: string) => {
    const logger = memoryLogger();
    const sink = new SqliteSink({ path: ':memory:', logger: memoryLogger() });
    const engine = KpiEngine.create({ inventories: [inv], profiles });
    const collector = new Collector({
      id: 'norestore',
      inventories: [inv],
      profiles,
      engine,
      mqtt: { url: broker().url },
      sink,
      clock: new ManualClock(NOW),
      logger,
      restore: (e, now) => restoreAtStart(e, () => ({ summaries: new InfluxQlSummaries({ url: store.url, database: 'dcim', request_timeout_ms: 5000 }), readings: new InfluxQlReader({ url: store.url, database: 'dcim' }) }), now, logger),
    });
    try {
      await collector.start();
      expect(logger.lines.find((l) => l.code === 'DCIM_E_RESTORE_FAILED')).toMatchObject({ level: 'error', cause });
      expect(logger.lines.some((l) => l.msg === 'collector started')).toBe(true);
      expect(engine.evaluate('hs', NOW).find((v) => v.kpi === 'pue' && v.window === '1mo')?.ok).toBe(false);
    } finally {
      await collector.stop();
      await sink.close();
    }
  };

  it('a store that is down: DCIM_E_RESTORE_FAILED (refused), and the collector starts', { timeout: 60_000 }, async () => {
    await refused({ url: `http://127.0.0.1:${await freePort()}` }, 'DCIM_E_NET_REFUSED');
  });

  describe('VictoriaMetrics', () => {
    const vm = useService('victoria-metrics', () => startVictoriaMetrics());
    it('cannot hold summaries: DCIM_E_RESTORE_FAILED (DCIM_E_STORE_NO_SUMMARIES), and the collector starts', { timeout: 60_000 }, async () => {
      await refused({ url: vm().url }, 'DCIM_E_STORE_NO_SUMMARIES');
    });
  });
});
