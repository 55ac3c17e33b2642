/**
 * Typed builders for the parts of a Grafana 10/11 dashboard we use (JSON model, schemaVersion
 * 39): panels, InfluxQL targets, field config, thresholds, value mappings, overrides and
 * transformations. A panel is built without id and position; layout() in dashboard.ts places it.
 */

/** Every panel and variable reads the datasource the `datasource` variable points at. */
export const DATASOURCE_UID = 'dcim-influxql';
export const DATASOURCE = { type: 'influxdb', uid: '${datasource}' } as const;

export interface Query {
  query: string;
  /** Series name; Grafana expands $tag_<name> and $col. */
  alias?: string;
  /** `table` keeps tags as columns (tables, joins); default `time_series`. */
  format?: 'time_series' | 'table';
}

export interface InfluxTarget {
  refId: string;
  datasource: typeof DATASOURCE;
  query: string;
  rawQuery: true;
  resultFormat: 'time_series' | 'table';
  alias?: string;
}

export interface ThresholdStep {
  color: string;
  value: number | null;
}

export interface ValueMapping {
  type: 'value';
  options: Record<string, { text?: string; color?: string; index: number }>;
}

export interface OverrideProperty {
  id: string;
  value: unknown;
}

export interface Override {
  matcher: { id: 'byName' | 'byRegexp'; options: string };
  properties: OverrideProperty[];
}

export interface Transformation {
  id: string;
  options: Record<string, unknown>;
}

export interface FieldDefaults {
  unit?: string;
  decimals?: number;
  min?: number;
  max?: number;
  color?: { mode: string; fixedColor?: string };
  thresholds?: { mode: 'absolute'; steps: ThresholdStep[] };
  mappings?: ValueMapping[];
  custom?: Record<string, unknown>;
  noValue?: string;
}

/** A panel before layout. */
export interface PanelSpec {
  type: string;
  title: string;
  description: string;
  w: number;
  h: number;
  targets: InfluxTarget[];
  fieldConfig: { defaults: FieldDefaults; overrides: Override[] };
  options: Record<string, unknown>;
  transformations?: Transformation[];
  timeFrom?: string;
}

/** What every panel builder takes. */
export interface PanelInput {
  title: string;
  /** Shown in the panel's (i): what it shows and what it is computed from. */
  description: string;
  w: number;
  h: number;
  queries: Query[];
  unit?: string;
  decimals?: number;
  min?: number;
  max?: number;
  thresholds?: ThresholdStep[];
  mappings?: ValueMapping[];
  overrides?: Override[];
  transformations?: Transformation[];
  noValue?: string;
  /** A relative range of the panel's own (e.g. `90d`), whatever range the dashboard shows. */
  timeFrom?: string;
}

const REF_IDS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function targets(queries: Query[]): InfluxTarget[] {
  return queries.map((q, i) => ({
    refId: REF_IDS[i]!,
    datasource: DATASOURCE,
    query: q.query,
    rawQuery: true,
    resultFormat: q.format ?? 'time_series',
    ...(q.alias !== undefined ? { alias: q.alias } : {}),
  }));
}

function defaults(p: PanelInput, extra: FieldDefaults = {}): FieldDefaults {
  return {
    ...(p.unit !== undefined ? { unit: p.unit } : {}),
    ...(p.decimals !== undefined ? { decimals: p.decimals } : {}),
    ...(p.min !== undefined ? { min: p.min } : {}),
    ...(p.max !== undefined ? { max: p.max } : {}),
    ...(p.noValue !== undefined ? { noValue: p.noValue } : {}),
    thresholds: { mode: 'absolute', steps: p.thresholds ?? [{ color: 'green', value: null }] },
    ...(p.mappings ? { mappings: p.mappings } : {}),
    ...extra,
  };
}

function base(type: string, p: PanelInput, fieldDefaults: FieldDefaults, options: Record<string, unknown>): PanelSpec {
  return {
    type,
    title: p.title,
    description: p.description,
    w: p.w,
    h: p.h,
    targets: targets(p.queries),
    fieldConfig: { defaults: fieldDefaults, overrides: p.overrides ?? [] },
    options,
    ...(p.transformations ? { transformations: p.transformations } : {}),
    ...(p.timeFrom !== undefined ? { timeFrom: p.timeFrom } : {}),
  };
}

const legend = (placement: 'bottom' | 'right' = 'bottom', calcs: string[] = []) => ({ showLegend: true, displayMode: calcs.length > 0 ? 'table' : 'list', placement, calcs });
const tooltip = { mode: 'multi', sort: 'none' };
const lastValue = { calcs: ['lastNotNull'], fields: '', values: false };

export interface TimeSeriesInput extends PanelInput {
  /** Draw the thresholds as lines (targets). */
  thresholdLines?: 'line' | 'dashed' | 'line+area';
  stack?: boolean;
  /** Points stamped at a window's end hold for the window before them. */
  stepped?: boolean;
  points?: boolean;
  legendCalcs?: string[];
}

export function timeseries(p: TimeSeriesInput): PanelSpec {
  const custom = {
    drawStyle: 'line',
    lineInterpolation: p.stepped ? 'stepBefore' : 'linear',
    lineWidth: 1,
    fillOpacity: p.stack ? 30 : 0,
    showPoints: p.points ? 'always' : 'auto',
    pointSize: 5,
    spanNulls: false,
    stacking: { mode: p.stack ? 'normal' : 'none', group: 'A' },
    axisPlacement: 'auto',
    thresholdsStyle: { mode: p.thresholdLines ?? 'off' },
  };
  return base('timeseries', p, defaults(p, { color: { mode: 'palette-classic' }, custom }), { legend: legend('bottom', p.legendCalcs), tooltip });
}

