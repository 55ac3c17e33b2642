import { AMBER, QUALITY_COLOURS, STATUS_COLOURS, TARGETS } from './common.js';
import { customVariable, dashboard, type Dashboard } from './grafana/dashboard.js';
import { atLeast, atMost, byName, colouredCells, joinOn, mergeTables, prop, table, timeseries } from './grafana/panels.js';
import { anyOfConditions, col, eq, eqVar, ident, kpiWhere, LATEST_RANGE, last, oneOf, select, sum, TIME_FILTER, type KpiBasisOf } from './influxql/build.js';

/**
 * Bureau overview: every site and cluster side by side against the three targets, for the
 * big-data bureau comparing pilots. Cluster roll-ups are stored like sites (the cluster id in the
 * `site` tag) and told apart by their basis: energy-weighted (ΣE_facility / ΣE_IT over the
 * sites), pooled (Σ on-rack / Σ available) or the plain mean of the site values.
 */

/** The headline figure of each KPI: a site's own, and a cluster's energy-weighted (pooled) one. */
const HEADLINE_BASIS = {
  pue: ['energy', 'energy_weighted'],
  rack_occupancy_ratio: ['on_rack_count', 'mean_of_days', 'pooled'],
  green_share_ratio: ['energy_and_certificates', 'energy_weighted'],
} as const satisfies { [K in 'pue' | 'rack_occupancy_ratio' | 'green_share_ratio']: readonly KpiBasisOf<K>[] };

const windowVariables = [
  customVariable({
    name: 'pue_window',
    label: 'PUE window',
    description: 'Which energy PUE window the table compares; the annual windows are the target verdict.',
    choices: [
      ['year to date', 'ytd'],
      ['month to date', '1mo'],
      ['trailing 12 months', '12mo'],
      ['last calendar year', '1y'],
      ['last day', '1d'],
    ],
  }),
  customVariable({
    name: 'occupancy_window',
    label: 'Occupancy window',
    description: 'Rack occupancy of the month (mean of its days) or of the last complete day.',
    choices: [
      ['month to date', '1mo'],
      ['last day', '1d'],
    ],
  }),
  customVariable({
    name: 'green_window',
    label: 'Green share window',
    description: 'Green share of the year to date, the month, or the last calendar year (the REF verdict).',
    choices: [
      ['year to date', 'ytd'],
      ['month to date', '1mo'],
      ['last calendar year', '1y'],
    ],
  }),
];

/** The newest headline figure per site (and cluster) of one KPI, as a table keyed by site. */
function headline(kpi: keyof typeof HEADLINE_BASIS, windowVar: string, label: string, extraGroup: string[] = []): string {
  return select({
    columns: [col('value', label), col('status', `${label} status`), col('quality', `${label} quality`)],
    from: 'kpi',
    where: [eq('kpi', kpi), eqVar('window', windowVar), oneOf('basis', HEADLINE_BASIS[kpi]), LATEST_RANGE],
    groupBy: ['site', ...extraGroup],
    newest: true,
  });
}

const statusCells = (label: string) => [byName(`${label} status`, colouredCells, prop('mappings', STATUS_COLOURS)), byName(`${label} quality`, prop('mappings', QUALITY_COLOURS))];

