import { CATALOGUE } from '../collector/i18n/catalogue.js';
import { AI_SHARE_TARGET, AMBER, qualityColours, statusColours, TARGETS, type DashboardLang } from './common.js';
import { customVariable, dashboard, type Dashboard } from './grafana/dashboard.js';
import { atLeast, atMost, byName, colouredCells, joinOn, mergeTables, prop, table, timeseries, type Override, type Transformation } from './grafana/panels.js';
import { anyOfConditions, col, eq, eqVar, ident, kpiWhere, LATEST_RANGE, last, oneOf, select, sum, TIME_FILTER } from './influxql/build.js';

/**
 * Bureau overview: every site and cluster side by side against the targets, for the big-data
 * bureau comparing pilots. Cluster roll-ups are stored like sites (the cluster id in the `site`
 * tag) and told apart by their basis: energy-weighted (ΣE_facility / ΣE_IT over the sites),
 * pooled (Σ on-rack / Σ available) or the plain mean of the site values.
 *
 * Generated twice with the same queries: in English (uid dcim-bureau-overview) and in Chinese
 * (uid dcim-bureau-overview-zh-cn) for the people in Gui'an who read the screens. Grafana has no
 * per-viewer translation of panel titles, and a variable in every title and column name would
 * make the English names unreadable in queries; two dashboards keep both plain. The KPI names,
 * quality and status words come from the catalogue the live page and the reports use.
 */

/** The headline figure of each KPI: a site's own, and a cluster's energy-weighted (pooled) one. */
const HEADLINE_BASIS = {
  pue: ['energy', 'energy_weighted'],
  rack_occupancy_ratio: ['on_rack_count', 'mean_of_days', 'pooled'],
  green_share_ratio: ['energy_and_certificates', 'energy_weighted'],
} as const;

/** How long the trends reach back (the bureau compares the last quarter). */
const TREND_RANGE = '90d';

/** A word in the dashboard's language: English first, Chinese second. */
type Say = (en: string, zh: string) => string;

function windowVariables(say: Say) {
  const ytd = say('year to date', '年初至今');
  const mtd = say('month to date', '本月累计');
  const lastYear = say('last calendar year', '上一自然年');
  const lastDay = say('last day', '最近一日');
  return [
    customVariable({
      name: 'pue_window',
      label: say('PUE window', 'PUE 统计窗口'),
      description: say('Which energy PUE window the table compares; the annual windows are the target verdict.', '对标表比较的能耗 PUE 窗口；年度窗口为考核结论。'),
      choices: [
        [ytd, 'ytd'],
        [mtd, '1mo'],
        [say('trailing 12 months', '滚动 12 个月'), '12mo'],
        [lastYear, '1y'],
        [lastDay, '1d'],
      ],
    }),
    customVariable({
      name: 'occupancy_window',
      label: say('Occupancy window', '上架率统计窗口'),
      description: say('Rack occupancy of the month (mean of its days) or of the last complete day.', '本月上架率（各日均值）或最近一个完整日的上架率。'),
      choices: [
        [mtd, '1mo'],
        [lastDay, '1d'],
      ],
    }),
    customVariable({
      name: 'green_window',
      label: say('Green share window', '绿电占比统计窗口'),
      description: say('Green share of the year to date, the month, or the last calendar year (the REF verdict).', '年初至今、本月或上一自然年（REF 考核）的绿电占比。'),
      choices: [
        [ytd, 'ytd'],
        [mtd, '1mo'],
        [lastYear, '1y'],
      ],
    }),
  ];
}

