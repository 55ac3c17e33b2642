import type { BucketSum } from '../ledger/energy-buckets.js';
import { FACILITY_TERMS, METER_GROUPS, type MeterGroup } from './site-model.js';

/**
 * A site's energy over one window, from its meter groups' bucket sums (DESIGN.md §4–5).
 *
 * Coverage of a group = covered meter-time / (meters declared × window length). Where a group's
 * data is incomplete its energy is estimated (kpi-standards §6.2 substitution): a meter that went
 * silent is assumed to keep its last known rate until the window ends; any other missing
 * meter-time runs at the group's measured mean (E / share known). The uncovered share is the
 * "substituted" share the quality ladder grades. A declared group with no data at all cannot be
 * estimated and leaves the window without a value.
 */

export interface GroupSum extends BucketSum {
  /** Meters the inventory declares in the group (the coverage denominator). */
  meters: number;
  /**
   * Meter-time after a meter's newest reading (a silent meter) filled with its last known rate,
   * and that energy: used for the estimate, never for coverage (it is substituted, not measured).
   */
  substituted_ms?: number;
  substituted_kwh?: number;
}

export type GroupSums = Record<MeterGroup, GroupSum>;

export interface EnergyTotals {
  facility_kwh: number;
  it_kwh: number;
  green_onsite_kwh: number;
  green_feed_kwh: number;
  /** Covered share of the facility-side meters (incomers, green feeds, export, behind-meter PV). */
  facility_coverage: number;
  it_coverage: number;
  /** Covered share of the green meters (on-site generation and green feeds); 1 when there are none. */
  green_coverage: number;
  /** Resets and spikes booked in the window on the meters above. */
  anomalies: number;
  /** Groups that are declared but have no data in the window. */
  missing: MeterGroup[];
}

export function emptyGroupSums(meters: Record<MeterGroup, number>): GroupSums {
  return Object.fromEntries(METER_GROUPS.map((g) => [g, { kwh: 0, covered_ms: 0, resets: 0, spikes: 0, meters: meters[g] }])) as GroupSums;
}

function estimate(g: GroupSum, window_ms: number): number | undefined {
  if (g.meters === 0) return 0;
  const known_ms = g.covered_ms + (g.substituted_ms ?? 0);
  if (!(known_ms > 0)) return undefined;
  const share = Math.min(1, known_ms / (g.meters * window_ms));
  return (g.kwh + (g.substituted_kwh ?? 0)) / share;
}

function pooledCoverage(groups: readonly GroupSum[], window_ms: number): number {
  const expected = groups.reduce((s, g) => s + g.meters * window_ms, 0);
  if (expected === 0) return 1;
  return Math.min(1, groups.reduce((s, g) => s + Math.max(0, g.covered_ms), 0) / expected);
}

export function energyTotals(sums: GroupSums, window_ms: number): EnergyTotals {
  const missing: MeterGroup[] = [];
  const est = (g: MeterGroup) => {
    const e = estimate(sums[g], window_ms);
    if (e === undefined) {
      missing.push(g);
      return 0;
    }
    return e;
  };
  let facility = 0;
  for (const t of FACILITY_TERMS) facility += t.sign * est(t.group);
  const it = est('it');
  const onsite = est('green_onsite_behind') + est('green_onsite_front');
  const feed = sums.green_feed.meters > 0 ? estimate(sums.green_feed, window_ms) ?? 0 : 0;
  const facGroups = FACILITY_TERMS.map((t) => sums[t.group]);
  const greenGroups = [sums.green_onsite_behind, sums.green_onsite_front, sums.green_feed];
  const used = [...facGroups, sums.it, sums.green_onsite_front];
  return {
    facility_kwh: facility,
    it_kwh: it,
    green_onsite_kwh: onsite,
    green_feed_kwh: feed,
    facility_coverage: pooledCoverage(facGroups, window_ms),
    it_coverage: pooledCoverage([sums.it], window_ms),
    green_coverage: pooledCoverage(greenGroups, window_ms),
    anomalies: used.reduce((s, g) => s + Math.max(0, g.resets) + Math.max(0, g.spikes), 0),
    missing: [...new Set(missing)],
  };
}

/**
 * Several sites' totals as one (a cluster): energies add; each coverage is the worst site's, so a
 * cluster figure is never graded better than its weakest input.
 */
export function combineTotals(all: readonly EnergyTotals[]): EnergyTotals {
  const sum = (f: (t: EnergyTotals) => number) => all.reduce((a, t) => a + f(t), 0);
  const min = (f: (t: EnergyTotals) => number) => (all.length > 0 ? Math.min(...all.map(f)) : 0);
  return {
    facility_kwh: sum((t) => t.facility_kwh),
    it_kwh: sum((t) => t.it_kwh),
    green_onsite_kwh: sum((t) => t.green_onsite_kwh),
    green_feed_kwh: sum((t) => t.green_feed_kwh),
    facility_coverage: min((t) => t.facility_coverage),
    it_coverage: min((t) => t.it_coverage),
    green_coverage: min((t) => t.green_coverage),
    anomalies: sum((t) => t.anomalies),
    missing: [...new Set(all.flatMap((t) => t.missing))],
  };
}
