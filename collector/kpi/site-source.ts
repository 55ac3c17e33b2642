import type { DeclaredGreenItems } from '../../contract/summary.js';
import type { Targets } from '../../contract/inventory.js';
import type { KpiValue } from '../../contract/messages.js';
import type { ComputeFigures } from './compute-scale.js';
import { energyTotals, type EnergyTotals, type GroupSums } from './energy-totals.js';
import type { OccupancyDay } from './occupancy.js';
import type { SiteCalendar } from '../../shared/time/site-calendar.js';
import { lastDayEnd, type WindowBounds } from './windows.js';

/**
 * What a site can tell about itself, the input of every KPI: the energy sums of its meter groups
 * over any window, its occupancy days, the green electricity it declares, its installed compute
 * and (when it has live power) its live figures. The site collector's engine is one source (its
 * ledgers and buckets), the bureau's store of site summaries is another: both evaluate through the
 * same KPI modules, so a bureau's roll-up of summaries is the roll-up one collector computes from
 * all the raw telemetry.
 */
export interface SiteSource {
  readonly site: string;
  readonly calendar: SiteCalendar;
  readonly category: 1 | 2 | 3 | undefined;
  readonly targets: Targets;
  /** Rated power of the available racks, kW. */
  readonly rated_kw_available: number;
  /** The meter groups' sums over [start, end) (quarter-aligned), silent tails included. */
  groupSums(w: Pick<WindowBounds, 'start' | 'end'>): GroupSums;
  /** Green electricity declared for a calendar period (`YYYY-MM` or `YYYY`), item by item. */
  declared(period: string): DeclaredGreenItems;
  /** Occupancy of local day number `day`. */
  occupancyDay(day: number): OccupancyDay;
  /** Installed compute at `now`; undefined when the source has none to tell. */
  compute(now_ms: number): ComputeFigures | undefined;
  /** Live PUE and live green share; undefined for a source without live power (a bureau). */
  live(now_ms: number): [KpiValue, KpiValue] | undefined;
  /**
   * The earliest quarter-hour start written since the last call (Infinity when nothing was):
   * windows ending at or before it cannot have changed. Absent: any window may have changed.
   */
  takeChangedFrom?(): number;
}

export function totalsOf(src: SiteSource, w: Pick<WindowBounds, 'start' | 'end'>): EnergyTotals {
  return energyTotals(src.groupSums(w), w.end - w.start);
}

/** The last complete local day and the month (to that day) holding it. */
export function occupancyWindows(cal: SiteCalendar, edge: number): { day: WindowBounds; month: WindowBounds } {
  const end = lastDayEnd(cal, edge);
  const month = cal.monthOf(end - 1);
  return { day: { window: '1d', start: cal.dayOf(end - 1).start, end }, month: { window: '1mo', start: month.start, end, period: month.period } };
}
