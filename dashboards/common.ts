import type { ALERT_STATES } from '../contract/storage-schema.js';
import { influxAnnotation, queryVariable, type InfluxAnnotation, type QueryVariable } from './grafana/dashboard.js';
import { textMapping, type ValueMapping } from './grafana/panels.js';
import { col, eq, ident, matchesVar, select, TIME_FILTER } from './influxql/build.js';

/** Pieces the dcim dashboards share: variables, colours for statuses and qualities, alert annotations. */

/** Default targets (docs/design.md §4) and the amber band of the target status (§5: 0.05 PUE, 5 points). */
export const TARGETS = { pue: 1.2, rack_occupancy: 0.7, green_share: 0.8 } as const;
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
export const STATUS_COLOURS: ValueMapping[] = textMapping({
  green: ['● met', 'green'],
  amber: ['● near', 'orange'],
  red: ['● missed', 'red'],
  grey: ['○ no value', 'text'],
});

/** KPI quality ladder (docs/design.md §5). */
export const QUALITY_COLOURS: ValueMapping[] = textMapping({
  measured: ['measured', 'green'],
  partial: ['partial', 'yellow'],
  estimated: ['estimated', 'orange'],
  insufficient: ['insufficient', 'red'],
});

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