/** The column names of one dashboard language (used as query aliases and in overrides). */
function columns(lang: DashboardLang) {
  const w = CATALOGUE[lang];
  const zh = lang === 'zh-CN';
  const quality = zh ? '数据质量' : 'quality';
  const status = zh ? '状态' : 'status';
  const of = (name: string) => ({ value: name, status: `${name} ${status}`, quality: `${name} ${quality}` });
  return {
    site: zh ? '站点' : 'site',
    cluster: zh ? '集群' : 'cluster',
    category: zh ? 'PUE 类别' : 'PUE category',
    pue: of('PUE'),
    occupancy: of(zh ? '上架率' : 'Occupancy'),
    green: of(zh ? '绿电占比' : 'Green share'),
    aiEflops: of(zh ? '智算 EFLOPS（FP16 稠密）' : 'AI EFLOPS (FP16 dense)'),
    aiPflops: zh ? '智算 PFLOPS（FP16 稠密）' : 'AI PFLOPS (FP16 dense)',
    general: of(zh ? '通用算力 PFLOPS（FP32）' : 'General PFLOPS (FP32)'),
    aiShare: of(zh ? '智算占比' : 'Intelligent-compute share'),
    utilisation: of(zh ? '加速卡利用率' : 'Accelerator utilisation'),
    words: w,
    quality,
    status,
  };
}
type Columns = ReturnType<typeof columns>;

/** The newest headline figure per site (and cluster) of one KPI, as a table keyed by site. */
function headline(kpi: keyof typeof HEADLINE_BASIS, window: { variable: string } | { fixed: '1mo' }, names: { value: string; status: string; quality: string }, o: { extraGroup?: string[]; sitesOnly?: boolean } = {}): string {
  const basis: readonly string[] = o.sitesOnly ? HEADLINE_BASIS[kpi].filter((b) => !['energy_weighted', 'pooled'].includes(b)) : HEADLINE_BASIS[kpi];
  return select({
    columns: [col('value', names.value), col('status', names.status), col('quality', names.quality)],
    from: 'kpi',
    where: [eq('kpi', kpi), 'variable' in window ? eqVar('window', window.variable) : eq('window', window.fixed), oneOf('basis', basis), LATEST_RANGE],
    groupBy: ['site', ...(o.extraGroup ?? [])],
    newest: true,
  });
}

const colourText = prop('custom.cellOptions', { type: 'color-text' });

/** The three target figures: value coloured at the target, its status light and its quality. */
function targetOverrides(c: Columns, lang: DashboardLang): Override[] {
  const light = (n: { status: string; quality: string }) => [byName(n.status, colouredCells, prop('mappings', statusColours(lang))), byName(n.quality, prop('mappings', qualityColours(lang)))];
  return [
    byName(c.pue.value, prop('decimals', 3), prop('thresholds', { mode: 'absolute', steps: atMost(TARGETS.pue, AMBER.pue) }), colourText),
    byName(c.occupancy.value, prop('unit', 'percentunit'), prop('decimals', 1), prop('thresholds', { mode: 'absolute', steps: atLeast(TARGETS.rack_occupancy, AMBER.ratio) }), colourText),
    byName(c.green.value, prop('unit', 'percentunit'), prop('decimals', 1), prop('thresholds', { mode: 'absolute', steps: atLeast(TARGETS.green_share, AMBER.ratio) }), colourText),
    ...light(c.pue),
    ...light(c.occupancy),
    ...light(c.green),
  ];
}

/** After the join: the tag columns under the dashboard's words. */
const renamed = (renames: Record<string, string>): Transformation => ({ id: 'organize', options: { renameByName: renames } });

function rankingTable(say: Say, c: Columns, lang: DashboardLang) {
  return table({
    title: say('Ranking: sites by PUE, month to date', '排名：各站点本月累计 PUE'),
    description: say(
      'Every site ranked by its energy PUE of the month to date (lowest first), beside its rack occupancy of the month (mean of days) and green share of the month (energy and certificates). Each figure is coloured at its target (PUE ≤ 1.2, occupancy ≥ 70 %, green share ≥ 80 %; amber within 0.05 PUE or 5 points), with the collector\'s status and the figure\'s quality. A site whose month has no value (insufficient data) sorts last. Clusters are in the table below.',
      '各站点按本月累计能耗 PUE 由低到高排名，并列出本月上架率（各日均值）与本月绿电占比（含绿证与绿电交易）。每项按目标着色（PUE ≤ 1.2，上架率 ≥ 70 %，绿电占比 ≥ 80 %；相差 0.05 PUE 或 5 个百分点以内为黄色），并给出采集器的达标状态和数据质量。本月无数值（数据不足）的站点排在最后。集群见下表。',
    ),
    w: 24,
    h: 9,
    queries: [
      { query: headline('pue', { fixed: '1mo' }, c.pue, { sitesOnly: true }), format: 'table' },
      { query: headline('rack_occupancy_ratio', { fixed: '1mo' }, c.occupancy, { sitesOnly: true }), format: 'table' },
      { query: headline('green_share_ratio', { fixed: '1mo' }, c.green, { sitesOnly: true }), format: 'table' },
    ],
    transformations: [...joinOn('site'), renamed({ site: c.site })],
    overrides: targetOverrides(c, lang),
    sortBy: [{ displayName: c.pue.value, desc: false }],
  });
}

