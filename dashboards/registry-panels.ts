import type { KpiModule } from '../collector/kpi/registry/index.js';
import { AMBER, TARGETS } from './common.js';
import type { Row } from './grafana/dashboard.js';
import { atLeast, atMost, stat, timeseries, type PanelSpec, type ThresholdStep } from './grafana/panels.js';
import { col, kpiWhere, LATEST_RANGE, select, TIME_FILTER } from './influxql/build.js';

/**
 * The site-operations row of the KPIs whose modules declare a dashboard panel (`views.dashboard`):
 * one panel each, its unit and decimals from the module's format, its target line from the
 * module's target. A module with no such declaration adds nothing (the curated rows show it), so
 * a KPI dropped into the registry with one gets a panel with no edit here.
 */
function unitOf(m: KpiModule): { unit?: string; decimals: number } {
  const f = m.display.format;
  // Grafana scales a 0..1 ratio itself (percentunit); a figure already in per cent is `percent`.
  if (f.unit.trim() === '%') return f.scale === 100 ? { unit: 'percentunit', decimals: f.digits } : { unit: 'percent', decimals: f.digits };
  return { decimals: f.digits };
}

function thresholdsOf(m: KpiModule): ThresholdStep[] | undefined {
  const t = m.target;
  if (!t) return undefined;
  return t.direction === 'at_most' ? atMost(TARGETS[t.key], AMBER.pue) : atLeast(TARGETS[t.key], AMBER.ratio);
}

function panelOf(m: KpiModule): PanelSpec {
  const v = m.views!.dashboard!;
  const where = kpiWhere(m.name, { siteVar: 'site', windows: v.panel === 'stat' ? v.windows.slice(0, 1) : v.windows });
  const thresholds = thresholdsOf(m);
  const common = {
    title: m.display.label.en,
    description: `${m.display.label.en} (kpi ${m.name}; windows ${v.windows.join(', ')}; basis ${m.spec.site_basis.join(', ')})${m.target ? `, against the ${m.target.key} target` : ''}.`,
    ...unitOf(m),
    ...(thresholds ? { thresholds } : {}),
  };
  if (v.panel === 'stat') return stat({ ...common, w: 6, h: 8, queries: [{ query: select({ columns: [col('value', m.display.label.en), col('quality')], from: 'kpi', where: [...where, LATEST_RANGE], newest: true }) }], colorMode: 'background' });
  return timeseries({ ...common, w: 12, h: 8, queries: [{ query: select({ columns: [col('value')], from: 'kpi', where: [...where, TIME_FILTER], groupBy: ['window'] }), alias: `${m.name} $tag_window` }], ...(thresholds ? { thresholdLines: 'dashed' as const } : {}), stepped: true, points: true });
}

/** The row, or none when no module declares a panel. */
export function registryRows(modules: readonly KpiModule[]): Row[] {
  const declared = modules.filter((m) => m.views?.dashboard).sort((a, b) => a.views!.dashboard!.at - b.views!.dashboard!.at);
  return declared.length === 0 ? [] : [{ title: 'KPIs', panels: declared.map(panelOf) }];
}