const targetsTable = table({
  title: 'Sites and clusters against the targets',
  description:
    'Newest figure per site and cluster: energy PUE of the chosen window (target 1.2, with its category), rack occupancy (target 70 %) and green share (target 80 %). Status is the collector\'s traffic light against each site\'s or cluster\'s own target: met, near (within 0.05 PUE or 5 points), missed, or no value (insufficient data). Clusters show their energy-weighted (pooled) figure.',
  w: 24,
  h: 9,
  queries: [
    { query: headline('pue', 'pue_window', 'PUE', ['category']), format: 'table' },
    { query: headline('rack_occupancy_ratio', 'occupancy_window', 'Occupancy'), format: 'table' },
    { query: headline('green_share_ratio', 'green_window', 'Green share'), format: 'table' },
  ],
  transformations: joinOn('site'),
  overrides: [
    byName('PUE', prop('decimals', 3), prop('thresholds', { mode: 'absolute', steps: atMost(TARGETS.pue, AMBER.pue) }), prop('custom.cellOptions', { type: 'color-text' })),
    byName('category', prop('displayName', 'PUE category')),
    byName('Occupancy', prop('unit', 'percentunit'), prop('decimals', 1), prop('thresholds', { mode: 'absolute', steps: atLeast(TARGETS.rack_occupancy, AMBER.ratio) }), prop('custom.cellOptions', { type: 'color-text' })),
    byName('Green share', prop('unit', 'percentunit'), prop('decimals', 1), prop('thresholds', { mode: 'absolute', steps: atLeast(TARGETS.green_share, AMBER.ratio) }), prop('custom.cellOptions', { type: 'color-text' })),
    ...statusCells('PUE'),
    ...statusCells('Occupancy'),
    ...statusCells('Green share'),
  ],
  sortBy: [{ displayName: 'site', desc: false }],
});

const rollupTable = table({
  title: 'Cluster roll-ups: energy-weighted and mean of sites',
  description:
    'Each cluster figure twice, labelled by basis: energy_weighted (ΣE_facility / ΣE_IT over the sites, as if one site), pooled (Σ on-rack / Σ available racks) and mean_of_sites (the plain mean of the site values, what a league table averages). A cluster has no value while any of its sites has none.',
  w: 24,
  h: 8,
  queries: [
    {
      query: select({
        columns: [col('value'), col('status'), col('quality'), col('coverage')],
        from: 'kpi',
        where: [
          oneOf('basis', ['energy_weighted', 'pooled', 'mean_of_sites']),
          anyOfConditions([
            [eq('kpi', 'pue'), eqVar('window', 'pue_window')],
            [eq('kpi', 'rack_occupancy_ratio'), eqVar('window', 'occupancy_window')],
            [eq('kpi', 'green_share_ratio'), eqVar('window', 'green_window')],
          ]),
          LATEST_RANGE,
        ],
        groupBy: ['site', 'kpi', 'window', 'basis'],
        newest: true,
      }),
      format: 'table',
    },
  ],
  decimals: 3,
  transformations: [mergeTables, { id: 'organize', options: { excludeByName: { Time: true }, renameByName: { site: 'cluster' } } }],
  overrides: [byName('status', colouredCells, prop('mappings', STATUS_COLOURS)), byName('quality', prop('mappings', QUALITY_COLOURS)), byName('coverage', prop('unit', 'percentunit'), prop('decimals', 1))],
});

/** The newest instant compute figure per site and cluster within the dashboard range. */
function compute(kpi: 'compute_ai_pflops' | 'compute_general_pflops' | 'compute_ai_share_ratio' | 'accelerator_utilisation_pct', column: string, scale = ''): string {
  return select({
    columns: [`${ident('value')}${scale} AS ${ident(column)}`],
    from: 'kpi',
    where: [...kpiWhere(kpi, {}), TIME_FILTER],
    groupBy: ['site'],
    newest: true,
  });
}

const computeTable = table({
  title: 'Installed compute',
  description:
    'Intelligent compute (智算): Σ installed accelerators × dense FP16 peak from the accelerator catalogue, in EFLOPS; general compute (通用): Σ CPUs × FP32 peak, in PFLOPS; the intelligent-compute share of the two (智算占比); and the mean utilisation of the reporting accelerators. Each figure carries its precision basis (fp16_dense, fp32); clusters sum their sites.',
  w: 14,
  h: 8,
  queries: [
    { query: compute('compute_ai_pflops', 'AI EFLOPS (FP16 dense)', ' / 1000'), format: 'table' },
    { query: compute('compute_general_pflops', 'General PFLOPS (FP32)'), format: 'table' },
    { query: compute('compute_ai_share_ratio', 'Intelligent-compute share'), format: 'table' },
    { query: compute('accelerator_utilisation_pct', 'Accelerator utilisation'), format: 'table' },
  ],
  decimals: 3,
  transformations: joinOn('site'),
  overrides: [byName('Intelligent-compute share', prop('unit', 'percentunit'), prop('decimals', 1)), byName('Accelerator utilisation', prop('unit', 'percent'), prop('decimals', 1))],
});

