import { KPI_REGISTRY, type KpiModule } from '../collector/kpi/registry/index.js';
import { registryRows } from './registry-panels.js';
import { AMBER, alertAnnotations, hallVariable, QUALITY_COLOURS, siteVariable, STATUS_COLOURS, TARGETS } from './common.js';
import { dashboard, type Dashboard } from './grafana/dashboard.js';
import { atLeast, atMost, byName, byRegexp, colouredCells, gauge, heatGrid, mergeTables, prop, stat, stateTimeline, table, timeseries } from './grafana/panels.js';
import { col, eq, kpiWhere, LATEST_RANGE, matchesVar, mean, select, sum, TIME_FILTER } from './influxql/build.js';

/**
 * Site operations: what an operator watches for one site — live and energy PUE against the 1.2
 * target, power, capacity and green energy against their targets, cooling, GPUs, firing alerts.
 */

const SITE = matchesVar('site', 'site');
const HALL = matchesVar('hall', 'hall');

/** Σ over devices of each device's mean in the interval: two polls of one meter count once. */
function sumOfDeviceMeans(o: { field: string; from: string | string[]; where: string[]; by: string; extraGroup?: string[] }): string {
  return select({
    columns: [sum('p', 'power')],
    from: { columns: [mean(o.field, 'p')], from: o.from, where: [...o.where, TIME_FILTER], byTime: true, groupBy: ['device', ...(o.extraGroup ?? []), o.by] },
    where: [TIME_FILTER],
    byTime: true,
    groupBy: [o.by],
    fill: 'none',
  });
}

const pueRow = {
  title: 'PUE',
  panels: [
    gauge({
      title: 'Live PUE',
      description:
        'P_facility / P_IT from the latest power of each meter (kpi pue_live, window instant, basis power). Instantaneous: it shows where the site stands now and is never the target verdict, which is the energy PUE of a window. Colours: green up to the 1.2 target, amber within 0.05, red above.',
      w: 6,
      h: 8,
      // The newest point, valued or not: a stale meter must show "unknown", not the last good figure.
      queries: [{ query: select({ columns: [col('value', 'PUE'), col('quality')], from: 'kpi', where: [...kpiWhere('pue_live', { siteVar: 'site', windows: ['instant'] }), TIME_FILTER], newest: true }) }],
      decimals: 3,
      min: 1,
      max: 2,
      thresholds: atMost(TARGETS.pue, AMBER.pue),
      noValue: 'unknown (stale or missing meter)',
    }),
    timeseries({
      title: 'PUE by window',
      description:
        'Live PUE (mean per interval) and the energy PUE of each complete 15-minute, hourly and daily window: ΣE_facility / ΣE_IT, a ratio of sums (kpi pue, basis energy). An energy window is drawn at its end and holds for the window before it. The label carries the PUE category (1: UPS output, 2: PDU output, 3: IT input). Line: the 1.2 target.',
      w: 18,
      h: 8,
      queries: [
        { query: select({ columns: [mean('value', 'live')], from: 'kpi', where: [...kpiWhere('pue_live', { siteVar: 'site' }), TIME_FILTER], byTime: true, fill: 'none' }), alias: 'live (instantaneous)' },
        {
          query: select({ columns: [col('value')], from: 'kpi', where: [...kpiWhere('pue', { siteVar: 'site', windows: ['15m', '1h', '1d'], basis: ['energy'] }), TIME_FILTER], groupBy: ['window', 'category'] }),
          alias: 'PUE$tag_category $tag_window',
        },
      ],
      decimals: 3,
      thresholds: atMost(TARGETS.pue, AMBER.pue),
      thresholdLines: 'dashed',
      overrides: [byRegexp('^PUE.*', prop('custom.lineInterpolation', 'stepBefore'), prop('custom.showPoints', 'always'))],
    }),
    table({
      title: 'PUE per window: newest value, quality and coverage',
      description:
        'The newest figure of every PUE window (15 min, hour, day, month and year to date, trailing 12 months, last calendar year) with its category, quality (measured ≥ 99 % of inputs covered, partial, estimated, insufficient: no value) and target status. The annual windows are the target verdict.',
      w: 14,
      h: 8,
      queries: [
        {
          query: select({
            columns: [col('value', 'PUE'), col('status'), col('quality'), col('coverage')],
            from: 'kpi',
            where: [...kpiWhere('pue', { siteVar: 'site', basis: ['energy'] }), LATEST_RANGE],
            groupBy: ['window', 'category'],
            newest: true,
          }),
          format: 'table',
        },
      ],
      decimals: 3,
      transformations: [mergeTables],
      overrides: [byName('status', colouredCells, prop('mappings', STATUS_COLOURS)), byName('quality', colouredCells, prop('mappings', QUALITY_COLOURS)), byName('coverage', prop('unit', 'percentunit'), prop('decimals', 1))],
    }),
    stateTimeline({
      title: 'PUE quality by window',
      description: 'Quality of each 15-minute, hourly and daily PUE window as it was stored, from the coverage of its meters (kpi pue, field quality).',
      w: 10,
      h: 8,
      queries: [{ query: select({ columns: [col('quality')], from: 'kpi', where: [...kpiWhere('pue', { siteVar: 'site', windows: ['15m', '1h', '1d'], basis: ['energy'] }), TIME_FILTER], groupBy: ['window'] }), alias: '$tag_window' }],
      mappings: QUALITY_COLOURS,
    }),
  ],
};

