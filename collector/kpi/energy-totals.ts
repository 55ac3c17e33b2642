import type { BucketSum } from '../ledger/energy-buckets.js';
import { MAX_SUBSTITUTED_SHARE, uncoveredShare } from './quality.js';
import { FACILITY_TERMS, METER_GROUPS, type MeterGroup } from './site-model.js';

/**
 * A site's energy over one window, from its meter groups' bucket sums, kept in two named parts:
 * what the meters' readings measured, and what was substituted for meter-time no reading covered.
 *
 * Coverage of a group = covered meter-time / (meters declared × window length). Time no reading
 * covered (before a meter's first reading, after a silent meter's last, a gap, a dropped spike) is
 * missing. It may be substituted only while the group's uncovered share stays within the quality
 * ladder's `estimated` bound (20 %): a silent meter's tail at its last known rate, any other
 * missing meter-time at the group's measured mean. Beyond that bound nothing is substituted — the
 * group's energy is its measured part alone, flagged as not a window total, and every KPI using it
 * is insufficient. So a window is never scaled up from a few minutes of data.
 */

export interface GroupSum extends BucketSum {
  /** Meters the inventory declares in the group (the coverage denominator). */
  meters: number;
  /**
   * Meter-time after a silent meter's newest reading up to the window end, and that time at the
   * meter's last rate: the first candidate for substitution, never counted as covered.
   */
  silent_tail_ms?: number;
  silent_tail_kwh?: number;
}

export type GroupSums = Record<MeterGroup, GroupSum>;

/** One side of a KPI (facility, IT, on-site green, green feeds): one or more meter groups. */
export interface SideEnergy {
  /** Energy the readings account for, kWh (each group signed as in the formula). */
  measured_kwh: number;
  /** Energy substituted for uncovered meter-time, kWh; 0 when the side is not within bounds. */
  substituted_kwh: number;
  /** Measured share of the meter-time of the side's worst group (1 when the side has no meters). */
  coverage: number;
  /** Share of the meter-time of the side's worst group that was substituted (0 when nothing was). */
  substituted_ratio: number;
  /**
   * Every group's uncovered share is within the substitution bound: measured + substituted is the
   * window's energy. When false the side carries its measured part only, which is not a window total.
   */
  within_bounds: boolean;
}

export interface EnergyTotals {
  facility: SideEnergy;
  it: SideEnergy;
  green_onsite: SideEnergy;
  green_feed: SideEnergy;
  /** Resets and spikes booked in the window on the meters above. */
  anomalies: number;
  /** Groups that are declared but have no data in the window. */
  missing: MeterGroup[];
}

/** The side's energy for the window (measured + substituted), or undefined when it is not within bounds. */
export function sideKwh(s: SideEnergy): number | undefined {
  return s.within_bounds ? s.measured_kwh + s.substituted_kwh : undefined;
}

export function emptyGroupSums(meters: Record<MeterGroup, number>): GroupSums {
  return Object.fromEntries(METER_GROUPS.map((g) => [g, { kwh: 0, covered_ms: 0, resets: 0, spikes: 0, meters: meters[g] }])) as GroupSums;
}

const NO_METERS: SideEnergy = { measured_kwh: 0, substituted_kwh: 0, coverage: 1, substituted_ratio: 0, within_bounds: true };

export function groupEnergy(g: GroupSum, window_ms: number): SideEnergy {
  if (g.meters === 0 || !(window_ms > 0)) return NO_METERS;
  const expected_ms = g.meters * window_ms;
  const covered_ms = Math.min(expected_ms, Math.max(0, g.covered_ms));
  const coverage = covered_ms / expected_ms;
  const uncovered = uncoveredShare(coverage);
  if (uncovered > MAX_SUBSTITUTED_SHARE || !(covered_ms > 0)) return { measured_kwh: g.kwh, substituted_kwh: 0, coverage, substituted_ratio: 0, within_bounds: false };
  if (uncovered === 0) return { measured_kwh: g.kwh, substituted_kwh: 0, coverage, substituted_ratio: 0, within_bounds: true };
  const missing_ms = expected_ms - covered_ms;
  // Silent tails first, at each meter's own last rate; they cannot exceed the missing time.
  const tail_ms = Math.min(missing_ms, Math.max(0, g.silent_tail_ms ?? 0));
  const tail_kwh = tail_ms > 0 ? ((g.silent_tail_kwh ?? 0) * tail_ms) / g.silent_tail_ms! : 0;
  const mean_kwh_per_ms = g.kwh / covered_ms;
  return { measured_kwh: g.kwh, substituted_kwh: tail_kwh + mean_kwh_per_ms * (missing_ms - tail_ms), coverage, substituted_ratio: uncovered, within_bounds: true };
}