const qualityTable = table({
  title: 'Data quality per site',
  description:
    'Coverage and quality of each site\'s newest energy PUE window (the share of the window its meters cover), the quality of its newest live PUE, and devices down or degraded as the agents report them (Σ over the site\'s agents of their newest health).',
  w: 10,
  h: 8,
  queries: [
    {
      query: select({ columns: [col('coverage', 'PUE coverage'), col('quality', 'PUE quality')], from: 'kpi', where: [...kpiWhere('pue', { windowVar: 'pue_window', basis: ['energy'] }), LATEST_RANGE], groupBy: ['site'], newest: true }),
      format: 'table',
    },
    { query: select({ columns: [col('quality', 'Live PUE quality')], from: 'kpi', where: [...kpiWhere('pue_live', {}), TIME_FILTER], groupBy: ['site'], newest: true }), format: 'table' },
    {
      query: select({
        columns: [sum('down', 'Devices down'), sum('degraded', 'Devices degraded'), sum('devices', 'Devices')],
        from: { columns: [last('devices_down_count', 'down'), last('devices_degraded_count', 'degraded'), last('devices_count', 'devices')], from: 'agent_health', where: [TIME_FILTER], groupBy: ['site', 'agent'] },
        groupBy: ['site'],
      }),
      format: 'table',
    },
  ],
  transformations: joinOn('site'),
  overrides: [
    byName('PUE coverage', prop('unit', 'percentunit'), prop('decimals', 1)),
    byName('PUE quality', colouredCells, prop('mappings', QUALITY_COLOURS)),
    byName('Live PUE quality', colouredCells, prop('mappings', QUALITY_COLOURS)),
    byName('Devices down', prop('thresholds', { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'red', value: 1 }] }), prop('custom.cellOptions', { type: 'color-text' })),
  ],
});

const pueTrend = timeseries({
  title: 'Daily PUE by site and cluster',
  description: 'Energy PUE of each complete local day (kpi pue, window 1d): sites by their own meters, clusters energy-weighted. Drawn at the end of each day. Line: the 1.2 target.',
  w: 12,
  h: 8,
  queries: [{ query: select({ columns: [col('value')], from: 'kpi', where: [...kpiWhere('pue', { windows: ['1d'], basis: ['energy', 'energy_weighted'] }), TIME_FILTER], groupBy: ['site'] }), alias: '$tag_site' }],
  decimals: 3,
  thresholds: atMost(TARGETS.pue, AMBER.pue),
  thresholdLines: 'dashed',
  stepped: true,
  points: true,
});

const coverageTrend = timeseries({
  title: 'Meter coverage of the 15-minute PUE windows',
  description: 'Share of each 15-minute window covered by the meters of each site (kpi pue, window 15m, field coverage); below 0.99 the figure is no longer "measured".',
  w: 12,
  h: 8,
  queries: [{ query: select({ columns: [col('coverage', 'coverage', 'mean')], from: 'kpi', where: [...kpiWhere('pue', { windows: ['15m'], basis: ['energy'] }), TIME_FILTER], byTime: true, groupBy: ['site'], fill: 'none' }), alias: '$tag_site' }],
  unit: 'percentunit',
  min: 0,
  max: 1,
});

export function bureauOverview(): Dashboard {
  return dashboard({
    uid: 'dcim-bureau-overview',
    title: 'DCIM · Bureau overview',
    description: 'All sites and clusters against the PUE, rack-occupancy and green-share targets; installed compute; data quality.',
    tags: ['bureau'],
    time: 'now-30d',
    refresh: '5m',
    variables: windowVariables,
    rows: [
      { title: 'Targets', panels: [targetsTable, rollupTable] },
      { title: 'Compute and data quality', panels: [computeTable, qualityTable] },
      { title: 'Trends', panels: [pueTrend, coverageTrend] },
    ],
  });
}