function targetsTable(say: Say, c: Columns, lang: DashboardLang) {
  return table({
    title: say('Sites and clusters against the targets', '站点与集群对标'),
    description: say(
      'Newest figure per site and cluster: energy PUE of the chosen window (target 1.2, with its category), rack occupancy (target 70 %) and green share (target 80 %). Status is the collector\'s traffic light against each site\'s or cluster\'s own target: met, near (within 0.05 PUE or 5 points), missed, or no value (insufficient data). Clusters show their energy-weighted (pooled) figure.',
      '各站点与集群的最新数值：所选窗口的能耗 PUE（目标 1.2，附 PUE 类别）、上架率（目标 70 %）、绿电占比（目标 80 %）。状态为采集器按各站点或集群自身目标给出的红绿灯：达标、接近（相差 0.05 PUE 或 5 个百分点以内）、未达标、无数值（数据不足）。集群显示能耗加权（合并）值。',
    ),
    w: 24,
    h: 9,
    queries: [
      { query: headline('pue', { variable: 'pue_window' }, c.pue, { extraGroup: ['category'] }), format: 'table' },
      { query: headline('rack_occupancy_ratio', { variable: 'occupancy_window' }, c.occupancy), format: 'table' },
      { query: headline('green_share_ratio', { variable: 'green_window' }, c.green), format: 'table' },
    ],
    transformations: [...joinOn('site'), renamed({ site: c.site, category: c.category })],
    overrides: targetOverrides(c, lang),
    sortBy: [{ displayName: c.site, desc: false }],
  });
}

function rollupTable(say: Say, c: Columns, lang: DashboardLang) {
  return table({
    title: say('Cluster roll-ups: energy-weighted and mean of sites', '集群汇总：能耗加权与站点均值'),
    description: say(
      'Each cluster figure twice, labelled by basis: energy_weighted (ΣE_facility / ΣE_IT over the sites, as if one site), pooled (Σ on-rack / Σ available racks) and mean_of_sites (the plain mean of the site values, what a league table averages). A cluster has no value while any of its sites has none.',
      '每个集群指标给出两种口径（basis 列）：energy_weighted 能耗加权（各站点 ΣE_总 / ΣE_IT，视同一个站点）、pooled 合并（Σ 上架机柜 / Σ 可用机柜）与 mean_of_sites 站点均值（各站点数值的简单平均）。任一站点无数值时集群亦无数值。',
    ),
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
    transformations: [
      mergeTables,
      {
        id: 'organize',
        options: {
          excludeByName: { Time: true },
          renameByName: lang === 'en' ? { site: c.cluster } : { site: c.cluster, kpi: '指标', window: '窗口', basis: '口径', value: '数值', status: c.status, quality: c.quality, coverage: '覆盖率' },
        },
      },
    ],
    overrides: [
      byName(c.status, colouredCells, prop('mappings', statusColours(lang))),
      byName(c.quality, prop('mappings', qualityColours(lang))),
      byName(lang === 'en' ? 'coverage' : '覆盖率', prop('unit', 'percentunit'), prop('decimals', 1)),
      byName(lang === 'en' ? 'kpi' : '指标', prop('mappings', [{ type: 'value', options: { pue: { text: 'PUE', index: 0 }, rack_occupancy_ratio: { text: c.words['kpi.rack_occupancy_ratio'], index: 1 }, green_share_ratio: { text: c.words['kpi.green_share_ratio'], index: 2 } } }])),
    ],
  });
}

