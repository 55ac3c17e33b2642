import { meanOfSites } from '../../cluster-rollup.js';
import { GREEN_SHARE_LIVE_KPI } from '../../green-share.js';
import { pooledLive } from '../../live-pue.js';
import { liveRollup } from '../live-rollup.js';
import { defineKpi, FORMATS } from '../kpi-module.js';
import { LIVE_INPUTS, MEAN_OF_SITES } from '../spec-inputs.js';

/** Live green share of the facility's power; a cluster pools power and takes the mean of its sites. */
export const greenShareLive = defineKpi({
  name: 'green_share_live_ratio',
  order: 20,
  spec: { windows: ['instant'], site_basis: ['power_metered'], cluster_basis: ['power_weighted', 'mean_of_sites'], inputs: ['facility_power_w', 'green_onsite_power_w', 'green_feed_power_w', ...LIVE_INPUTS, ...MEAN_OF_SITES] },
  display: { label: { 'zh-CN': '实时绿电占比', en: 'Green share now' }, format: FORMATS.ratio },
  site: (ctx) => {
    const l = ctx.live();
    return l ? [l[1]] : [];
  },
  cluster: (ctx) =>
    liveRollup(ctx, 1, (perSite) => {
      const c = ctx.cluster;
      const o = { kpi: GREEN_SHARE_LIVE_KPI, numerator: ['green_onsite_power_w', 'green_feed_power_w'], denominator: 'facility_power_w', cap: 1, target: c.targets.green_share, direction: 'at_least' as const };
      const mean = meanOfSites(c.sites, perSite, o.target, o.direction);
      return [ctx.noSites(pooledLive(c.sites, perSite, { ...o, at_ms: ctx.now_ms })), ...(mean ? [mean] : [])];
    }),
});

export default greenShareLive;
