import type { DeclaredGreenItems } from '../../contract/summary.js';
import type { Cluster, Targets } from '../../contract/inventory.js';
import type { KpiValue } from '../../contract/messages.js';
import { meanOfSites, pooledOccupancyDay } from './cluster-rollup.js';
import { computeValues, sumComputeFigures, type ComputeFigures } from './compute-scale.js';
import { pueFromTotals } from './energy-pue.js';
import { combineTotals, energyTotals, type EnergyTotals, type GroupSums } from './energy-totals.js';
import { finiteKpi } from './finite-kpi.js';
import { GREEN_SHARE_LIVE_KPI, greenShareFromTotals, REF_KPI, sumDeclared } from './green-share.js';
import { LIVE_PUE_KPI, pooledLive } from './live-pue.js';
import { occupancyDayValue, occupancyMonthValue, utilisationValue, type OccupancyDay } from './occupancy.js';
import { DAY_MS, QUARTER_MS, type SiteCalendar } from './site-calendar.js';
import { ENERGY_WINDOWS, lastDayEnd, settledEdge, windowAt, type EnergyWindowKind, type WindowBounds } from './windows.js';

/**
 * Every KPI of a site or a cluster as a function of what a site can tell about itself (a
 * `SiteSource`): the energy sums of its meter groups over any window, its occupancy days, the
 * green electricity it declares, its installed compute and (when it has live power) its live
 * figures. The site collector's engine is one source (its ledgers and buckets), the bureau's
 * store of site summaries is another: both evaluate through these functions, so a bureau's
 * roll-up of summaries is the roll-up one collector computes from all the raw telemetry.
 */
export interface SiteSource {
  readonly site: string;
  readonly calendar: SiteCalendar;
  readonly category: 1 | 2 | 3 | undefined;
  readonly targets: Targets;
  /** Rated power of the available racks, kW. */
  readonly rated_kw_available: number;
  /** The meter groups' sums over [start, end) (quarter-aligned), silent tails included. */
  groupSums(w: Pick<WindowBounds, 'start' | 'end'>): GroupSums;
  /** Green electricity declared for a calendar period (`YYYY-MM` or `YYYY`), item by item. */
  declared(period: string): DeclaredGreenItems;
  /** Occupancy of local day number `day`. */
  occupancyDay(day: number): OccupancyDay;
  /** Installed compute at `now`; undefined when the source has none to tell. */
  compute(now_ms: number): ComputeFigures | undefined;
  /** Live PUE and live green share; undefined for a source without live power (a bureau). */
  live(now_ms: number): [KpiValue, KpiValue] | undefined;
  /**
   * The earliest quarter-hour start written since the last call (Infinity when nothing was):
   * windows ending at or before it cannot have changed. Absent: any window may have changed.
   */
  takeChangedFrom?(): number;
}

export function totalsOf(src: SiteSource, w: Pick<WindowBounds, 'start' | 'end'>): EnergyTotals {
  return energyTotals(src.groupSums(w), w.end - w.start);
}

function pueOf(src: SiteSource, w: WindowBounds): KpiValue {
  return pueFromTotals({ window: w, totals: totalsOf(src, w), category: src.category, target: src.targets.pue });
}

function utilisationOf(src: SiteSource, w: WindowBounds): KpiValue {
  const t = totalsOf(src, w);
  return utilisationValue(w, t.missing.includes('it') ? undefined : t.it, t.anomalies, src.rated_kw_available);
}

/** The last complete local day and the month (to that day) holding it. */
export function occupancyWindows(cal: SiteCalendar, edge: number): { day: WindowBounds; month: WindowBounds } {
  const end = lastDayEnd(cal, edge);
  const month = cal.monthOf(end - 1);
  return { day: { window: '1d', start: cal.dayOf(end - 1).start, end }, month: { window: '1mo', start: month.start, end, period: month.period } };
}

/** Occupancy day and month, IT-load utilisation day and month. */
export function occupancyKpis(src: SiteSource, edge: number): KpiValue[] {
  const cal = src.calendar;
  const target = src.targets.rack_occupancy;
  const { day, month } = occupancyWindows(cal, edge);
  const firstDay = cal.dayNumber(month.start);
  const lastDay = cal.dayNumber(day.start);
  const days: { value: KpiValue; day_ms: number }[] = [];
  for (let d = firstDay; d <= lastDay; d++) days.push({ value: occupancyDayValue(src.occupancyDay(d), target), day_ms: cal.dayStart(d) });
  return [days.at(-1)!.value, occupancyMonthValue(month, days, lastDay - firstDay + 1, target), utilisationOf(src, day), utilisationOf(src, month)];
}

