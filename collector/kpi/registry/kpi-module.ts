import type { Cluster } from '../../../contract/inventory.js';
import type { KpiSpec } from '../../../contract/kpi-catalogue.js';
import type { Targets } from '../../../contract/inventory.js';
import type { KpiValue, KpiWindow } from '../../../contract/messages.js';
import type { MessageKey } from '../../i18n/catalogue.js';
import type { SiteSource } from '../site-source.js';
import type { EnergyWindowKind, WindowBounds } from '../windows.js';

/**
 * One KPI, all of it in one file of ./kpis/: its name, its catalogue entry (windows, basis labels,
 * stored inputs), where it sits in the publishing order, how a site's figures are evaluated at a
 * settled edge, what a closed window a site summarises holds, which past windows late data
 * revises, and how a cluster rolls the figure up. The registry (./index.ts) loads every module of
 * that folder; the engine (live sites), the bureau (sites rebuilt from summaries), the store
 * schema and the report all read the registry, so a KPI dropped there is computed, published,
 * stored, summarised and rolled up everywhere at once.
 */
export interface KpiModule {
  /** snake_case, with the unit or `_ratio` suffix of the figure (pue is the standard's name). */
  readonly name: string;
  /**
   * Where its figures come in a KPI message: the registry sorts by it (a folder listing has no
   * order of its own). Unique; gaps leave room for a KPI between two others.
   */
  readonly order: number;
  /** What readers of the stored and published figures need to know (the contract's shape). */
  readonly spec: KpiSpec;
  /**
   * How people read it: its name in each language of the operator's catalogue (the live page, the
   * report and the dashboards say it as `kpi.<name>`; collector/i18n/catalogue.ts takes it from here).
   */
  readonly display: KpiDisplay;
  /**
   * The plan's target its figures are judged against (the inventory's `targets.<key>`) and which
   * way is better; absent for a figure with no target (compute scale). The report ranks by it.
   */
  readonly target?: KpiTarget;
  /** Where the operators' views show it, as data: the views iterate the registry, never a name list. */
  readonly views?: KpiViews;
  /** The site's figures at `ctx.edge` (instant figures at `ctx.now_ms`), in window order. */
  site(ctx: SiteContext): KpiValue[];
  /**
   * The figure of one closed window a site summarises (15m, 1h, 1d, 1mo) or late data revises;
   * undefined for a window kind the KPI does not summarise.
   */
  closed?(src: SiteSource, w: WindowBounds): KpiValue | undefined;
  /** Window kinds whose past windows late data re-evaluates (through `closed`), up to the engine's late-days bound. */
  readonly revised?: readonly EnergyWindowKind[];
  /** The cluster's roll-up figures (pooled and mean of sites, each labelled by its basis); absent: none. */
  cluster?(ctx: ClusterContext): KpiValue[];
}

export interface KpiDisplay {
  /** Chinese (the default) and English, in the plan's own terms (PUE, 上架率, 绿电占比, 智算占比). */
  readonly label: { readonly 'zh-CN': string; readonly en: string };
  /** How its number is written on the live page (the server hands the formats to the page). */
  readonly format: KpiFormat;
}

export interface KpiTarget {
  readonly key: keyof Targets;
  readonly direction: 'at_most' | 'at_least';
}

/** The views a KPI appears in; a view it does not declare leaves it out. */
export interface KpiViews {
  readonly report?: ReportView;
  readonly live?: LiveView;
  readonly dashboard?: DashboardView;
}

/** The live page's tiles of this KPI, in the row of tiles beside each site's live PUE. */
export interface LiveView {
  readonly tiles: readonly LiveTile[];
}

export interface LiveTile {
  /** Its place in the row, left to right, among every module's tiles. */
  readonly at: number;
  /** The windows it shows, in preference order: the first with a value, else the first present (which says why it has none). */
  readonly windows: readonly KpiWindow[];
  /** Its heading (each key's text, joined by ` · `); default: the KPI's name. */
  readonly label?: readonly MessageKey[];
  /** A second figure written under the value (its KPI's name and number), when it has one. */
  readonly beside?: { readonly kpi: string; readonly windows: readonly KpiWindow[] };
}

/**
 * The Grafana panel the site-operations dashboard draws for this KPI, in the dashboard's row of
 * registry KPIs. The panels of the plan's targets (PUE, occupancy, green share) and of the GPU
 * and compute rows are curated rows of their own (dashboards/site-operations.ts).
 */
