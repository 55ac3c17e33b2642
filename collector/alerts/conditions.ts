import type { KpiValue } from '../../contract/messages.js';
import { staleAfterMs } from '../state/latest-values.js';
import { alertId } from './alert-id.js';
import { describePlace, deviceMatches, memberName, scopeLabels, selectedPoints, type AlertDevice, type AlertSite, type PlaceLabels } from './alert-labels.js';
import type { AlertRecord } from './alert-record.js';
import { formatNumber, renderTemplate, type TemplateValues } from './alert-template.js';
import { formatDuration } from './duration.js';
import type { Evaluation, Identity, Status } from './lifecycle.js';
import { alertName } from './load-rules.js';
import type { ObservedState, SeriesState } from './observed-state.js';
import type {
  AgentOfflineRule,
  AlertRule,
  Band,
  CounterResetRule,
  DeviceStatusRule,
  KpiRule,
  RateOfChangeRule,
  ReadingRule,
  Severity,
  StaleRule,
} from './rule-schema.js';

/**
 * Rule conditions, pure: a rule and what was observed → candidates, one per alert the rule could
 * raise now (one per device, rack group, site … as its scope says). A candidate is evaluated
 * against its previous record, because a firing alert clears only past its hysteresis and an
 * event alert stays up for `keep_firing_for`.
 */
export interface Candidate {
  identity: Identity;
  rule: AlertRule;
  evaluate(prev: AlertRecord | undefined): Evaluation;
}

export interface ConditionContext {
  sites: ReadonlyMap<string, AlertSite>;
  observed: ObservedState;
  now: number;
  /** Since when this process watches: a point never seen is stale only after its limit from here. */
  watching_since: number;
  /** Meters whose counter was reset since the last evaluation, per site. */
  resets: ReadonlyMap<string, ReadonlySet<string>>;
}

const MAX_MEMBERS_LISTED = 8;

function identity(rule: AlertRule, severity: Severity, place: Record<string, string | undefined>): Identity {
  const labels: Record<string, string> = { alertname: alertName(rule), severity };
  for (const [k, v] of Object.entries(place)) if (v !== undefined) labels[k] = v;
  Object.assign(labels, rule.labels);
  return { id: alertId(rule.id, labels), rule: rule.id, name: labels.alertname as string, severity, labels };
}

function evaluation(rule: AlertRule, status: Status, value: number | undefined, vars: TemplateValues): Evaluation {
  // Texts only matter for a breach (a clear or unknown step keeps the record's own): most
  // candidates of a large site are clear on every tick, so they are not rendered.
  if (status !== 'breach') return { status, value, summary: '', description: '', runbook: null, runbook_url: null };
  const all: TemplateValues = { ...vars, ...(value !== undefined ? { value: vars.value ?? formatNumber(value) } : {}) };
  return {
    status,
    value,
    summary: renderTemplate(rule.summary, all),
    description: rule.description !== undefined ? renderTemplate(rule.description, all) : '',
    runbook: rule.runbook !== undefined ? renderTemplate(rule.runbook, all) : null,
    runbook_url: rule.runbook_url !== undefined ? renderTemplate(rule.runbook_url, all) : null,
  };
}