type ComputeKpi = 'compute_ai_pflops' | 'compute_general_pflops' | 'compute_ai_share_ratio' | 'accelerator_utilisation_pct';

/** The newest instant compute figure per site and cluster within the dashboard range, with its quality. */
function compute(kpi: ComputeKpi, names: { value: string; quality: string }, o: { scale?: string; alsoPflops?: string } = {}): string {
  const value = `${ident('value')}${o.scale ?? ''} AS ${ident(names.value)}`;
  return select({
    columns: [value, ...(o.alsoPflops ? [col('value', o.alsoPflops)] : []), col('quality', names.quality)],
    from: 'kpi',
    where: [...kpiWhere(kpi, {}), TIME_FILTER],
    groupBy: ['site'],
    newest: true,
  });
}

function computeTable(say: Say, c: Columns, lang: DashboardLang) {
  const quality = (n: { quality: string }) => byName(n.quality, prop('mappings', qualityColours(lang)));
  return table({
    title: say('Compute monitoring: scale, intelligent-compute share, utilisation', '算力监测：算力规模、智算占比、加速卡利用率'),
    description: say(
      'Compute scale (算力规模) per site and cluster. Intelligent compute (智算): Σ installed accelerators × dense FP16 peak from the accelerator catalogue, in EFLOPS and PFLOPS; general compute (通用): Σ CPUs × FP32 peak, in PFLOPS; the intelligent-compute share of the two (智算占比, coloured against the plan\'s 90 %); and the mean utilisation of the reporting accelerators. Each figure carries its quality; clusters sum their sites.',
      '各站点与集群的算力规模。智算：Σ 已安装加速卡 × 稠密 FP16 峰值（依加速卡目录），单位 EFLOPS 与 PFLOPS；通用算力：Σ CPU × FP32 峰值，单位 PFLOPS；智算占比（按规划目标 90 % 着色）；上报加速卡的平均利用率。每项附数据质量；集群为其站点之和。',
    ),
    w: 24,
    h: 8,
    queries: [
      { query: compute('compute_ai_pflops', c.aiEflops, { scale: ' / 1000', alsoPflops: c.aiPflops }), format: 'table' },
      { query: compute('compute_general_pflops', c.general), format: 'table' },
      { query: compute('compute_ai_share_ratio', c.aiShare), format: 'table' },
      { query: compute('accelerator_utilisation_pct', c.utilisation), format: 'table' },
    ],
    decimals: 3,
    transformations: [...joinOn('site'), renamed({ site: c.site })],
    overrides: [
      byName(c.aiPflops, prop('decimals', 1)),
      byName(c.aiShare.value, prop('unit', 'percentunit'), prop('decimals', 1), prop('thresholds', { mode: 'absolute', steps: atLeast(AI_SHARE_TARGET, AMBER.ratio) }), colourText),
      byName(c.utilisation.value, prop('unit', 'percent'), prop('decimals', 1)),
      quality(c.aiEflops),
      quality(c.general),
      quality(c.aiShare),
      quality(c.utilisation),
    ],
    sortBy: [{ displayName: c.aiEflops.value, desc: true }],
  });
}

