import { describe, expect, it } from 'vitest';
import { Bureau } from '../../../collector/bureau/bureau.js';
import { AlertmanagerNotifier } from '../../../collector/alerts/notifiers/alertmanager.js';
import { SqliteSink } from '../../../collector/store/sqlite-sink.js';
import { ManualClock } from '../../../contract/clock.js';
import { memoryLogger } from '../../../shared/log.js';
import { METER_GROUPS, type SiteSummary } from '../../../contract/summary.js';
import { topics } from '../../../contract/topics.js';
import { startAlertmanager } from '../../support/alertmanager.js';
import { startMosquitto } from '../../support/mosquitto.js';
import { useService } from '../../support/require-service.js';
import { until } from '../../support/until.js';

const QUARTER = 900_000;

/** A quarter hour of site `site` ending at `end`, every group covered by its one meter. */
function quarter(site: string, end: number): SiteSummary {
  const groups = Object.fromEntries(METER_GROUPS.map((g) => [g, { kwh: 1, covered_ms: QUARTER, resets: 0, spikes: 0, meters: 1, silent_tail_ms: 0, silent_tail_kwh: 0 }])) as SiteSummary['groups'];
  return { schema: 1, site, window: '15m', window_start: end - QUARTER, window_end: end, timezone: 'Asia/Shanghai', revision: end, generated_ms: end, targets: { pue: 1.2, rack_occupancy: 0.7, green_share: 0.8 }, rated_kw_available: 10, groups, kpis: [] };
}

describe("the bureau's silence alert through the collector's Alertmanager notifier", () => {
  const broker = useService('mosquitto', () => startMosquitto());
  const am = useService('alertmanager', () => startAlertmanager());

  it('fires in Alertmanager with the site and code labels, and resolves when the site reports', async () => {
    // Started 20.5 minutes ago by this clock: with silent_after_windows 1 both sites, never heard
    // of, are silent since 5 minutes ago; the alert's times stay just behind the real now, where
    // Alertmanager judges endsAt.
    const clock = new ManualClock(Date.now() - 20 * 60_000 - 30_000);
    const sink = new SqliteSink({ path: ':memory:', clock, logger: memoryLogger() });
    const notifier = new AlertmanagerNotifier({ url: am().url, name: 'alertmanager', resend_ms: 60_000, timeout_ms: 5_000 });
    const bureau = new Bureau({ id: 'b-am', clusters: [{ id: 'c1', name: 'C1', targets: { pue: 1.2, rack_occupancy: 0.7, green_share: 0.8 }, sites: ['sa', 'sb'] }], mqtt: { url: broker().url }, sink, clock, logger: memoryLogger(), tickMs: 15_000, silentAfterWindows: 1, maxSkewMs: 300_000, notifiers: [notifier] });
    await bureau.start();
    try {
      clock.advance(20 * 60_000);
      const firing = await until2(() => am().alerts(['alertname="SiteSilent"']), (a) => a.length === 2);
      expect(firing.map((a) => a.labels.site).sort()).toEqual(['sa', 'sb']);
      expect(firing[0]!.labels).toMatchObject({ code: 'DCIM_E_SITE_SILENT', bureau: 'b-am', clusters: 'c1', severity: 'warning' });

      const end = Math.floor(clock.now() / QUARTER) * QUARTER;
      bureau.ingest(topics.summary('sa', '15m'), Buffer.from(JSON.stringify(quarter('sa', end))));
      expect(bureau.stats().summaries_stored).toBe(1);
      clock.advance(15_000);
      const left = await until2(() => am().alerts(['alertname="SiteSilent"']), (a) => a.length === 1);
      expect(left[0]!.labels.site).toBe('sb');
      expect(bureau.stats().notifiers?.alertmanager).toMatchObject({ failures: 0, rejected: 0, pending: 0 });
    } finally {
      await bureau.stop();
      await sink.close();
    }
  });
});

/** Polls `read` until `ok` holds on its answer; returns that answer. */
async function until2<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  let last: T | undefined;
  await until('Alertmanager state', async () => ok((last = await read())), 60_000, () => JSON.stringify(last));
  return last as T;
}
