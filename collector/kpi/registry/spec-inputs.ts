/**
 * Stored-input names several KPI modules share, so modules that evaluate from the same sums
 * declare the same field names (a field keeps its name and type forever in the store).
 */

/** A cluster's mean of sites: how many sites it has and how many had a value. */
export const MEAN_OF_SITES = ['sites', 'sites_with_value'] as const;
export const LIVE_INPUTS = ['input_spread_ms', 'stale_meter_count', 'carried_ratio'] as const;
/**
 * A side's energy inputs (KPI_INPUTS_VERSION 2): measured and substituted named apart; `_kwh`, their
 * sum, only while the substitution stayed within the `estimated` bound.
 */
export const sideInputNames = <S extends string>(side: S) => [`${side}_measured_kwh`, `${side}_substituted_kwh`, `${side}_kwh`, `${side}_coverage`] as const;
export const GREEN_INPUTS = [...sideInputNames('facility'), ...sideInputNames('green_onsite'), ...sideInputNames('green_feed'), 'certificate_kwh', 'trade_kwh', 'substituted_ratio'] as const;
export const ACCELERATORS = ['accelerators', 'accelerators_unknown'] as const;
export const CPUS = ['cpus', 'cpus_unknown'] as const;
