import type { ErrorCode } from '../../contract/errors.js';
import { METER_GROUPS, MAX_SUMMARY_BYTES, SiteSummarySchema, type SiteSummary } from '../../contract/summary.js';
import { parseTopic } from '../../contract/topics.js';
import { QUARTER_MS, siteCalendar, type SiteCalendar } from '../../shared/time/site-calendar.js';

/**
 * What the bureau checks before a site summary may change anything (docs/bureau.md "Checks"):
 * pure, in the order the cheapest and most telling come first. Each refusal names its catalogue
 * code; the revision order is checked afterwards by the site's `SummarySiteSource.put`.
 */
export type SummaryVerdict = { ok: true; summary: SiteSummary } | { ok: false; code: ErrorCode; reason: string; site?: string };

export interface SummaryCheckContext {
  /** Sites of the clusters file. */
  known: { has(site: string): boolean };
  /** The time zone the bureau holds for a site, once it has one of its summaries. */
  timezoneOf(site: string): string | undefined;
  now_ms: number;
  /** How far ahead of the bureau's clock a window end or a generation time may be. */
  max_skew_ms: number;
}

/** Meter-time and sums compared with a little room for float rounding at the sender. */
const REL_TOLERANCE = 1e-9;
const ABS_TOLERANCE_MS = 1;

const refuse = (code: ErrorCode, reason: string, site?: string): SummaryVerdict => ({ ok: false, code, reason, ...(site !== undefined ? { site } : {}) });

/** The zone's calendar (shared per zone by siteCalendar), or why the zone is refused. */
function calendarOf(tz: string): SiteCalendar | string {
  try {
    return siteCalendar(tz);
  } catch (e) {
    return (e as Error).message;
  }
}

export function checkSummary(topic: string, payload: Uint8Array, ctx: SummaryCheckContext): SummaryVerdict {
  const t = parseTopicSafe(topic);
  if (t?.kind !== 'summary') return refuse('DCIM_E_SUMMARY_INVALID', `not a summary topic: ${topic.slice(0, 200)}`);
  if (payload.byteLength > MAX_SUMMARY_BYTES) return refuse('DCIM_E_SUMMARY_INVALID', `payload of ${payload.byteLength} bytes exceeds ${MAX_SUMMARY_BYTES}`, t.site);
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
  } catch {
    return refuse('DCIM_E_SUMMARY_INVALID', 'payload is not JSON', t.site);
  }
  const parsed = SiteSummarySchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || 'summary'}: ${i.message}`);
    return refuse('DCIM_E_SUMMARY_INVALID', issues.join('; '), t.site);
  }
  const s = parsed.data;
  if (s.site !== t.site || s.window !== t.window) return refuse('DCIM_E_SUMMARY_TOPIC_MISMATCH', `topic says ${t.site}/${t.window}, body says ${s.site}/${s.window}`, t.site);
  if (!ctx.known.has(s.site)) return refuse('DCIM_E_SUMMARY_UNKNOWN_SITE', `site ${s.site} is in no cluster of the clusters file`, s.site);
  const tz = ctx.timezoneOf(s.site);
  if (tz !== undefined && tz !== s.timezone) return refuse('DCIM_E_SUMMARY_IMPOSSIBLE', `time zone ${s.timezone}, but the site's summaries so far say ${tz}`, s.site);
  const bounds = checkBounds(s);
  if (bounds) return refuse('DCIM_E_SUMMARY_INVALID', bounds, s.site);
  const impossible = checkSums(s);
  if (impossible) return refuse('DCIM_E_SUMMARY_IMPOSSIBLE', impossible, s.site);
  const limit = ctx.now_ms + ctx.max_skew_ms;
  if (s.window_end > limit) return refuse('DCIM_E_SUMMARY_AHEAD', `window ends ${Math.round((s.window_end - ctx.now_ms) / 1000)} s after the bureau's clock`, s.site);
  if (s.generated_ms > limit) return refuse('DCIM_E_SUMMARY_AHEAD', `generated ${Math.round((s.generated_ms - ctx.now_ms) / 1000)} s after the bureau's clock`, s.site);
  return { ok: true, summary: s };
}

function parseTopicSafe(topic: string): ReturnType<typeof parseTopic> | undefined {
  try {
    return parseTopic(topic);
  } catch {
    return undefined;
  }
}

/** The window's bounds against its kind, in the summary's own time zone; undefined when they fit. */
export function checkBounds(s: SiteSummary): string | undefined {
  const cal = calendarOf(s.timezone);
  if (typeof cal === 'string') return `timezone: ${cal}`;
  const { window_start: start, window_end: end } = s;
  const span = `[${new Date(start).toISOString()}, ${new Date(end).toISOString()})`;
  if (s.window === '15m' || s.window === '1h') {
    if (s.period !== undefined) return `a ${s.window} window carries no period`;
    const b = s.window === '15m' ? { start: Math.floor(start / QUARTER_MS) * QUARTER_MS, end: Math.floor(start / QUARTER_MS) * QUARTER_MS + QUARTER_MS } : cal.hourOf(start);
    return b.start === start && b.end === end ? undefined : `${span} is not one aligned ${s.window === '15m' ? 'quarter hour' : 'hour'}`;
  }
  if (s.window === '1d') {
    const d = cal.dayOf(start);
    if (d.start !== start || d.end !== end) return `${span} is not one local day in ${s.timezone}`;
    const period = cal.localDate(start);
    return s.period === period ? undefined : `period ${String(s.period)} is not the day's (${period})`;
  }
  const m = cal.monthOf(start);
  if (m.start !== start || m.end !== end) return `${span} is not one local calendar month in ${s.timezone}`;
  return s.period === m.period ? undefined : `period ${String(s.period)} is not the month's (${m.period})`;
}

/** Sums no site can have; undefined when none. */
export function checkSums(s: SiteSummary): string | undefined {
  const length = s.window_end - s.window_start;
  for (const g of METER_GROUPS) {
    const x = s.groups[g];
    const most = x.meters * length;
    if (x.covered_ms > most * (1 + REL_TOLERANCE) + ABS_TOLERANCE_MS) return `groups.${g}.covered_ms ${x.covered_ms} exceeds ${x.meters} meter(s) × ${length} ms`;
  }
  const o = s.occupancy;
  if (o) {
    if (o.racks_on > o.racks_available) return `occupancy.racks_on ${o.racks_on} exceeds racks_available ${o.racks_available}`;
    if (o.rated_kw_on > o.rated_kw_available * (1 + REL_TOLERANCE) + 1e-9) return `occupancy.rated_kw_on ${o.rated_kw_on} exceeds rated_kw_available ${o.rated_kw_available}`;
  }
  const c = s.compute;
  if (c) {
    if (c.accelerators_unknown > c.accelerators) return `compute.accelerators_unknown ${c.accelerators_unknown} exceeds accelerators ${c.accelerators}`;
    if (c.accelerators_reporting > c.accelerators) return `compute.accelerators_reporting ${c.accelerators_reporting} exceeds accelerators ${c.accelerators}`;
  }
  for (const k of s.kpis) {
    // A percentage of accelerators busy cannot pass 100. (IT-load utilisation, IT energy over the
    // rated power of the available racks, can: IT outside the racks, racks drawing above rating.)
    if (k.ok && k.value !== undefined && k.kpi.endsWith('_pct') && k.value > 100 * (1 + REL_TOLERANCE)) return `kpis: ${k.kpi} ${k.value} above 100 %`;
  }
  return undefined;
}