const powerRow = {
  title: 'Power',
  panels: [
    timeseries({
      title: 'Facility, IT and cooling power',
      description:
        'Facility power (Σ incomers − export + on-site generation behind the meter) and IT power (at the PUE level) are the live PUE inputs (kpi pue_live fields facility_power_w, it_power_w); on-site generation and green feeds are the live green-share inputs (kpi green_share_live_ratio). Cooling: Σ of the meters with role cooling (each device averaged per interval, then summed).',
      w: 12,
      h: 8,
      queries: [
        { query: select({ columns: [mean('facility_power_w', 'facility'), mean('it_power_w', 'IT')], from: 'kpi', where: [...kpiWhere('pue_live', { siteVar: 'site' }), TIME_FILTER], byTime: true, fill: 'none' }), alias: '$col' },
        { query: sumOfDeviceMeans({ field: 'active_power_w', from: ['meter', 'chiller', 'crah'], where: [SITE, eq('role', 'cooling')], by: 'site' }), alias: 'cooling' },
        { query: select({ columns: [mean('green_onsite_power_w', 'green on-site'), mean('green_feed_power_w', 'green feed')], from: 'kpi', where: [...kpiWhere('green_share_live_ratio', { siteVar: 'site' }), TIME_FILTER], byTime: true, fill: 'none' }), alias: '$col' },
      ],
      unit: 'watt',
      min: 0,
    }),
    timeseries({
      title: 'IT power by hall',
      description: 'Σ of the rack PDUs (measurement pdu, field active_power_w, each PDU averaged per interval) per hall.',
      w: 12,
      h: 8,
      queries: [{ query: sumOfDeviceMeans({ field: 'active_power_w', from: 'pdu', where: [SITE, HALL], by: 'hall' }), alias: '$tag_hall' }],
      unit: 'watt',
      min: 0,
      stack: true,
    }),
    heatGrid({
      title: 'Rack power heat map',
      description: 'Power per rack over time: Σ of the rack\'s PDUs (measurement pdu, field active_power_w), green (low) to red (high). Halls follow the hall variable.',
      w: 24,
      h: 10,
      queries: [{ query: sumOfDeviceMeans({ field: 'active_power_w', from: 'pdu', where: [SITE, HALL], by: 'rack' }), alias: '$tag_rack' }],
      unit: 'watt',
      min: 0,
    }),
  ],
};

