import type { KpiWindow } from './messages.js';

/**
 * The KPI catalogue agent, collector, bureau, store and dashboards agree on (docs/design.md §5):
 * every KPI's name, windows, basis labels and stored input fields, as data. How a KPI is evaluated
 * is the collector's business (collector/kpi/registry/, one module per KPI bound to a name here);
 * this file holds only what a reader of the stored or published figures needs to know.
 */

export interface KpiSpec {
  readonly windows: readonly KpiWindow[];
  /** `basis` tag values of a site's figure. */
  readonly site_basis: readonly string[];
  /** `basis` tag values of a cluster roll-up (its points carry the cluster id in `site`). */
  readonly cluster_basis: readonly string[];
  /** Fields beyond the fixed ones (KpiValue.inputs), for display and diagnosis. */
  readonly inputs: readonly string[];
}

const MEAN_OF_SITES = ['sites', 'sites_with_value'] as const;
const LIVE_INPUTS = ['input_spread_ms', 'stale_meter_count', 'carried_ratio'] as const;
/**
 * A side's energy inputs (KPI_INPUTS_VERSION 2): measured and substituted named apart; `_kwh`, their
 * sum, only while the substitution stayed within the `estimated` bound.
 */
const sideInputs = <S extends string>(side: S) => [`${side}_measured_kwh`, `${side}_substituted_kwh`, `${side}_kwh`, `${side}_coverage`] as const;
const GREEN_INPUTS = [...sideInputs('facility'), ...sideInputs('green_onsite'), ...sideInputs('green_feed'), 'certificate_kwh', 'trade_kwh', 'substituted_ratio'] as const;
const ACCELERATORS = ['accelerators', 'accelerators_unknown'] as const;
const CPUS = ['cpus', 'cpus_unknown'] as const;

/** Every KPI the collector stores (docs/design.md §5), with its windows, basis labels and inputs. */
export const KPI_CATALOGUE = {
  /** Live figures name their stale meters in KpiValue.stale_meters (MQTT, API); the store keeps the count and the carried share. */
  pue_live: { windows: ['instant'], site_basis: ['power'], cluster_basis: ['power_weighted', 'mean_of_sites'], inputs: ['facility_power_w', 'it_power_w', ...LIVE_INPUTS, ...MEAN_OF_SITES] },
  pue: {
    windows: ['15m', '1h', '1d', '1mo', 'ytd', '12mo', '1y'],
    site_basis: ['energy'],
    cluster_basis: ['energy_weighted', 'mean_of_sites'],
    inputs: [...sideInputs('facility'), ...sideInputs('it'), 'substituted_ratio', 'anomalies', ...MEAN_OF_SITES],
  },
  green_share_live_ratio: { windows: ['instant'], site_basis: ['power_metered'], cluster_basis: ['power_weighted', 'mean_of_sites'], inputs: ['facility_power_w', 'green_onsite_power_w', 'green_feed_power_w', ...LIVE_INPUTS, ...MEAN_OF_SITES] },
  /** The day counts physical green supply only (energy_physical); month and year add certificates and trades. */
  green_share_ratio: {
    windows: ['1d', '1mo', 'ytd', '1y'],
    site_basis: ['energy_physical', 'energy_and_certificates'],
    cluster_basis: ['energy_weighted', 'mean_of_sites'],
    inputs: [...GREEN_INPUTS, ...MEAN_OF_SITES],
  },
  /** ISO/IEC 30134-3 renewable energy factor: the calendar year's green share under its standard's name. */
  ref_ratio: { windows: ['1y'], site_basis: ['iso_iec_30134_3'], cluster_basis: [], inputs: GREEN_INPUTS },
  rack_occupancy_ratio: {
    windows: ['1d', '1mo'],
    site_basis: ['on_rack_count', 'mean_of_days'],
    cluster_basis: ['pooled', 'mean_of_sites'],
    inputs: ['racks_available', 'racks_on', 'racks_metered', 'racks_reserved', 'racks_planned', 'standard_racks_available', 'standard_racks_on', 'days', 'days_with_value', ...MEAN_OF_SITES],
  },
  it_load_utilisation_ratio: { windows: ['1d', '1mo'], site_basis: ['energy'], cluster_basis: [], inputs: [...sideInputs('it'), 'substituted_ratio', 'rated_kw_available', 'hours'] },
  compute_ai_pflops: { windows: ['instant'], site_basis: ['fp16_dense'], cluster_basis: ['sum:fp16_dense'], inputs: ACCELERATORS },
  compute_general_pflops: { windows: ['instant'], site_basis: ['fp32'], cluster_basis: ['sum:fp32'], inputs: CPUS },
  compute_ai_share_ratio: { windows: ['instant'], site_basis: ['fp16_dense+fp32'], cluster_basis: ['sum:fp16_dense+fp32'], inputs: [...ACCELERATORS, ...CPUS, 'ai_pflops', 'general_pflops'] },
  /** The Green Grid's cooling load factor: ΣE_cooling / ΣE_IT per day and month. */
  cooling_load_factor_ratio: { windows: ['1d', '1mo'], site_basis: ['energy'], cluster_basis: ['energy_weighted'], inputs: [...sideInputs('cooling'), ...sideInputs('it'), 'substituted_ratio', 'anomalies'] },
  accelerator_utilisation_pct: { windows: ['instant'], site_basis: ['mean_of_reporting'], cluster_basis: ['sum:mean_of_reporting'], inputs: ['accelerators', 'accelerators_reporting'] },
} as const satisfies Record<string, KpiSpec>;

export type KpiName = keyof typeof KPI_CATALOGUE;
export const KPI_NAMES = Object.keys(KPI_CATALOGUE) as KpiName[];

/**
 * A KPI figure's identity: the same name, window and basis (and, for PUE, the IT measurement
 * category) is the same series. Every place that dedups, orders or matches figures uses this key.
 */
export function kpiKey(v: { readonly kpi: string; readonly window: string; readonly basis: string; readonly category?: number | undefined }): string {
  return `${v.kpi}|${v.window}|${v.basis}|${v.category ?? ''}`;
}