export interface DashboardView {
  /** `timeseries`: the figures of `windows` over the range; `stat`: the newest figure of the first window. */
  readonly panel: 'timeseries' | 'stat';
  readonly windows: readonly KpiWindow[];
  /** Its place in the row, left to right. */
  readonly at: number;
}

/**
 * The monthly report's figures of this KPI. Each figure is one field of a report row (its json),
 * a group of csv columns and, when it says so, a line of the text report and a column of the html
 * table. The csv and the text follow the registry's order; the json row and the html table follow
 * `column` (the report reads from the occupancy to the energy verdicts, not in publishing order).
 */
export interface ReportView {
  /** Its figures' place among the report's columns (json row fields, html table), left to right. */
  readonly column: number;
  /** Its figures, in the order of their csv and json fields. */
  readonly figures: readonly ReportFigure[];
  /** The fields that get a line of the text report, in that order. */
  readonly text?: readonly string[];
  /** `dcim report --by <key>` ranks the sites by the first figure, better by the target's direction (more is better without one); `at` orders the keys. */
  readonly rank?: { readonly by: string; readonly at: number };
}

/** An html cell that joins other figures with this one (report-html.ts draws it). */
export type CuratedCell = 'compute' | 'green_declared';

export interface ReportFigure {
  /** The report row's field (json) and the stem of its csv columns, unique across the registry. */
  readonly field: string;
  readonly window: KpiWindow;
  /** The csv column's name when it is not `field`. */
  readonly csv?: string;
  /** The words of its text line and html column (each key's text, joined by a space); default: the KPI's name and the window's. */
  readonly label?: readonly MessageKey[];
  /** One of the month's figures the row's data quality (worst quality, least coverage) is judged on. */
  readonly month?: true;
  /** Its PUE measurement category gets a csv column `<field>_category`. */
  readonly category?: true;
  /** Its own column of the html table (`cell`: a curated cell that joins other figures, see report-html.ts). */
  readonly html?: { readonly cell?: CuratedCell };
  /** A bar chart of the html report, one bar per row, against the target: its title and axis (`to` absent: up to the largest value of such charts, at least 2). */
  readonly chart?: { readonly title: MessageKey; readonly from: number; readonly to?: number };
}

/** value × `scale`, `digits` decimals, then `unit` (with its leading space; PUE has none). */
export interface KpiFormat {
  readonly scale: number;
  readonly digits: number;
  readonly unit: string;
}

/** The formats the KPIs share: a PUE, a share written as a percentage, a percentage, PFLOPS. */
export const FORMATS = {
  pue: { scale: 1, digits: 3, unit: '' },
  ratio: { scale: 100, digits: 1, unit: ' %' },
  pct: { scale: 1, digits: 1, unit: ' %' },
  pflops: { scale: 1, digits: 2, unit: ' PF' },
} as const satisfies Record<string, KpiFormat>;

export interface SiteContext {
  readonly src: SiteSource;
  readonly now_ms: number;
  /** The settled quarter-hour edge windows end at. */
  readonly edge: number;
  /** The source's live pair (PUE, green share), asked once per evaluation. */
  live(): readonly [KpiValue, KpiValue] | undefined;
  /** The compute-scale figures at `now_ms`, computed once per evaluation; empty when the source has none. */
  computeValues(): readonly KpiValue[];
}

export interface ClusterContext {
  readonly cluster: Cluster;
  /** Sources of the cluster's sites this collector serves (at least one). */
  readonly hosted: readonly [SiteSource, ...SiteSource[]];
  readonly now_ms: number;
  readonly edge: number;
  /** The sites' common IT measurement category, undefined when they differ. */
  readonly category: 1 | 2 | 3 | undefined;
  /** Blanks a pooled figure when a cluster site has no source here (a roll-up that silently drops a site reports a different cluster). */
  noSites(v: KpiValue): KpiValue;
  /** A site's window of `kind` at the edge (each site follows its own calendar). */
  windowFor(src: SiteSource, kind: EnergyWindowKind): WindowBounds;
  /** Each hosted site's figure, by site id. */
  siteValues(pick: (src: SiteSource) => KpiValue): Map<string, KpiValue>;
  /** Each hosted source's live pair (undefined for a source without live power), asked once per evaluation. */
  live(): readonly (readonly [KpiValue, KpiValue] | undefined)[];
  /** The summed compute-scale figures (blanked when a site is absent or silent), computed once per evaluation. */
  computeValues(): readonly KpiValue[];
}

/** A KPI module's default export: typed here, checked by the registry when it loads (unique name and order). */
export function defineKpi(m: KpiModule): KpiModule {
  return m;
}