function qualityTable(say: Say, c: Columns, lang: DashboardLang) {
  const zh = lang === 'zh-CN';
  const n = {
    coverage: zh ? 'PUE 覆盖率' : 'PUE coverage',
    quality: zh ? 'PUE 数据质量' : 'PUE quality',
    live: zh ? '实时 PUE 数据质量' : 'Live PUE quality',
    down: zh ? '离线设备' : 'Devices down',
    degraded: zh ? '降级设备' : 'Devices degraded',
    devices: zh ? '设备总数' : 'Devices',
  };
  return table({
    title: say('Data quality per site', '各站点数据质量'),
    description: say(
      "Coverage and quality of each site's newest energy PUE window (the share of the window its meters cover), the quality of its newest live PUE (none on a bureau, which receives windows only), and devices down or degraded as the agents report them (Σ over the site's agents of their newest health).",
      '各站点最新能耗 PUE 窗口的覆盖率（计量表覆盖窗口的比例）与数据质量、最新实时 PUE 的数据质量（大数据局只接收窗口汇总，无实时值），以及代理上报的离线或降级设备数（站点各代理最新健康状态之和）。',
    ),
    w: 24,
    h: 8,
    queries: [
      {
        query: select({ columns: [col('coverage', n.coverage), col('quality', n.quality)], from: 'kpi', where: [...kpiWhere('pue', { windowVar: 'pue_window', basis: ['energy'] }), LATEST_RANGE], groupBy: ['site'], newest: true }),
        format: 'table',
      },
      { query: select({ columns: [col('quality', n.live)], from: 'kpi', where: [...kpiWhere('pue_live', {}), TIME_FILTER], groupBy: ['site'], newest: true }), format: 'table' },
      {
        query: select({
          columns: [sum('down', n.down), sum('degraded', n.degraded), sum('devices', n.devices)],
          from: { columns: [last('devices_down_count', 'down'), last('devices_degraded_count', 'degraded'), last('devices_count', 'devices')], from: 'agent_health', where: [TIME_FILTER], groupBy: ['site', 'agent'] },
          groupBy: ['site'],
        }),
        format: 'table',
      },
    ],
    transformations: [...joinOn('site'), renamed({ site: c.site })],
    overrides: [
      byName(n.coverage, prop('unit', 'percentunit'), prop('decimals', 1)),
      byName(n.quality, colouredCells, prop('mappings', qualityColours(lang))),
      byName(n.live, colouredCells, prop('mappings', qualityColours(lang))),
      byName(n.down, prop('thresholds', { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'red', value: 1 }] }), colourText),
    ],
  });
}

/** A daily figure per site and cluster over the last 90 days, with the target as a dashed line. */
function dailyTrend(say: Say, o: { title: [string, string]; description: [string, string]; query: string; percent: boolean; thresholds: ReturnType<typeof atMost> }) {
  return timeseries({
    title: say(...o.title),
    description: say(...o.description),
    w: 8,
    h: 9,
    queries: [{ query: o.query, alias: '$tag_site' }],
    ...(o.percent ? { unit: 'percentunit', decimals: 1, min: 0, max: 1 } : { decimals: 3 }),
    thresholds: o.thresholds,
    thresholdLines: 'dashed',
    stepped: true,
    points: true,
    // The bureau compares the quarter whatever range the dashboard shows.
    timeFrom: TREND_RANGE,
  });
}

