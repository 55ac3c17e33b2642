import type { Cluster } from '../../contract/inventory.js';
import type { SiteSummary, SummaryWindow } from '../../contract/summary.js';
import { SummarySiteSource } from '../federation/summary-source.js';
import type { StoredSummaries } from '../federation/summary-store.js';
import { clusterKpis, siteKpis } from '../kpi/site-kpis.js';
import { DAY_MS, siteCalendar, type SiteCalendar } from '../../shared/time/site-calendar.js';
import { lastDayEnd, settledEdge, windowAt } from '../kpi/windows.js';
import { ReportSourceError } from './api-report-source.js';
import type { ReportScope, SiteReporting } from './monthly-report.js';

/**
 * The monthly report of any month from stored site summaries (a site collector's store or the
 * bureau's): each site's summaries are read back into a `SummarySiteSource` and evaluated by the
 * same functions the live collector uses, as of the month's end (now = month end + settle), so the
 * `1mo` window is the whole month, `ytd` the year to it, `12mo` the trailing year to it and `1y`
 * the last complete calendar year. For the month in progress, as of now.
 *
 * Read per site: month and day summaries from the start of the earliest verdict window (the last
 * complete year or the trailing year) to the month's end; hour and quarter-hour summaries only
 * where the month needs them (`subDayRanges`).
 */

/** A site the config knows: its id, its display name and, when the config says it, its time zone. */
export interface KnownSite {
  id: string;
  name: string;
  timezone?: string;
}

export interface StoreReportOptions {
  /** `YYYY-MM`, local to each site. */
  month: string;
  site?: string;
  cluster?: string;
  sites: readonly KnownSite[];
  clusters: readonly Cluster[];
  settle_ms: number;
  /** The clock: a month still in progress is evaluated as of now, a future month refused. */
  now_ms: number;
  /** A day summary generated more than this after its day ended counts as late (default one day). */
  late_after_ms?: number;
}

export const DEFAULT_LATE_AFTER_MS = DAY_MS;

/** Quarter hours and hours kept by the source: a whole month of them, with days to spare. */
const SOURCE_LIMITS = { quarter_days: 40, days: 800, months: 40 };

/** The widest UTC offsets in use (−12 h … +14 h): a local month lies within these bounds of its UTC one. */
const ZONE_SLACK_MS = 15 * 3_600_000;

interface SiteMonth {
  site: KnownSite;
  /** Evaluated as of this instant (month end + settle, or now for the month in progress). */
  as_of_ms: number;
  source?: SummarySiteSource;
  no_data?: string;
  reporting: SiteReporting;
}

export interface StoreReportScopes {
  scopes: ReportScope[];
  /** The instant the figures are evaluated at (the first site's). */
  as_of_ms: number;
}

function monthParts(month: string): { y: number; m0: number } {
  return { y: Number(month.slice(0, 4)), m0: Number(month.slice(5, 7)) - 1 };
}

/** The time zone of a site the config does not give one for: the one its summaries of the month carry. */
async function zoneOf(store: StoredSummaries, site: string, month: string): Promise<string | undefined> {
  const { y, m0 } = monthParts(month);
  const from = Date.UTC(y, m0, 1) - ZONE_SLACK_MS;
  const to = Date.UTC(y, m0 + 1, 1) + ZONE_SLACK_MS;
  for (const w of ['1mo', '1d', '1h', '15m'] as const) {
    const found = (await store.summaries(site, w, from, to)).find((s) => monthOfSummary(s) === month);
    if (found) return found.timezone;
  }
  return undefined;
}

function monthOfSummary(s: SiteSummary): string {
  return siteCalendar(s.timezone).monthOf(s.window_start).period;
}