/** Groups pooled into a side: energies add with their signs, coverage and substitution are the worst group's. */
function side(parts: readonly { e: SideEnergy; sign: 1 | -1 }[]): SideEnergy {
  const out = { ...NO_METERS };
  for (const { e, sign } of parts) {
    out.measured_kwh += sign * e.measured_kwh;
    out.substituted_kwh += sign * e.substituted_kwh;
    out.coverage = Math.min(out.coverage, e.coverage);
    out.substituted_ratio = Math.max(out.substituted_ratio, e.substituted_ratio);
    out.within_bounds &&= e.within_bounds;
  }
  if (!out.within_bounds) {
    // One group over the bound: the side is measured only, so nothing substituted is carried.
    out.substituted_kwh = 0;
    out.substituted_ratio = 0;
  }
  return out;
}

export function energyTotals(sums: GroupSums, window_ms: number): EnergyTotals {
  const g = (name: MeterGroup) => groupEnergy(sums[name], window_ms);
  const missing = METER_GROUPS.filter((name) => name !== 'cooling' && name !== 'other' && sums[name].meters > 0 && !(sums[name].covered_ms > 0));
  const used = [...FACILITY_TERMS.map((t) => sums[t.group]), sums.it, sums.green_onsite_front];
  return {
    facility: side(FACILITY_TERMS.map((t) => ({ e: g(t.group), sign: t.sign }))),
    it: side([{ e: g('it'), sign: 1 }]),
    green_onsite: side([
      { e: g('green_onsite_behind'), sign: 1 },
      { e: g('green_onsite_front'), sign: 1 },
    ]),
    green_feed: side([{ e: g('green_feed'), sign: 1 }]),
    anomalies: used.reduce((s, x) => s + Math.max(0, x.resets) + Math.max(0, x.spikes), 0),
    missing,
  };
}

/**
 * Several sites' totals as one (a cluster): energies add; coverage is the worst site's, so a
 * cluster figure is never graded better than its weakest input, and one site beyond the
 * substitution bound leaves the cluster's side measured only.
 */
export function combineTotals(all: readonly EnergyTotals[]): EnergyTotals {
  const pick = (k: 'facility' | 'it' | 'green_onsite' | 'green_feed') => side(all.map((t) => ({ e: t[k], sign: 1 as const })));
  return {
    facility: pick('facility'),
    it: pick('it'),
    green_onsite: pick('green_onsite'),
    green_feed: pick('green_feed'),
    anomalies: all.reduce((a, t) => a + t.anomalies, 0),
    missing: [...new Set(all.flatMap((t) => t.missing))],
  };
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * A side's published inputs: `<name>_measured_kwh` and `<name>_substituted_kwh` always, and
 * `<name>_kwh` (their sum, the energy the KPI used) only when the side is within the substitution
 * bound — a measured part alone is never published under a name that reads as the window's energy.
 */
export function sideInputs(name: string, s: SideEnergy): Record<string, number> {
  const kwh = sideKwh(s);
  return {
    [`${name}_measured_kwh`]: round(s.measured_kwh, 3),
    [`${name}_substituted_kwh`]: round(s.substituted_kwh, 3),
    ...(kwh !== undefined ? { [`${name}_kwh`]: round(kwh, 3) } : {}),
    [`${name}_coverage`]: round(s.coverage, 6),
  };
}
