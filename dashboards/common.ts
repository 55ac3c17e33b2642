import type { ALERT_STATES } from '../contract/storage-schema.js';
import { CATALOGUE, type Lang } from '../collector/i18n/catalogue.js';
import { influxAnnotation, queryVariable, type InfluxAnnotation, type QueryVariable } from './grafana/dashboard.js';
import { textMapping, type ValueMapping } from './grafana/panels.js';
import { col, eq, ident, matchesVar, select, TIME_FILTER } from './influxql/build.js';

/** Pieces the dcim dashboards share: variables, colours for statuses and qualities, alert annotations. */

/** Default targets (docs/design.md §4) and the amber band of the target status (§5: 0.05 PUE, 5 points). */
export const TARGETS = { pue: 1.2, rack_occupancy: 0.7, green_share: 0.8 } as const;
/**
 * The compute-monitoring plan's intelligent-compute share (智算占比 ≥ 90 %). Not an inventory
 * target (the collector gives compute no status), so the dashboards colour it against this figure.
 */
export const AI_SHARE_TARGET = 0.9;

/** The languages the bureau's screens come in: zh-CN for the people who read them, English beside. */
export type DashboardLang = Lang;
export const AMBER = { pue: 0.05, ratio: 0.05 } as const;

/**
 * Sites with a live PUE in the store (`kpi`; clusters have none, so their ids, kept in the same
 * `site` tag, stay out of the list), or sites with agents (`agent_health`).
 */
export function siteVariable(o: { multi?: boolean; from?: 'kpi' | 'agent_health' } = {}): QueryVariable {
  const fromKpi = (o.from ?? 'kpi') === 'kpi';
  return queryVariable({
    name: 'site',
    label: 'Site',
    description: fromKpi ? 'Sites with a live PUE in the store (clusters are not listed).' : 'Sites whose agents report to the store.',
    query: fromKpi
      ? `SHOW TAG VALUES FROM ${ident('kpi')} WITH KEY = ${ident('site')} WHERE ${eq('kpi', 'pue_live')}`
      : `SHOW TAG VALUES FROM ${ident('agent_health')} WITH KEY = ${ident('site')}`,
    multi: o.multi ?? false,
  });
}

export function hallVariable(): QueryVariable {
  return queryVariable({
    name: 'hall',
    label: 'Hall',
    description: "Halls of the site's devices, from their stored status.",
    query: `SHOW TAG VALUES FROM ${ident('device_status')} WITH KEY = ${ident('hall')} WHERE ${matchesVar('site', 'site')}`,
    multi: true,
  });
}

/** The collector's target status (docs/design.md §5) as a traffic light. */
export function statusColours(lang: DashboardLang = 'en'): ValueMapping[] {
  const w = CATALOGUE[lang];
  return textMapping({
    green: [`● ${w['status.green']}`, 'green'],
    amber: [`● ${w['status.amber']}`, 'orange'],
    red: [`● ${w['status.red']}`, 'red'],
    grey: [`○ ${w['status.grey']}`, 'text'],
  });
}
export const STATUS_COLOURS: ValueMapping[] = statusColours('en');

/** KPI quality ladder (docs/design.md §5), in the words of the shared catalogue. */
export function qualityColours(lang: DashboardLang = 'en'): ValueMapping[] {
  const w = CATALOGUE[lang];
  return textMapping({
    measured: [w['quality.measured'], 'green'],
    partial: [w['quality.partial'], 'yellow'],
    estimated: [w['quality.estimated'], 'orange'],
    insufficient: [w['quality.insufficient'], 'red'],
  });
}
export const QUALITY_COLOURS: ValueMapping[] = qualityColours('en');

export const DEVICE_STATE_COLOURS: ValueMapping[] = textMapping({
  up: ['up', 'green'],
  degraded: ['degraded', 'orange'],
  down: ['down', 'red'],
});

/** Firing and resolved alerts (measurement `alert`, one point per state change) as annotations. */
export function alertAnnotations(siteVar = 'site'): InfluxAnnotation[] {
  const states: [(typeof ALERT_STATES)[number], string, string, boolean][] = [
    ['firing', 'Firing alerts', 'red', true],
    ['resolved', 'Resolved alerts', 'green', false],
  ];
  return states.map(([state, name, color, enable]) =>
    influxAnnotation({
      name,
      color,
      enable,
      text: 'summary',
      tags: ['rule', 'severity', 'device'],
      query: select({ columns: [col('summary'), col('rule'), col('severity'), col('device')], from: 'alert', where: [matchesVar('site', siteVar), eq('state', state), TIME_FILTER] }),
    }),
  );
}
