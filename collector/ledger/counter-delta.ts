/**
 * Energy between two readings of a cumulative kWh counter (docs/energy-ledger.md):
 *   d = C_k − C_{k−1}
 *   d < 0 and C_{k−1} ≥ 90 % of the counter's modulus → rollover: d = (modulus − C_{k−1}) + C_k
 *   d < 0 otherwise → reset or meter swap: d = C_k, flagged (Home Assistant's `total_increasing`
 *     semantics: a decrease starts a new meter cycle; the energy before the reset is unknown)
 *   d > rated_kw × Δt × 1.2 + resolution → spike: dropped and flagged (the Galooli rule, scaled
 *     to the meter). Δt runs from when the counter last moved: a register that counts in 0.1 kWh
 *     steps moves once in many polls, and each move brings a whole step of energy used since the
 *     previous one. The resolution term lets the first step after a new baseline (start, reset,
 *     spike) through however short Δt is: the baseline may have sat just below a step.
 * The modulus is the value the counter wraps to 0 at (1,000,000 for a six-digit register), so
 * 999,990 → 5 is 15 kWh.
 *
 * A decrease within float32 resolution of the counter (a float meter re-rounding its register) is
 * not a reset: the counter did not move.
 */

export type CounterFlag = 'ok' | 'rollover' | 'reset' | 'spike';

export interface CounterStep {
  prev_kwh: number;
  /** When the counter took the value `prev_kwh`: the poll at which it last moved. */
  prev_ts_ms: number;
  cur_kwh: number;
  cur_ts_ms: number;
  /** Wrap-around value of the counter; undefined when it never wraps (float registers). */
  modulus_kwh?: number | undefined;
  /** The meter's rated power; without it no spike test is possible. */
  rated_kw?: number | undefined;
  /** One register step, kWh (see counter-range.ts); 0 when unknown. */
  resolution_kwh?: number | undefined;
}

export interface CounterDelta {
  /** Energy of the step; undefined when the step was dropped as a spike. */
  delta_kwh: number | undefined;
  flag: CounterFlag;
}

/** Share of the modulus above which a decrease counts as a rollover. */
export const ROLLOVER_NEAR_MAX = 0.9;
/** Headroom over rated power before a step is a spike. */
export const SPIKE_FACTOR = 1.2;
/** Relative decrease treated as register noise (float32 has a 2^-23 ≈ 1.2e-7 mantissa step). */
const JITTER_RATIO = 1e-6;

export function counterDelta(s: CounterStep): CounterDelta {
  let d = s.cur_kwh - s.prev_kwh;
  let flag: CounterFlag = 'ok';
  const max = s.rated_kw !== undefined ? s.rated_kw * (Math.max(0, s.cur_ts_ms - s.prev_ts_ms) / 3_600_000) * SPIKE_FACTOR + (s.resolution_kwh ?? 0) : Number.POSITIVE_INFINITY;
  if (d < 0) {
    if (-d <= JITTER_RATIO * Math.abs(s.prev_kwh)) {
      d = 0;
    } else if (
      s.modulus_kwh !== undefined &&
      s.prev_kwh >= ROLLOVER_NEAR_MAX * s.modulus_kwh &&
      s.prev_kwh <= s.modulus_kwh &&
      s.cur_kwh < s.modulus_kwh &&
      // A meter swapped while its old register stood near the top is a reset, not a wrap the
      // meter's rated power could not have driven.
      !(s.modulus_kwh - s.prev_kwh + s.cur_kwh > max && s.cur_kwh <= max)
    ) {
      d = s.modulus_kwh - s.prev_kwh + s.cur_kwh;
      flag = 'rollover';
    } else {
      d = s.cur_kwh;
      flag = 'reset';
    }
  }
  if (d > max) return { delta_kwh: undefined, flag: 'spike' };
  return { delta_kwh: d, flag };
}