const targetsRow = {
  title: 'Capacity and green energy',
  panels: [
    stat({
      title: 'Against the targets',
      description:
        'Newest month-to-date energy PUE (target 1.2), rack occupancy of the month (mean of days, target 70 %) and green share of the year to date (on-site, green feeds and certificates, target 80 %). No value while the newest figure has insufficient data (early in a period, or meters missing).',
      w: 6,
      h: 8,
      queries: [
        { query: select({ columns: [col('value', 'PUE (month)'), col('quality')], from: 'kpi', where: [...kpiWhere('pue', { siteVar: 'site', windows: ['1mo'], basis: ['energy'] }), LATEST_RANGE], newest: true }) },
        { query: select({ columns: [col('value', 'Rack occupancy (month)'), col('quality')], from: 'kpi', where: [...kpiWhere('rack_occupancy_ratio', { siteVar: 'site', windows: ['1mo'] }), LATEST_RANGE], newest: true }) },
        { query: select({ columns: [col('value', 'Green share (year to date)'), col('quality')], from: 'kpi', where: [...kpiWhere('green_share_ratio', { siteVar: 'site', windows: ['ytd'] }), LATEST_RANGE], newest: true }) },
      ],
      colorMode: 'background',
      overrides: [
        byName('PUE (month)', prop('decimals', 3), prop('thresholds', { mode: 'absolute', steps: atMost(TARGETS.pue, AMBER.pue) })),
        byName('Rack occupancy (month)', prop('unit', 'percentunit'), prop('decimals', 1), prop('thresholds', { mode: 'absolute', steps: atLeast(TARGETS.rack_occupancy, AMBER.ratio) })),
        byName('Green share (year to date)', prop('unit', 'percentunit'), prop('decimals', 1), prop('thresholds', { mode: 'absolute', steps: atLeast(TARGETS.green_share, AMBER.ratio) })),
      ],
    }),
    timeseries({
      title: 'Rack occupancy (上架率)',
      description:
        'Racks on-rack / racks available per local day (on-rack: IT power ≥ max(0.3 kW, 10 % of rated) for ≥ 50 % of the day) and the month as the mean of its days (kpi rack_occupancy_ratio); IT-load utilisation E_IT / (hours × Σ rated kW) (kpi it_load_utilisation_ratio). Line: the 70 % target.',
      w: 9,
      h: 8,
      queries: [
        { query: select({ columns: [col('value')], from: 'kpi', where: [...kpiWhere('rack_occupancy_ratio', { siteVar: 'site', windows: ['1d', '1mo'] }), TIME_FILTER], groupBy: ['window'] }), alias: 'occupancy $tag_window' },
        { query: select({ columns: [col('value')], from: 'kpi', where: [...kpiWhere('it_load_utilisation_ratio', { siteVar: 'site', windows: ['1d'] }), TIME_FILTER] }), alias: 'IT-load utilisation 1d' },
      ],
      unit: 'percentunit',
      min: 0,
      max: 1,
      thresholds: atLeast(TARGETS.rack_occupancy, AMBER.ratio),
      thresholdLines: 'dashed',
      stepped: true,
      points: true,
    }),
    timeseries({
      title: 'Green share (绿电占比)',
      description:
        'Live share of the metered green supply min(1, (P_green_onsite + P_green_feed) / P_facility) (kpi green_share_live_ratio); the physical share of each day (on-site and green feeds); and the energy share min(1, (E_onsite + E_green_feed + certificates + trades) / E_facility) of the month and year to date (kpi green_share_ratio). The calendar year is the verdict (REF, ISO/IEC 30134-3). Line: the 80 % target.',
      w: 9,
      h: 8,
      queries: [
        { query: select({ columns: [mean('value', 'live')], from: 'kpi', where: [...kpiWhere('green_share_live_ratio', { siteVar: 'site' }), TIME_FILTER], byTime: true, fill: 'none' }), alias: 'metered green (live)' },
        { query: select({ columns: [col('value')], from: 'kpi', where: [...kpiWhere('green_share_ratio', { siteVar: 'site', windows: ['1d', '1mo', 'ytd'] }), TIME_FILTER], groupBy: ['window'] }), alias: 'green share $tag_window' },
      ],
      unit: 'percentunit',
      min: 0,
      max: 1,
      thresholds: atLeast(TARGETS.green_share, AMBER.ratio),
      thresholdLines: 'dashed',
      overrides: [byRegexp('^green share .*', prop('custom.lineInterpolation', 'stepBefore'))],
    }),
  ],
};

const coolingRow = {
  title: 'Cooling',
  panels: [
    timeseries({
      title: 'Chilled water temperatures',
      description: 'Chilled-water supply and return per chiller (measurement chiller, fields chw_supply_temp_c, chw_return_temp_c).',
      w: 8,
      h: 8,
      queries: [{ query: select({ columns: [mean('chw_supply_temp_c', 'supply'), mean('chw_return_temp_c', 'return')], from: 'chiller', where: [SITE, TIME_FILTER], byTime: true, groupBy: ['device'], fill: 'none' }), alias: '$tag_device $col' }],
      unit: 'celsius',
      decimals: 1,
    }),
    timeseries({
      title: 'CRAH supply and return air',
      description: 'Supply and return air per CRAH unit in the selected halls (measurement crah, fields supply_air_temp_c, return_air_temp_c).',
      w: 8,
      h: 8,
      queries: [{ query: select({ columns: [mean('supply_air_temp_c', 'supply'), mean('return_air_temp_c', 'return')], from: 'crah', where: [SITE, HALL, TIME_FILTER], byTime: true, groupBy: ['device'], fill: 'none' }), alias: '$tag_device $col' }],
      unit: 'celsius',
      decimals: 1,
    }),
    timeseries({
      title: 'Rack inlet temperature',
      description: 'Inlet air per rack (measurement sensor, field inlet_temp_c). Lines: ASHRAE recommended 18–27 °C, allowable 15–32 °C.',
      w: 8,
      h: 8,
      queries: [{ query: select({ columns: [mean('inlet_temp_c', 'inlet')], from: 'sensor', where: [SITE, HALL, TIME_FILTER], byTime: true, groupBy: ['rack'], fill: 'none' }), alias: '$tag_rack' }],
      unit: 'celsius',
      decimals: 1,
      thresholds: [
        { color: 'red', value: null },
        { color: 'orange', value: 15 },
        { color: 'green', value: 18 },
        { color: 'orange', value: 27 },
        { color: 'red', value: 32 },
      ],
      thresholdLines: 'dashed',
    }),
  ],
};