/** Every KPI of one site at `now` (docs/design.md §5). */
export function siteKpis(src: SiteSource, now_ms: number, settle_ms: number): KpiValue[] {
  const targets = src.targets;
  const edge = settledEdge(now_ms, settle_ms);
  const out: KpiValue[] = [...(src.live(now_ms) ?? [])];
  for (const kind of ENERGY_WINDOWS) out.push(pueOf(src, windowAt(src.calendar, kind, edge)));
  // The day: physical green supply only (certificates and trades are declared per month).
  const day = windowAt(src.calendar, '1d', edge);
  out.push(greenShareFromTotals({ window: day, totals: totalsOf(src, day), declared: { certificate_kwh: 0, trade_kwh: 0 }, target: targets.green_share, basis: 'energy_physical' }));
  for (const kind of ['1mo', 'ytd', '1y'] as const) {
    const w = windowAt(src.calendar, kind, edge);
    const totals = totalsOf(src, w);
    const declared = sumDeclared(src.declared(w.period!));
    out.push(greenShareFromTotals({ window: w, totals, declared, target: targets.green_share }));
    if (kind === '1y') out.push(greenShareFromTotals({ window: w, totals, declared, target: targets.green_share, kpi: REF_KPI, basis: 'iso_iec_30134_3' }));
  }
  out.push(...occupancyKpis(src, edge));
  const compute = src.compute(now_ms);
  if (compute) out.push(...computeValues(compute, now_ms));
  return out.map(finiteKpi);
}

/**
 * The 15-minute, hourly and daily windows ending after `from` and before `edge` (at most
 * `late_days` back): what late data re-evaluates.
 */
export function pastWindowKpis(src: SiteSource, from: number, edge: number, late_days: number): KpiValue[] {
  const cal = src.calendar;
  const out: KpiValue[] = [];
  const start = Math.max(Math.floor(from / QUARTER_MS) * QUARTER_MS, edge - late_days * DAY_MS);
  for (let e = start + QUARTER_MS; e < edge; e += QUARTER_MS) {
    out.push(pueOf(src, windowAt(cal, '15m', e)));
    if (cal.hourOf(e - 1).end === e) out.push(pueOf(src, windowAt(cal, '1h', e)));
    if (cal.dayOf(e - 1).end === e) {
      const day = windowAt(cal, '1d', e);
      out.push(pueOf(src, day), occupancyDayValue(src.occupancyDay(cal.dayNumber(day.start)), src.targets.rack_occupancy), utilisationOf(src, day));
    }
  }
  return out;
}

/**
 * Every cluster KPI at `now` (docs/design.md §5), energy-weighted (pooled) and mean of sites, each
 * labelled by its basis. `absent`: cluster sites with no source here; every pooled figure is then
 * insufficient (a roll-up that silently drops a site reports a different cluster). Live figures
 * are rolled up only from sources that have them.
 */
