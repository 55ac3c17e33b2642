import { DATASOURCE, DATASOURCE_UID, type PanelSpec } from './panels.js';

/**
 * A Grafana dashboard (JSON model, schemaVersion 39: Grafana 10.4 and 11 load it as is, later
 * versions migrate it on load): rows of panels placed on the 24-column grid, template variables,
 * annotations and links between the dcim dashboards.
 */
export const SCHEMA_VERSION = 39;
export const GRID_COLUMNS = 24;

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface PlacedPanel extends Omit<PanelSpec, 'w' | 'h'> {
  id: number;
  gridPos: GridPos;
  datasource?: typeof DATASOURCE;
}

export interface RowPanel {
  id: number;
  type: 'row';
  title: string;
  collapsed: false;
  gridPos: GridPos;
  panels: [];
}

export interface Row {
  title: string;
  panels: PanelSpec[];
}

/**
 * Rows top to bottom; inside a row panels flow left to right and wrap at 24 columns. Ids follow
 * the order, so a panel keeps its id (and its link) while nothing is inserted before it.
 */
export function layout(rows: readonly Row[]): (PlacedPanel | RowPanel)[] {
  const out: (PlacedPanel | RowPanel)[] = [];
  let id = 1;
  let y = 0;
  for (const row of rows) {
    out.push({ id: id++, type: 'row', title: row.title, collapsed: false, gridPos: { x: 0, y, w: GRID_COLUMNS, h: 1 }, panels: [] });
    y += 1;
    let x = 0;
    let lineHeight = 0;
    for (const p of row.panels) {
      if (p.w > GRID_COLUMNS || p.w < 1 || p.h < 1) throw new RangeError(`panel "${p.title}": size ${p.w}×${p.h} does not fit the grid`);
      if (x + p.w > GRID_COLUMNS) {
        y += lineHeight;
        x = 0;
        lineHeight = 0;
      }
      const { w, h, ...rest } = p;
      out.push({ id: id++, ...rest, datasource: DATASOURCE, gridPos: { x, y, w, h } });
      x += w;
      lineHeight = Math.max(lineHeight, h);
    }
    y += lineHeight;
  }
  return out;
}

// ---------------------------------------------------------------- variables

export interface VariableOption {
  text: string;
  value: string;
  selected: boolean;
}

export type Variable = DatasourceVariable | QueryVariable | CustomVariable;

export interface DatasourceVariable {
  type: 'datasource';
  name: string;
  label: string;
  query: 'influxdb';
  current: VariableOption;
  hide: 0;
  refresh: 1;
  regex: string;
  options: [];
  multi: false;
  includeAll: false;
}

export interface QueryVariable {
  type: 'query';
  name: string;
  label: string;
  description: string;
  datasource: typeof DATASOURCE;
  query: string;
  definition: string;
  /** 1: on dashboard load. */
  refresh: 1;
  sort: 1;
  multi: boolean;
  includeAll: boolean;
  current: Record<string, never>;
  options: [];
  hide: 0;
  regex: string;
}

export interface CustomVariable {
  type: 'custom';
  name: string;
  label: string;
  description: string;
  /** `text : value` pairs, comma separated (Grafana's custom variable syntax). */
  query: string;
  current: VariableOption;
  options: VariableOption[];
  multi: false;
  includeAll: false;
  hide: 0;
}

/** Defaults to the provisioned datasource (uid dcim-influxql); any InfluxDB datasource can be picked. */
export function datasourceVariable(): DatasourceVariable {
  return {
    type: 'datasource',
    name: 'datasource',
    label: 'Data source',
    query: 'influxdb',
    current: { selected: true, text: 'DCIM InfluxDB', value: DATASOURCE_UID },
    hide: 0,
    refresh: 1,
    regex: '',
    options: [],
    multi: false,
    includeAll: false,
  };
}

export function queryVariable(o: { name: string; label: string; description: string; query: string; multi?: boolean }): QueryVariable {
  const multi = o.multi ?? false;
  return {
    type: 'query',
    name: o.name,
    label: o.label,
    description: o.description,
    datasource: DATASOURCE,
    query: o.query,
    definition: o.query,
    refresh: 1,
    sort: 1,
    multi,
    includeAll: multi,
    current: {},
    options: [],
    hide: 0,
    regex: '',
  };
}