export function gauge(p: PanelInput): PanelSpec {
  return base('gauge', p, defaults(p, { color: { mode: 'thresholds' } }), { reduceOptions: lastValue, orientation: 'auto', showThresholdLabels: false, showThresholdMarkers: true });
}

export interface StatInput extends PanelInput {
  colorMode?: 'value' | 'background' | 'none';
  graph?: boolean;
}

export function stat(p: StatInput): PanelSpec {
  return base('stat', p, defaults(p, { color: { mode: 'thresholds' } }), {
    reduceOptions: lastValue,
    orientation: 'auto',
    textMode: 'value_and_name',
    colorMode: p.colorMode ?? 'value',
    graphMode: p.graph ? 'area' : 'none',
    justifyMode: 'auto',
    wideLayout: true,
  });
}

export function table(p: PanelInput & { sortBy?: { displayName: string; desc: boolean }[] }): PanelSpec {
  return base('table', p, defaults(p, { color: { mode: 'thresholds' }, custom: { align: 'auto', cellOptions: { type: 'auto' }, inspect: false } }), {
    showHeader: true,
    cellHeight: 'sm',
    footer: { show: false, reducer: ['sum'], fields: '', countRows: false },
    ...(p.sortBy ? { sortBy: p.sortBy } : {}),
  });
}

/** States over time (text values coloured by mappings, or thresholds). */
export function stateTimeline(p: PanelInput): PanelSpec {
  return base('state-timeline', p, defaults(p, { color: { mode: 'thresholds' }, custom: { lineWidth: 0, fillOpacity: 75 } }), {
    mergeValues: true,
    showValue: 'auto',
    alignValue: 'left',
    rowHeight: 0.9,
    legend: legend(),
    tooltip: { mode: 'single', sort: 'none' },
  });
}

/** One row per series, one cell per interval, coloured by value on a continuous scale: a heat map of racks over time. */
export function heatGrid(p: PanelInput): PanelSpec {
  return base('status-history', p, defaults(p, { color: { mode: 'continuous-GrYlRd' }, custom: { lineWidth: 0, fillOpacity: 80 } }), {
    showValue: 'never',
    rowHeight: 0.9,
    colWidth: 0.95,
    legend: { showLegend: true, displayMode: 'list', placement: 'bottom' },
    tooltip: { mode: 'single', sort: 'none' },
  });
}

export function barGauge(p: PanelInput): PanelSpec {
  return base('bargauge', p, defaults(p, { color: { mode: 'thresholds' } }), {
    reduceOptions: lastValue,
    orientation: 'horizontal',
    displayMode: 'gradient',
    valueMode: 'color',
    namePlacement: 'auto',
    showUnfilled: true,
    sizing: 'auto',
    minVizWidth: 8,
    minVizHeight: 16,
  });
}

// ---------------------------------------------------------------- field config pieces

/** Lower is better (PUE): green up to the target, amber within `amber` above it, red beyond. */
export const atMost = (target: number, amber: number): ThresholdStep[] => [
  { color: 'green', value: null },
  { color: 'orange', value: target },
  { color: 'red', value: round(target + amber) },
];

/** Higher is better (occupancy, green share): red below target − amber, amber up to the target, green from it. */
export const atLeast = (target: number, amber: number): ThresholdStep[] => [
  { color: 'red', value: null },
  { color: 'orange', value: round(target - amber) },
  { color: 'green', value: target },
];

const round = (x: number) => Math.round(x * 1e9) / 1e9;

/** Text values shown with a label and a colour, e.g. target status or data quality. */
export function textMapping(entries: Record<string, [text: string, color: string]>): ValueMapping[] {
  const options: ValueMapping['options'] = {};
  Object.entries(entries).forEach(([value, [text, color]], index) => (options[value] = { text, color, index }));
  return [{ type: 'value', options }];
}

export const byName = (name: string, ...properties: OverrideProperty[]): Override => ({ matcher: { id: 'byName', options: name }, properties });
export const byRegexp = (pattern: string, ...properties: OverrideProperty[]): Override => ({ matcher: { id: 'byRegexp', options: pattern }, properties });
export const prop = (id: string, value: unknown): OverrideProperty => ({ id, value });
export const colouredCells: OverrideProperty = prop('custom.cellOptions', { type: 'color-background', mode: 'basic' });
export const colouredText: OverrideProperty = prop('custom.cellOptions', { type: 'color-text' });

/** Several table queries (each one frame, tags as columns) side by side, one row per value of `field`. */
export function joinOn(field: string, hidden: readonly string[] = []): Transformation[] {
  return [
    // Each query's timestamps differ; drop them before the join or they split the rows.
    { id: 'filterFieldsByName', options: { exclude: { pattern: '^Time.*' } } },
    { id: 'joinByField', options: { byField: field, mode: 'outer' } },
    ...(hidden.length > 0 ? [{ id: 'organize', options: { excludeByName: Object.fromEntries(hidden.map((h) => [h, true])) } }] : []),
  ];
}

/** The series of a table query as one table. */
export const mergeTables: Transformation = { id: 'merge', options: {} };
