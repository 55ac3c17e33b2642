import { meanOfSites } from '../../cluster-rollup.js';
import { LIVE_PUE_KPI, pooledLive } from '../../live-pue.js';
import { liveRollup } from '../live-rollup.js';
import { defineKpi, FORMATS } from '../kpi-module.js';
import { LIVE_INPUTS, MEAN_OF_SITES } from '../spec-inputs.js';

/** Live PUE from the latest power readings; a cluster pools power (ΣP_facility / ΣP_IT) and takes the mean of its sites. */
export const pueLive = defineKpi({
  name: 'pue_live',
  order: 10,
  spec: { windows: ['instant'], site_basis: ['power'], cluster_basis: ['power_weighted', 'mean_of_sites'], inputs: ['facility_power_w', 'it_power_w', ...LIVE_INPUTS, ...MEAN_OF_SITES] },
  display: { label: { 'zh-CN': '实时 PUE', en: 'Live PUE' }, format: FORMATS.pue },
  site: (ctx) => {
    const l = ctx.live();
    return l ? [l[0]] : [];
  },
  cluster: (ctx) =>
    liveRollup(ctx, 0, (perSite) => {
      const c = ctx.cluster;
      const o = { kpi: LIVE_PUE_KPI, numerator: ['facility_power_w'], denominator: 'it_power_w', target: c.targets.pue, direction: 'at_most' as const };
      const mean = meanOfSites(c.sites, perSite, o.target, o.direction);
      return [ctx.noSites(pooledLive(c.sites, perSite, { ...o, at_ms: ctx.now_ms })), ...(mean ? [mean] : [])];
    }),
});

export default pueLive;