export function clusterKpis(c: Cluster, hosted: readonly SiteSource[], absent: readonly string[], now_ms: number, settle_ms: number): KpiValue[] {
  const first = hosted[0];
  if (!first) return [];
  const edge = settledEdge(now_ms, settle_ms);
  const out: KpiValue[] = [];
  const noSites = (v: KpiValue): KpiValue => {
    if (absent.length === 0) return v;
    const { value: _dropped, ...rest } = v;
    return { ...rest, ok: false, reason: `DCIM_E_KPI_INSUFFICIENT: site ${absent.join(', ')} is not served by this collector`, reason_code: 'DCIM_E_KPI_INSUFFICIENT', quality: 'insufficient', status: 'grey', coverage: 0 };
  };
  const siteValues = (pick: (src: SiteSource) => KpiValue) => new Map(hosted.map((src) => [src.site, pick(src)]));
  const categories = new Set(hosted.map((src) => src.category));
  const category = categories.size === 1 ? [...categories][0] : undefined;

  // Live: pooled power (ΣP_facility / ΣP_IT) and the mean of the sites' live values.
  const live = hosted.map((src) => src.live(now_ms));
  if (live.every((l) => l !== undefined)) {
    const livePerSite = (i: 0 | 1) => new Map(hosted.map((src, j) => [src.site, live[j]![i]]));
    const liveRollups = [
      { i: 0 as const, kpi: LIVE_PUE_KPI, numerator: ['facility_power_w'], denominator: 'it_power_w', target: c.targets.pue, direction: 'at_most' as const },
      { i: 1 as const, kpi: GREEN_SHARE_LIVE_KPI, numerator: ['green_onsite_power_w', 'green_feed_power_w'], denominator: 'facility_power_w', cap: 1, target: c.targets.green_share, direction: 'at_least' as const },
    ];
    for (const { i, ...o } of liveRollups) {
      out.push(noSites(pooledLive(c.sites, livePerSite(i), { ...o, at_ms: now_ms })));
      const mean = meanOfSites(c.sites, livePerSite(i), o.target, o.direction);
      if (mean) out.push(mean);
    }
  }

  // Each site's windows follow its own calendar; the cluster reports the first site's bounds.
  const windowFor = (src: SiteSource, kind: EnergyWindowKind) => windowAt(src.calendar, kind, edge);
  for (const kind of ENERGY_WINDOWS) {
    const totals = hosted.map((src) => totalsOf(src, windowFor(src, kind)));
    out.push(noSites(pueFromTotals({ window: windowFor(first, kind), totals: combineTotals(totals), category, target: c.targets.pue, basis: 'energy_weighted' })));
    const perSite = siteValues((src) => pueOf(src, windowFor(src, kind)));
    const mean = meanOfSites(c.sites, perSite, c.targets.pue, 'at_most');
    if (mean) out.push(mean);
  }
  for (const kind of ['1mo', 'ytd', '1y'] as const) {
    const seen = new Set<string>();
    const declared = hosted.map((src) => sumDeclared(src.declared(windowFor(src, kind).period!), seen));
    const sum = { certificate_kwh: declared.reduce((s, d) => s + d.certificate_kwh, 0), trade_kwh: declared.reduce((s, d) => s + d.trade_kwh, 0) };
    const totals = combineTotals(hosted.map((src) => totalsOf(src, windowFor(src, kind))));
    out.push(noSites(greenShareFromTotals({ window: windowFor(first, kind), totals, declared: sum, target: c.targets.green_share, basis: 'energy_weighted' })));
    const perSite = siteValues((src) => {
      const w = windowFor(src, kind);
      return greenShareFromTotals({ window: w, totals: totalsOf(src, w), declared: sumDeclared(src.declared(w.period!)), target: src.targets.green_share });
    });
    const mean = meanOfSites(c.sites, perSite, c.targets.green_share, 'at_least');
    if (mean) out.push(mean);
  }

  // Occupancy: pooled days (Σ on-rack / Σ available), month = mean of pooled days; and mean of site values.
  const occ = hosted.map((src) => {
    const { day, month } = occupancyWindows(src.calendar, edge);
    const cal = src.calendar;
    const days: OccupancyDay[] = [];
    for (let d = cal.dayNumber(month.start); d <= cal.dayNumber(day.start); d++) days.push(src.occupancyDay(d));
    return { src, day, month, days };
  });
  const o0 = occ[0]!;
  const nDays = Math.min(...occ.map((o) => o.days.length));
  const pooledDays = Array.from({ length: nDays }, (_, i) => pooledOccupancyDay(occ.map((o) => o.days[o.days.length - nDays + i]!))!);
  const pooledValues = pooledDays.map((d) => ({ value: { ...occupancyDayValue(d, c.targets.rack_occupancy), basis: 'pooled' }, day_ms: d.start }));
  out.push(noSites(pooledValues.at(-1)!.value), noSites({ ...occupancyMonthValue(o0.month, pooledValues, o0.days.length, c.targets.rack_occupancy), basis: 'pooled' }));
  for (const [i, kind] of (['1d', '1mo'] as const).entries()) {
    const perSite = new Map(occ.map((o) => [o.src.site, occupancyKpis(o.src, edge)[i]!]));
    const mean = meanOfSites(c.sites, perSite, c.targets.rack_occupancy, 'at_least');
    if (mean) out.push({ ...mean, window: kind });
  }

  // Compute: the sum of what the sites tell; a site with nothing to tell leaves the sum short.
  const figures = hosted.map((src) => src.compute(now_ms));
  const known = figures.filter((f): f is ComputeFigures => f !== undefined);
  const silent = hosted.filter((_, i) => figures[i] === undefined).map((src) => src.site);
  if (known.length > 0) {
    const short = (v: KpiValue): KpiValue => {
      if (silent.length === 0) return v;
      const { value: _dropped, ...rest } = v;
      return { ...rest, ok: false, reason: `DCIM_E_KPI_INSUFFICIENT: no compute figures from site ${silent.join(', ')}`, reason_code: 'DCIM_E_KPI_INSUFFICIENT', quality: 'insufficient', status: 'grey', coverage: 0 };
    };
    out.push(...computeValues(sumComputeFigures(known), now_ms).map((v) => short(noSites({ ...v, basis: `sum:${v.basis}` }))));
  }
  return out.map(finiteKpi);
}

/**
 * The KPIs of one closed window a site summarises (15m, 1h: PUE; 1d: PUE, physical green share,
 * occupancy, IT-load utilisation; 1mo: PUE, green share with what was declared, occupancy as the
 * mean of its days, utilisation).
 */
export function windowKpis(src: SiteSource, w: WindowBounds): KpiValue[] {
  const out = [pueOf(src, w)];
  const cal = src.calendar;
  if (w.window === '1d') {
    out.push(greenShareFromTotals({ window: w, totals: totalsOf(src, w), declared: { certificate_kwh: 0, trade_kwh: 0 }, target: src.targets.green_share, basis: 'energy_physical' }));
    out.push(occupancyDayValue(src.occupancyDay(cal.dayNumber(w.start)), src.targets.rack_occupancy), utilisationOf(src, w));
  } else if (w.window === '1mo') {
    out.push(greenShareFromTotals({ window: w, totals: totalsOf(src, w), declared: sumDeclared(src.declared(w.period!)), target: src.targets.green_share }));
    const first = cal.dayNumber(w.start);
    const last = cal.dayNumber(w.end - 1);
    const days: { value: KpiValue; day_ms: number }[] = [];
    for (let d = first; d <= last; d++) days.push({ value: occupancyDayValue(src.occupancyDay(d), src.targets.rack_occupancy), day_ms: cal.dayStart(d) });
    out.push(occupancyMonthValue(w, days, last - first + 1, src.targets.rack_occupancy), utilisationOf(src, w));
  }
  return out.map(finiteKpi);
}
