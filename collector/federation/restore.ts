import { performance } from 'node:perf_hooks';
import { DcimError } from '../../contract/errors.js';
import { DEVICE_CLASSES, type DeviceClass } from '../../contract/ids.js';
import type { Logger } from '../../shared/log.js';
import { METER_GROUPS, type SiteSummary, type SummaryWindow } from '../../contract/summary.js';
import type { KpiEngine, RestoredDay } from '../kpi-engine.js';
import { DAY_MS, HOUR_MS } from '../../shared/time/site-calendar.js';
import { settledEdge } from '../kpi/windows.js';
import type { RecordedPoll } from '../recompute/kpi-replay.js';
import { pollsFromRows, type StoredReadings } from '../recompute/stored-polls.js';
import type { StoredSummaries } from './summary-store.js';

/**
 * A site collector's history after a restart (docs/federation.md): the engine keeps month, year
 * and trailing-12-month energy in local-day buckets, in memory. At start they are rebuilt from
 * the store in two parts, split at a horizon — the local midnight before the oldest window late
 * data may still revise (`late_days` back from the settled edge):
 *
 * - days before the horizon, as far back as the engine keeps days, from the stored day summaries:
 *   each meter group's energy, covered meter-time, resets and spikes, and the day's occupancy
 *   (the summaries' silent tails are not taken: the engine works them out from its ledgers);
 * - from the horizon on, the stored raw readings replayed through the engine, from two poll
 *   intervals before it so every meter's ledger has a previous sample; energy the replay books
 *   before the horizon is ignored (those days are already seeded). Then late data counts again
 *   for every day, seeded ones included, as it would have without the restart.
 *
 * The summaries stored for the windows the summary tracker still revises come back too, so it
 * does not send again what the bureau already has.
 */
export interface RestoreSources {
  summaries: StoredSummaries;
  readings: StoredReadings;
}

export interface RestoreOptions {
  /** Sites to restore; default every site of the engine. */
  sites?: readonly string[];
  /** Measurements (device classes) to replay per site; default every class. */
  measurements?: (site: string) => readonly DeviceClass[];
  /** Raw readings are read this much at a time (default an hour). */
  slice_ms?: number;
  /** How far before the replay to look for the last readings of a meter silent since before it (default 7 days, the SQLite store's default retention). */
  silent_search_ms?: number;
}

export interface SiteRestore {
  site: string;
  /** Days before this were seeded from day summaries; readings from it on were replayed. */
  horizon_ms: number;
  days_seeded: number;
  /** Day summaries not taken: a day the engine no longer keeps, or a summary of another time zone's day. */
  days_refused: number;
  polls_replayed: number;
  readings_replayed: number;
  /** Meters silent since before the replay whose last stored readings were found and replayed. */
  meters_silent: number;
}

export interface RestoreReport {
  sites: SiteRestore[];
  days_seeded: number;
  polls_replayed: number;
  /** Stored summary rows skipped because they are not a valid summary (DCIM_E_SUMMARY_STORED_INVALID). */
  rows_skipped: number;
  /** Wall time the restore took, ms. */
  took_ms: number;
  /** The stored summaries of the windows still open to late data, per site (for the summary tracker). */
  recent: Map<string, SiteSummary[]>;
}

function restoredDay(s: SiteSummary, day: number): RestoredDay {
  const groups = Object.fromEntries(METER_GROUPS.map((g) => [g, { kwh: s.groups[g].kwh, covered_ms: s.groups[g].covered_ms, resets: s.groups[g].resets, spikes: s.groups[g].spikes }])) as RestoredDay['groups'];
  return { day, groups, ...(s.occupancy ? { occupancy: { start: s.window_start, end: s.window_end, ...s.occupancy } } : {}) };
}