/** Local days of the month up to the last complete one, each with its stored day summary if any. */
export function reportingOf(cal: SiteCalendar, month: { start: number; end: number }, days: readonly SiteSummary[], late_after_ms: number): SiteReporting {
  const byStart = new Map(days.map((d) => [d.window_start, d]));
  const first = cal.dayNumber(month.start);
  const last = cal.dayNumber(month.end - 1);
  const missing: string[] = [];
  const late: string[] = [];
  let reported = 0;
  let maxDelay: number | null = null;
  for (let d = first; d <= last; d++) {
    const start = cal.dayStart(d);
    const s = byStart.get(start);
    if (!s) {
      missing.push(cal.localDate(start));
      continue;
    }
    reported++;
    const delay = s.generated_ms - s.window_end;
    maxDelay = maxDelay === null ? delay : Math.max(maxDelay, delay);
    if (delay > late_after_ms) late.push(cal.localDate(start));
  }
  const expected = last - first + 1;
  const status = reported === 0 && expected > 0 ? 'silent' : missing.length > 0 ? 'missing' : late.length > 0 ? 'late' : 'on_time';
  return { status, days_expected: expected, days_reported: reported, days_missing: missing, days_late: late, max_delay_ms: maxDelay, late_after_ms };
}

/**
 * Where the month needs hour and quarter-hour summaries: the days of the month with no day
 * summary (the bureau assembles those from their hours), the last complete day (its quarter hours
 * carry the compute installed at the end) and a day still in progress. Elsewhere a day summary
 * covers the day, so its 96 quarter hours are not read.
 */
export function subDayRanges(cal: SiteCalendar, monthStart: number, edge: number, daysHeld: ReadonlySet<number>): [number, number][] {
  const ranges: [number, number][] = [];
  const add = (a: number, b: number) => {
    const last = ranges.at(-1);
    if (last && last[1] >= a) last[1] = Math.max(last[1], b);
    else ranges.push([a, b]);
  };
  const lastFull = lastDayEnd(cal, edge);
  for (let d = cal.dayNumber(monthStart); cal.dayStart(d) < lastFull; d++) if (!daysHeld.has(cal.dayStart(d))) add(cal.dayStart(d), cal.dayStart(d + 1));
  const tail = lastFull > monthStart ? cal.dayOf(lastFull - 1).start : monthStart;
  if (edge > tail) add(tail, edge);
  return ranges;
}

async function readSiteMonth(store: StoredSummaries, site: KnownSite, o: StoreReportOptions): Promise<SiteMonth> {
  const late_after_ms = o.late_after_ms ?? DEFAULT_LATE_AFTER_MS;
  const { y, m0 } = monthParts(o.month);
  // Not begun in any time zone: refused before looking for a zone in summaries that cannot exist.
  if (Date.UTC(y, m0, 1) - ZONE_SLACK_MS >= o.now_ms) throw new ReportSourceError(`${o.month} has not begun`);
  const zone = site.timezone ?? (await zoneOf(store, site.id, o.month));
  const silent = (why: string, days = 0): SiteMonth => ({
    site,
    as_of_ms: o.now_ms,
    no_data: why,
    reporting: { status: 'silent', days_expected: days, days_reported: 0, days_missing: [], days_late: [], max_delay_ms: null, late_after_ms },
  });
  if (zone === undefined) return silent(`no stored summaries of site ${site.id} for ${o.month}`);
  const cal = siteCalendar(zone);
  const monthStart = cal.midnightOf(y, m0, 1);
  const monthEnd = cal.midnightOf(y, m0 + 1, 1);
  if (monthStart >= o.now_ms) throw new ReportSourceError(`${o.month} has not begun at site ${site.id} (${zone})`);
  const as_of_ms = Math.min(monthEnd + o.settle_ms, o.now_ms);
  const edge = settledEdge(as_of_ms, o.settle_ms);
  const from = Math.min(windowAt(cal, '1y', edge).start, windowAt(cal, '12mo', edge).start, monthStart);
  const read = (w: SummaryWindow, a: number, b: number) => store.summaries(site.id, w, a, b);
  const [months, days] = await Promise.all([read('1mo', from, edge), read('1d', from, edge)]);
  const ranges = subDayRanges(cal, monthStart, edge, new Set(days.map((d) => d.window_start)));
  const hours: SiteSummary[] = [];
  const quarters: SiteSummary[] = [];
  for (const [a, b] of ranges) {
    const [h, q] = await Promise.all([read('1h', a, b), read('15m', a, b)]);
    hours.push(...h);
    quarters.push(...q);
  }
  const inMonth = (s: SiteSummary) => s.window_start >= monthStart && s.window_start < monthEnd;
  const monthDays = days.filter(inMonth);
  const month = { start: monthStart, end: lastDayEnd(cal, edge) };
  const reporting = month.end > month.start ? reportingOf(cal, month, monthDays, late_after_ms) : reportingOf(cal, { start: monthStart, end: monthStart }, [], late_after_ms);
  if (![...months, ...days, ...hours, ...quarters].some(inMonth)) return { ...silent(`no stored summaries of site ${site.id} for ${o.month}`, reporting.days_expected), as_of_ms };
  const source = new SummarySiteSource(site.id, zone, SOURCE_LIMITS);
  for (const s of [...months, ...days, ...hours, ...quarters]) source.put(s);
  return { site, as_of_ms, source, reporting };
}