function placeVars(rule: AlertRule, severity: Severity, place: PlaceLabels & { point?: string }): TemplateValues {
  return {
    alertname: alertName(rule),
    severity,
    site: place.site,
    where: describePlace(place),
    ...(place.hall !== undefined ? { hall: place.hall } : {}),
    ...(place.rack !== undefined ? { rack: place.rack } : {}),
    ...(place.rack_group !== undefined ? { rack_group: place.rack_group } : {}),
    ...(place.device !== undefined ? { device: place.device } : {}),
    ...(place.point !== undefined ? { point: place.point } : {}),
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A series is fresh while younger than max(3 × its device's poll interval, 5 min), as for the KPIs. */
function isFresh(s: SeriesState, d: AlertDevice, now: number): boolean {
  return now - s.latest.ts_ms <= staleAfterMs(d.interval_s);
}

function matchedDevices(site: AlertSite, rule: { match?: Parameters<typeof deviceMatches>[1] }): AlertDevice[] {
  return [...site.devices.values()].filter((d) => deviceMatches(d, rule.match));
}

function sitesOf(ctx: ConditionContext, rule: { match?: { sites?: readonly string[] | undefined } | undefined }): AlertSite[] {
  return [...ctx.sites.values()].filter((s) => rule.match?.sites === undefined || rule.match.sites.includes(s.id));
}

interface Group {
  place: PlaceLabels & { point?: string };
  devices: AlertDevice[];
  /** Fresh series of the group's devices, with the device each belongs to. */
  series: { s: SeriesState; d: AlertDevice }[];
}

/** Devices of a reading or rate rule, grouped by scope, each with its fresh numeric series. */
function groups(ctx: ConditionContext, site: AlertSite, rule: ReadingRule | RateOfChangeRule): Map<string, Group> {
  const out = new Map<string, Group>();
  const wanted = new Map<string, { d: AlertDevice; points: Set<string> }>();
  for (const d of matchedDevices(site, rule)) {
    const points = selectedPoints(d, rule);
    if (points.length === 0) continue;
    wanted.set(d.id, { d, points: new Set(points) });
    const place: Group['place'] = scopeLabels(d, rule.scope);
    if (rule.scope === 'device' && points.length === 1) place.point = points[0] as string;
    const key = JSON.stringify(place);
    const g = out.get(key);
    if (g) g.devices.push(d);
    else out.set(key, { place, devices: [d], series: [] });
  }
  for (const s of ctx.observed.seriesOf(site.id)) {
    const w = wanted.get(s.device);
    if (!w || !w.points.has(s.point) || !isFresh(s, w.d, ctx.now)) continue;
    const place: Group['place'] = scopeLabels(w.d, rule.scope);
    if (rule.scope === 'device' && w.points.size === 1) place.point = s.point;
    out.get(JSON.stringify(place))?.series.push({ s, d: w.d });
  }
  return out;
}

function bandText(b: Band): string {
  if (b.above !== undefined && b.below !== undefined) return `${formatNumber(b.below)}–${formatNumber(b.above)}`;
  return b.above !== undefined ? `> ${formatNumber(b.above)}` : `< ${formatNumber(b.below as number)}`;
}

/** `r03 33.1, r04 32.8 …and 3 more`: the members furthest outside first, one entry per member. */
function membersText(entries: readonly { name: string; value: number; excess: number }[]): string {
  const best = new Map<string, { name: string; value: number; excess: number }>();
  for (const e of entries) {
    const prev = best.get(e.name);
    if (!prev || e.excess > prev.excess) best.set(e.name, e);
  }
  const sorted = [...best.values()].sort((a, b) => b.excess - a.excess || (a.name < b.name ? -1 : 1));
  const shown = sorted.slice(0, MAX_MEMBERS_LISTED).map((e) => `${e.name} ${formatNumber(e.value)}`);
  if (sorted.length > MAX_MEMBERS_LISTED) shown.push(`…and ${sorted.length - MAX_MEMBERS_LISTED} more`);
  return shown.join(', ');
}

const numeric = (g: Group) => g.series.flatMap(({ s, d }) => (typeof s.latest.value === 'number' ? [{ s, d, value: s.latest.value }] : []));

function readingBandCandidates(ctx: ConditionContext, rule: ReadingRule): Candidate[] {
  const out: Candidate[] = [];
  for (const site of sitesOf(ctx, rule)) {
    for (const g of groups(ctx, site, rule).values()) {
      const series = numeric(g);
      for (const [sev, band] of Object.entries(rule.bands ?? {}) as [Severity, Band][]) {
        const who = identity(rule, sev, g.place);
        out.push({
          identity: who,
          rule,
          evaluate: (prev) => {
            const vars = { ...placeVars(rule, sev, g.place), band: bandText(band) };
            if (series.length === 0) return evaluation(rule, 'unknown', undefined, vars);
            // A firing alert clears only once every member is back inside by the hysteresis.
            const h = prev?.state === 'firing' ? rule.hysteresis : 0;
            const hi = band.above !== undefined ? band.above - h : Infinity;
            const lo = band.below !== undefined ? band.below + h : -Infinity;
            const outside = series.filter((m) => m.value > hi || m.value < lo);
            const max = Math.max(...series.map((m) => m.value));
            const min = Math.min(...series.map((m) => m.value));
            const high = max > hi;
            const low = min < lo;
            const value = high ? max : low ? min : band.above !== undefined ? max : min;
            const limit = high || (!low && band.above !== undefined) ? band.above : band.below;
            const members = membersText(outside.map((m) => ({ name: memberName(m.d, rule.scope), value: m.value, excess: m.value > hi ? m.value - hi : lo - m.value })));
            return evaluation(rule, high || low ? 'breach' : 'clear', value, { ...vars, members: members || '-', ...(limit !== undefined ? { limit: formatNumber(limit) } : {}) });
          },
        });
      }
    }
  }
  return out;
}

function readingStateCandidates(ctx: ConditionContext, rule: ReadingRule): Candidate[] {
  const out: Candidate[] = [];
  const sev = rule.severity as Severity;
  for (const site of sitesOf(ctx, rule)) {
    for (const g of groups(ctx, site, rule).values()) {
      out.push({
        identity: identity(rule, sev, g.place),
        rule,
        evaluate: () => {
          const vars = placeVars(rule, sev, g.place);
          if (g.series.length === 0) return evaluation(rule, 'unknown', undefined, vars);
          const hit = g.series.find(({ s }) => s.latest.value === rule.equals);
          const shown = (hit ?? (g.series[0] as Group['series'][number])).s.latest.value;
          return evaluation(rule, hit ? 'breach' : 'clear', typeof shown === 'number' ? shown : undefined, { ...vars, value: String(shown) });
        },
      });
    }
  }
  return out;
}

/** The largest change of a series within the window ending at its latest sample. */
function changeOf(s: SeriesState, over_ms: number, direction: RateOfChangeRule['direction']): number {
  const latest = s.latest.value as number;
  let change = 0;
  for (const h of s.history) {
    if (h.ts_ms < s.latest.ts_ms - over_ms || typeof h.value !== 'number') continue;
    const rise = latest - h.value;
    const c = direction === 'rise' ? rise : direction === 'fall' ? -rise : Math.abs(rise);
    if (c > change) change = c;
  }
  return change;
}

function rateCandidates(ctx: ConditionContext, rule: RateOfChangeRule): Candidate[] {
  const out: Candidate[] = [];
  for (const site of sitesOf(ctx, rule)) {
    for (const g of groups(ctx, site, rule).values()) {
      out.push({
        identity: identity(rule, rule.severity, g.place),
        rule,
        evaluate: (prev) => {
          const vars = { ...placeVars(rule, rule.severity, g.place), over: formatDuration(rule.over), limit: formatNumber(rule.delta) };
          const series = numeric(g);
          if (series.length === 0) return evaluation(rule, 'unknown', undefined, vars);
          const limit = rule.delta - (prev?.state === 'firing' ? rule.hysteresis : 0);
          const changes = series.map((m) => ({ m, change: changeOf(m.s, rule.over, rule.direction) }));
          const worst = Math.max(...changes.map((c) => c.change));
          const members = membersText(changes.filter((c) => c.change > limit).map((c) => ({ name: memberName(c.m.d, rule.scope), value: c.change, excess: c.change })));
          return evaluation(rule, worst > limit ? 'breach' : 'clear', worst, { ...vars, delta: formatNumber(worst), members: members || '-' });
        },
      });
    }
  }
  return out;
}

function staleCandidates(ctx: ConditionContext, rule: StaleRule): Candidate[] {
  const out: Candidate[] = [];
  for (const site of sitesOf(ctx, rule)) {
    for (const d of matchedDevices(site, rule)) {
      // Without its profile a device's points are unknown: it cannot be missing any.
      if (d.points === undefined) continue;
      for (const point of selectedPoints(d, rule)) {
        const place = { ...d.labels, point };
        out.push({
          identity: identity(rule, rule.severity, place),
          rule,
          evaluate: () => {
            const limit = rule.after ?? staleAfterMs(d.interval_s);
            const last = ctx.observed.lastSeenOf(site.id, d.id, point);
            const age = Math.max(0, ctx.now - (last ?? ctx.watching_since));
            const ageText = `${formatDuration(age)}${last === undefined ? ' (never reported)' : ''}`;
            const vars = { ...placeVars(rule, rule.severity, place), age: ageText, value: ageText, after: formatDuration(limit) };
            // Not seen since this process started watching: unknown until the limit has passed, so a
            // restart neither resolves a sensor that was already stale nor calls a live one stale.
            const status = age > limit ? 'breach' : last === undefined ? 'unknown' : 'clear';
            return evaluation(rule, status, age / 1000, vars);
          },
        });
      }
    }
  }
  return out;
}

function deviceStatusCandidates(ctx: ConditionContext, rule: DeviceStatusRule): Candidate[] {
  const out: Candidate[] = [];
  for (const site of sitesOf(ctx, rule)) {
    for (const d of matchedDevices(site, rule)) {
      out.push({
        identity: identity(rule, rule.severity, d.labels),
        rule,
        evaluate: () => {
          const st = ctx.observed.statusOf(site.id, d.id);
          const vars = { ...placeVars(rule, rule.severity, d.labels), state: st?.state ?? 'unknown', code: st?.code ?? '-', since: st ? iso(st.since) : '-' };
          // No status seen yet (just started, retained messages still arriving): no verdict.
          if (!st) return evaluation(rule, 'unknown', undefined, vars);
          return evaluation(rule, (rule.states as string[]).includes(st.state) ? 'breach' : 'clear', undefined, vars);
        },
      });
    }
  }
  return out;
}

function agentCandidates(ctx: ConditionContext, rule: AgentOfflineRule): Candidate[] {
  const out: Candidate[] = [];
  for (const site of sitesOf(ctx, rule)) {
    for (const [agent, state] of ctx.observed.agentsOf(site.id)) {
      const place = { site: site.id, agent };
      out.push({
        identity: identity(rule, rule.severity, place),
        rule,
        evaluate: () => evaluation(rule, state.online ? 'clear' : 'breach', undefined, { ...placeVars(rule, rule.severity, { site: site.id }), where: `agent ${agent}`, agent, since: iso(state.ts) }),
      });
    }
  }
  return out;
}

function counterResetCandidates(ctx: ConditionContext, rule: CounterResetRule): Candidate[] {
  const out: Candidate[] = [];
  for (const site of sitesOf(ctx, rule)) {
    const resets = ctx.resets.get(site.id) ?? new Set<string>();
    for (const d of matchedDevices(site, rule)) {
      if (d.role === undefined) continue;
      out.push({
        identity: identity(rule, rule.severity, d.labels),
        rule,
        evaluate: (prev) => {
          const vars = placeVars(rule, rule.severity, d.labels);
          if (resets.has(d.id)) return { ...evaluation(rule, 'breach', undefined, { ...vars, since: iso(ctx.now) }), event: true };
          const last = prev?.last_event_at;
          const holding = prev?.state === 'firing' && last !== null && last !== undefined && ctx.now - last < rule.keep_firing_for;
          return evaluation(rule, holding ? 'breach' : 'clear', undefined, { ...vars, ...(last ? { since: iso(last) } : {}) });
        },
      });
    }
  }
  return out;
}

/** The KPI value a rule judges: its kpi and window, preferring a computed one. */
function kpiValueOf(kpis: readonly KpiValue[] | undefined, rule: KpiRule): KpiValue | undefined {
  const all = (kpis ?? []).filter((k) => k.kpi === rule.kpi && k.window === rule.window);
  return all.find((k) => k.ok) ?? all[0];
}

function kpiCandidates(ctx: ConditionContext, rule: KpiRule): Candidate[] {
  return sitesOf(ctx, rule).map((site): Candidate => {
    const place = { site: site.id, kpi: rule.kpi, window: rule.window };
    return {
      identity: identity(rule, rule.severity, place),
      rule,
      evaluate: (prev) => {
        const k = kpiValueOf(ctx.observed.kpisOf(site.id), rule);
        const vars: TemplateValues = { ...placeVars(rule, rule.severity, { site: site.id }), kpi: rule.kpi, window: rule.window, ...(k ? { quality: k.quality } : {}), ...(k?.target !== undefined ? { target: formatNumber(k.target) } : {}) };
        // No value, or insufficient quality, is no verdict, so no alarm.
        if (!k || !k.ok || k.value === undefined || k.quality === 'insufficient') return evaluation(rule, 'unknown', undefined, vars);
        const limitOf = (l: number | 'target' | undefined) => (l === 'target' ? k.target : l);
        const above = limitOf(rule.above);
        const below = limitOf(rule.below);
        if ((rule.above !== undefined && above === undefined) || (rule.below !== undefined && below === undefined)) return evaluation(rule, 'unknown', k.value, vars);
        const h = prev?.state === 'firing' ? rule.hysteresis : 0;
        const high = above !== undefined && k.value > above - h;
        const low = below !== undefined && k.value < below + h;
        const limit = high ? above : low ? below : (above ?? below);
        return evaluation(rule, high || low ? 'breach' : 'clear', k.value, { ...vars, ...(limit !== undefined ? { limit: formatNumber(limit) } : {}) });
      },
    };
  });
}

export function candidatesOf(ctx: ConditionContext, rule: AlertRule): Candidate[] {
  switch (rule.kind) {
    case 'kpi':
      return kpiCandidates(ctx, rule);
    case 'device_status':
      return deviceStatusCandidates(ctx, rule);
    case 'agent_offline':
      return agentCandidates(ctx, rule);
    case 'stale':
      return staleCandidates(ctx, rule);
    case 'reading':
      return rule.equals !== undefined ? readingStateCandidates(ctx, rule) : readingBandCandidates(ctx, rule);
    case 'rate_of_change':
      return rateCandidates(ctx, rule);
    case 'counter_reset':
      return counterResetCandidates(ctx, rule);
  }
}