export async function restoreHistory(engine: KpiEngine, stored: RestoreSources, now_ms: number, opts: RestoreOptions = {}): Promise<RestoreReport> {
  const t0 = performance.now();
  const { late_days, day_retention } = engine.history;
  const skippedBefore = stored.summaries.skipped;
  const report: RestoreReport = { sites: [], days_seeded: 0, polls_replayed: 0, rows_skipped: 0, took_ms: 0, recent: new Map() };
  const edge = settledEdge(now_ms, engine.settle_ms);
  const plans: { site: string; horizon: number; days: RestoredDay[]; refused: number }[] = [];
  // Everything is read before the engine is touched: a store failing halfway leaves it as it was.
  for (const site of opts.sites ?? engine.siteIds) {
    const cal = engine.siteSource(site)?.calendar;
    if (!cal) continue;
    const horizon = cal.dayStart(cal.dayNumber(edge - late_days * DAY_MS));
    const today = cal.dayNumber(now_ms);
    const oldest = cal.dayStart(today - day_retention + 1);
    const days: RestoredDay[] = [];
    let refused = 0;
    for (const s of await stored.summaries.summaries(site, '1d', oldest, horizon)) {
      const day = cal.dayNumber(s.window_start);
      // A day summary of another time zone (the site's zone changed) does not fill one of this calendar's days.
      if (s.timezone !== cal.timezone || cal.dayStart(day) !== s.window_start || cal.dayStart(day + 1) !== s.window_end) refused++;
      else days.push(restoredDay(s, day));
    }
    const recent: SiteSummary[] = [];
    const month = cal.monthOf(horizon).start;
    for (const w of ['15m', '1h', '1d', '1mo'] as const satisfies readonly SummaryWindow[]) {
      for (const s of await stored.summaries.summaries(site, w, w === '1mo' ? month : horizon, edge)) if (s.window_end <= edge) recent.push(s);
    }
    report.recent.set(site, recent);
    plans.push({ site, horizon, days, refused });
  }
  const slice = opts.slice_ms ?? HOUR_MS;
  for (const p of plans) {
    const r = engine.beginRestore(p.site, p.horizon, p.days);
    const done: SiteRestore = { site: p.site, horizon_ms: p.horizon, days_seeded: r.seeded, days_refused: r.refused + p.refused, polls_replayed: 0, readings_replayed: 0, meters_silent: 0 };
    const measurements = opts.measurements?.(p.site) ?? DEVICE_CLASSES;
    const from = p.horizon - engine.primeMs(p.site);
    const primed = new Set<string>();
    const feed = (poll: RecordedPoll) => {
      engine.ingest(p.site, poll.device, poll.ts, poll.readings);
      done.polls_replayed++;
      done.readings_replayed += poll.readings.length;
    };
    try {
      for (let t = from; t <= now_ms; t += slice) {
        const rows = await stored.readings.slice(p.site, measurements, t, Math.min(t + slice, now_ms + 1));
        for (const poll of pollsFromRows(p.site, rows)) {
          if (poll.ts < p.horizon) primed.add(poll.device);
          feed(poll);
        }
      }
      // A meter silent since before the replay: its last two stored readings, so its silent tail
      // (and the step its counter makes when it speaks again) are what they were before the restart.
      const silent = new Set(Object.keys(engine.meterEvents(p.site)).filter((d) => !primed.has(d)));
      const found = new Map<string, RecordedPoll[]>();
      const stop = from - (opts.silent_search_ms ?? 7 * DAY_MS);
      for (let t = from; t > stop && silent.size > 0; t -= DAY_MS) {
        const polls = pollsFromRows(p.site, await stored.readings.slice(p.site, measurements, Math.max(stop, t - DAY_MS), t));
        for (let i = polls.length - 1; i >= 0; i--) {
          const poll = polls[i]!;
          if (!silent.has(poll.device)) continue;
          const got = found.get(poll.device) ?? [];
          got.push(poll);
          found.set(poll.device, got);
          if (got.length === 2) silent.delete(poll.device);
        }
      }
      for (const poll of [...found.values()].flat().sort((a, b) => a.ts - b.ts)) feed(poll);
      done.meters_silent = found.size;
    } finally {
      engine.endRestore(p.site, from);
    }
    report.sites.push(done);
    report.days_seeded += done.days_seeded;
    report.polls_replayed += done.polls_replayed;
  }
  report.rows_skipped = stored.summaries.skipped - skippedBefore;
  report.took_ms = performance.now() - t0;
  return report;
}

/**
 * The collector's start: the restore, logged, never thrown. A store that cannot be read (down,
 * refusing the query, VictoriaMetrics) is a DCIM_E_RESTORE_FAILED line, and the collector starts
 * with the history it sees from then on.
 */
export async function restoreAtStart(engine: KpiEngine, open: () => RestoreSources & { readonly problems?: readonly string[] }, now_ms: number, logger: Logger, opts: RestoreOptions = {}): Promise<RestoreReport | undefined> {
  let sources: (RestoreSources & { readonly problems?: readonly string[] }) | undefined;
  try {
    sources = open();
    const r = await restoreHistory(engine, sources, now_ms, opts);
    logger.info('history restored from the store', {
      store: sources.readings.target,
      days_seeded: r.days_seeded,
      polls_replayed: r.polls_replayed,
      rows_skipped: r.rows_skipped,
      took_ms: Math.round(r.took_ms),
      sites: r.sites.map((s) => ({ site: s.site, horizon: new Date(s.horizon_ms).toISOString(), days_seeded: s.days_seeded, days_refused: s.days_refused, polls_replayed: s.polls_replayed, meters_silent: s.meters_silent })),
    });
    if (r.rows_skipped > 0) logger.warn('stored summary rows skipped: not a valid summary', { code: 'DCIM_E_SUMMARY_STORED_INVALID', rows: r.rows_skipped, problems: sources.problems ?? [] });
    return r;
  } catch (e) {
    const code = e instanceof DcimError ? e.code : undefined;
    logger.error('history not restored: month and year windows start from what this process sees', { code: 'DCIM_E_RESTORE_FAILED', ...(code ? { cause: code } : {}), error: e as Error });
    return undefined;
  } finally {
    await sources?.readings.close().catch(() => undefined);
  }
}