/**
 * The report scopes of `month`: the chosen site, or a cluster's sites and the cluster, or every
 * known site. A site with nothing stored for the month is a scope with `no_data` (never a row of
 * zeros); a cluster with such a site has insufficient pooled figures, as the live roll-up does.
 */
export async function storeReportScopes(store: StoredSummaries, o: StoreReportOptions): Promise<StoreReportScopes> {
  let chosen: readonly KnownSite[] = o.sites;
  let cluster: Cluster | undefined;
  if (o.site !== undefined) {
    chosen = o.sites.filter((s) => s.id === o.site);
    if (chosen.length === 0) throw new ReportSourceError(`no site ${JSON.stringify(o.site)} in the config (sites: ${o.sites.map((s) => s.id).join(', ') || 'none'})`);
  }
  if (o.cluster !== undefined) {
    cluster = o.clusters.find((c) => c.id === o.cluster);
    if (!cluster) throw new ReportSourceError(`no cluster ${JSON.stringify(o.cluster)} in the config (clusters: ${o.clusters.map((c) => c.id).join(', ') || 'none'})`);
    const byId = new Map(o.sites.map((s) => [s.id, s]));
    chosen = cluster.sites.map((id) => byId.get(id) ?? { id, name: id });
  }
  const months: SiteMonth[] = [];
  for (const site of chosen) months.push(await readSiteMonth(store, site, o));
  const scopes: ReportScope[] = months.map((m) => ({
    kind: 'site',
    summary: { id: m.site.id, name: m.site.name, ...(m.source ? { timezone: m.source.timezone } : m.site.timezone ? { timezone: m.site.timezone } : {}) },
    kpis: m.source ? { schema: 1, site: m.site.id, ts: m.as_of_ms, kpis: siteKpis(m.source, m.as_of_ms, o.settle_ms) } : undefined,
    ...(m.no_data !== undefined ? { no_data: m.no_data } : {}),
    reporting: m.reporting,
  }));
  const hosted = months.filter((m) => m.source);
  if (cluster) {
    const first = hosted[0];
    const absent = months.filter((m) => !m.source).map((m) => m.site.id);
    scopes.push({
      kind: 'cluster',
      summary: { id: cluster.id, name: cluster.name, sites: [...cluster.sites], ...(first ? { timezone: first.source!.timezone } : {}) },
      kpis: first ? { schema: 1, site: cluster.id, ts: first.as_of_ms, kpis: clusterKpis(cluster, hosted.map((m) => m.source!), absent, first.as_of_ms, o.settle_ms) } : undefined,
      ...(first ? {} : { no_data: `no stored summaries of any site of cluster ${cluster.id} for ${o.month}` }),
    });
  }
  return { scopes, as_of_ms: (hosted[0] ?? months[0])?.as_of_ms ?? o.now_ms };
}