const gpuRow = {
  title: 'GPUs',
  panels: [
    timeseries({
      title: 'GPU and server power by rack',
      description: 'Σ of the GPUs (measurement gpu, field gpu_power_w per gpu) and of the servers\' chassis power (field active_power_w) per rack, from the BMCs over Redfish.',
      w: 12,
      h: 8,
      queries: [
        { query: sumOfDeviceMeans({ field: 'gpu_power_w', from: 'gpu', where: [SITE, HALL], by: 'rack', extraGroup: ['gpu'] }), alias: '$tag_rack GPUs' },
        { query: sumOfDeviceMeans({ field: 'active_power_w', from: 'gpu', where: [SITE, HALL], by: 'rack' }), alias: '$tag_rack servers' },
      ],
      unit: 'watt',
      min: 0,
    }),
    timeseries({
      title: 'GPU utilisation',
      description: 'Mean utilisation of the GPUs per rack (measurement gpu, field gpu_utilisation_pct) and the site\'s accelerator utilisation KPI (mean of the reporting accelerators).',
      w: 8,
      h: 8,
      queries: [
        { query: select({ columns: [mean('gpu_utilisation_pct', 'utilisation')], from: 'gpu', where: [SITE, HALL, TIME_FILTER], byTime: true, groupBy: ['rack'], fill: 'none' }), alias: '$tag_rack' },
        { query: select({ columns: [mean('value', 'site')], from: 'kpi', where: [...kpiWhere('accelerator_utilisation_pct', { siteVar: 'site' }), TIME_FILTER], byTime: true, fill: 'none' }), alias: 'site (KPI)' },
      ],
      unit: 'percent',
      min: 0,
      max: 100,
    }),
    stat({
      title: 'Installed compute',
      description: 'Σ accelerators × dense FP16 peak (智算, kpi compute_ai_pflops) and Σ CPUs × FP32 peak (通用, kpi compute_general_pflops), and the intelligent-compute share of the two (kpi compute_ai_share_ratio).',
      w: 4,
      h: 8,
      queries: [
        { query: select({ columns: [col('value', 'AI PFLOPS (FP16 dense)', 'last')], from: 'kpi', where: [...kpiWhere('compute_ai_pflops', { siteVar: 'site' }), TIME_FILTER] }) },
        { query: select({ columns: [col('value', 'General PFLOPS (FP32)', 'last')], from: 'kpi', where: [...kpiWhere('compute_general_pflops', { siteVar: 'site' }), TIME_FILTER] }) },
        { query: select({ columns: [col('value', 'Intelligent-compute share', 'last')], from: 'kpi', where: [...kpiWhere('compute_ai_share_ratio', { siteVar: 'site' }), TIME_FILTER] }) },
      ],
      decimals: 2,
      overrides: [byName('Intelligent-compute share', prop('unit', 'percentunit'), prop('decimals', 1))],
    }),
  ],
};

/** `modules`: the KPI registry (a test gives its own); each module's declared panel goes in the KPIs row after the curated rows. */
export function siteOperations(modules: readonly KpiModule[] = KPI_REGISTRY): Dashboard {
  return dashboard({
    uid: 'dcim-site-operations',
    title: 'DCIM · Site operations',
    description: 'One site: live and energy PUE against the target, power, rack occupancy, green share, cooling, GPUs and firing alerts.',
    tags: ['site'],
    time: 'now-6h',
    refresh: '30s',
    variables: [siteVariable(), hallVariable()],
    annotations: alertAnnotations(),
    rows: [pueRow, powerRow, targetsRow, coolingRow, gpuRow, ...registryRows(modules)],
  });
}