function trends(say: Say) {
  return [
    dailyTrend(say, {
      title: ['Daily PUE by site and cluster, last 90 days', '每日 PUE（各站点与集群，近 90 天）'],
      description: [
        'Energy PUE of each complete local day (kpi pue, window 1d): sites by their own meters, clusters energy-weighted. Drawn at the end of each day. Dashed line: the 1.2 target.',
        '各完整自然日的能耗 PUE（kpi pue，窗口 1d）：站点按自身计量，集群按能耗加权。点位于每日结束时刻。虚线：目标 1.2。',
      ],
      query: select({ columns: [col('value')], from: 'kpi', where: [...kpiWhere('pue', { windows: ['1d'], basis: ['energy', 'energy_weighted'] }), TIME_FILTER], groupBy: ['site'] }),
      percent: false,
      thresholds: atMost(TARGETS.pue, AMBER.pue),
    }),
    dailyTrend(say, {
      title: ['Daily rack occupancy (上架率), last 90 days', '每日上架率（近 90 天）'],
      description: [
        'Rack occupancy of each complete local day (kpi rack_occupancy_ratio, window 1d): racks on-rack / racks available, clusters pooled. Dashed line: the 70 % target.',
        '各完整自然日的上架率（kpi rack_occupancy_ratio，窗口 1d）：上架机柜 / 可用机柜，集群为合并值。虚线：目标 70 %。',
      ],
      query: select({ columns: [col('value')], from: 'kpi', where: [...kpiWhere('rack_occupancy_ratio', { windows: ['1d'], basis: ['on_rack_count', 'pooled'] }), TIME_FILTER], groupBy: ['site'] }),
      percent: true,
      thresholds: atLeast(TARGETS.rack_occupancy, AMBER.ratio),
    }),
    dailyTrend(say, {
      title: ['Daily green share (绿电占比), last 90 days', '每日绿电占比（近 90 天）'],
      description: [
        "Green share of each complete local day (kpi green_share_ratio, window 1d): physical green supply only (on-site and green feeds; certificates count in the month and year), clusters energy-weighted. Dashed line: the 80 % target, which the year's figure is judged by.",
        '各完整自然日的绿电占比（kpi green_share_ratio，窗口 1d）：仅计物理绿电（自发与绿电专线；绿证计入月度与年度），集群按能耗加权。虚线：目标 80 %（以年度数值考核）。',
      ],
      query: select({ columns: [col('value')], from: 'kpi', where: [...kpiWhere('green_share_ratio', { windows: ['1d'], basis: ['energy_physical', 'energy_weighted'] }), TIME_FILTER], groupBy: ['site'] }),
      percent: true,
      thresholds: atLeast(TARGETS.green_share, AMBER.ratio),
    }),
  ];
}

function coverageTrend(say: Say) {
  return timeseries({
    title: say('Meter coverage of the 15-minute PUE windows', '15 分钟 PUE 窗口的计量覆盖率'),
    description: say(
      'Share of each 15-minute window covered by the meters of each site (kpi pue, window 15m, field coverage); below 0.99 the figure is no longer "measured".',
      '各站点计量表对每个 15 分钟窗口的覆盖比例（kpi pue，窗口 15m，字段 coverage）；低于 0.99 时数值不再是“实测”。',
    ),
    w: 24,
    h: 8,
    queries: [{ query: select({ columns: [col('coverage', 'coverage', 'mean')], from: 'kpi', where: [...kpiWhere('pue', { windows: ['15m'], basis: ['energy'] }), TIME_FILTER], byTime: true, groupBy: ['site'], fill: 'none' }), alias: '$tag_site' }],
    unit: 'percentunit',
    min: 0,
    max: 1,
  });
}

/** The bureau dashboard in one language; the uid says which. */
export function bureauOverviewIn(lang: DashboardLang): Dashboard {
  const say: Say = (en, zh) => (lang === 'en' ? en : zh);
  const c = columns(lang);
  return dashboard({
    uid: lang === 'en' ? 'dcim-bureau-overview' : 'dcim-bureau-overview-zh-cn',
    title: say('DCIM · Bureau overview', 'DCIM · 大数据局总览'),
    description: say(
      'All sites and clusters against the PUE, rack-occupancy and green-share targets, ranked; daily trends; compute monitoring; data quality. 中文版: dcim-bureau-overview-zh-cn.',
      '各站点与集群的 PUE、上架率、绿电占比对标与排名；每日趋势；算力监测；数据质量。English: dcim-bureau-overview.',
    ),
    tags: ['bureau', lang === 'en' ? 'en' : 'zh-cn'],
    time: 'now-30d',
    refresh: '5m',
    variables: windowVariables(say),
    rows: [
      { title: say('Targets', '对标'), panels: [rankingTable(say, c, lang), targetsTable(say, c, lang), rollupTable(say, c, lang)] },
      { title: say('Compute monitoring', '算力监测'), panels: [computeTable(say, c, lang)] },
      { title: say('Trends', '趋势'), panels: trends(say) },
      { title: say('Data quality', '数据质量'), panels: [qualityTable(say, c, lang), coverageTrend(say)] },
    ],
  });
}

export const bureauOverview = (): Dashboard => bureauOverviewIn('en');
export const bureauOverviewZh = (): Dashboard => bureauOverviewIn('zh-CN');