/** A fixed list of choices; the first is the default. */
export function customVariable(o: { name: string; label: string; description: string; choices: readonly (readonly [text: string, value: string])[] }): CustomVariable {
  const options = o.choices.map(([text, value], i) => ({ text, value, selected: i === 0 }));
  return {
    type: 'custom',
    name: o.name,
    label: o.label,
    description: o.description,
    query: o.choices.map(([text, value]) => `${text} : ${value}`).join(','),
    current: options[0]!,
    options,
    multi: false,
    includeAll: false,
    hide: 0,
  };
}

// ---------------------------------------------------------------- annotations

export interface BuiltinAnnotation {
  builtIn: 1;
  datasource: { type: 'grafana'; uid: '-- Grafana --' };
  enable: true;
  hide: true;
  iconColor: string;
  name: string;
  type: 'dashboard';
}

export interface InfluxAnnotation {
  datasource: typeof DATASOURCE;
  enable: boolean;
  hide: false;
  iconColor: string;
  name: string;
  target: {
    refId: 'Anno';
    query: string;
    queryType: 'tags';
    fromAnnotations: true;
    textColumn: string;
    tagsColumn: string;
    titleColumn: string;
    timeEndColumn: string;
    name: string;
  };
}

export type Annotation = BuiltinAnnotation | InfluxAnnotation;

const BUILTIN: BuiltinAnnotation = {
  builtIn: 1,
  datasource: { type: 'grafana', uid: '-- Grafana --' },
  enable: true,
  hide: true,
  iconColor: 'rgba(0, 211, 255, 1)',
  name: 'Annotations & Alerts',
  type: 'dashboard',
};

/** Events from an InfluxQL query: each row is a marker at its time; `text` and `tags` name columns. */
export function influxAnnotation(o: { name: string; query: string; color: string; text: string; tags: readonly string[]; enable?: boolean }): InfluxAnnotation {
  return {
    datasource: DATASOURCE,
    enable: o.enable ?? true,
    hide: false,
    iconColor: o.color,
    name: o.name,
    target: { refId: 'Anno', query: o.query, queryType: 'tags', fromAnnotations: true, textColumn: o.text, tagsColumn: o.tags.join(','), titleColumn: '', timeEndColumn: '', name: o.name },
  };
}

// ---------------------------------------------------------------- dashboard

export interface Dashboard {
  id: null;
  uid: string;
  title: string;
  description: string;
  tags: string[];
  timezone: 'browser';
  editable: true;
  graphTooltip: 1;
  fiscalYearStartMonth: 0;
  liveNow: false;
  schemaVersion: number;
  version: 1;
  refresh: string;
  time: { from: string; to: string };
  timepicker: Record<string, never>;
  weekStart: '';
  links: { title: string; type: 'dashboards'; tags: string[]; asDropdown: boolean; includeVars: boolean; keepTime: boolean; targetBlank: false; icon: 'external link'; tooltip: ''; url: '' }[];
  annotations: { list: Annotation[] };
  templating: { list: Variable[] };
  panels: (PlacedPanel | RowPanel)[];
}

export const DCIM_TAG = 'dcim';

export function dashboard(o: {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  time: string;
  refresh: string;
  variables: Variable[];
  annotations?: InfluxAnnotation[];
  rows: Row[];
}): Dashboard {
  if (!/^[a-z0-9-]{1,40}$/.test(o.uid)) throw new RangeError(`dashboard uid ${o.uid}: use 1-40 characters [a-z0-9-]`);
  return {
    id: null,
    uid: o.uid,
    title: o.title,
    description: o.description,
    tags: [DCIM_TAG, ...o.tags],
    timezone: 'browser',
    editable: true,
    graphTooltip: 1,
    fiscalYearStartMonth: 0,
    liveNow: false,
    schemaVersion: SCHEMA_VERSION,
    version: 1,
    refresh: o.refresh,
    time: { from: o.time, to: 'now' },
    timepicker: {},
    weekStart: '',
    // Site and time carry over when the variables have the same names.
    links: [{ title: 'DCIM dashboards', type: 'dashboards', tags: [DCIM_TAG], asDropdown: true, includeVars: true, keepTime: true, targetBlank: false, icon: 'external link', tooltip: '', url: '' }],
    annotations: { list: [BUILTIN, ...(o.annotations ?? [])] },
    templating: { list: [datasourceVariable(), ...o.variables] },
    panels: layout(o.rows),
  };
}
