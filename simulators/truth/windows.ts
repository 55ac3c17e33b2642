import type { ZoneTime } from '../model/local-time.js';

/**
 * KPI windows aligned to a site's local time (docs/design.md §5): 15 min, hour, day, month, year.
 * Every UTC offset in use is a multiple of 15 minutes, so local quarter hours are UTC quarter
 * hours; hours, days, months and years need the zone. Pure functions of `ts` and the zone.
 */

export const QUARTER_MS = 900_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export type ZoneFn = (ts_ms: number) => ZoneTime;

export interface WindowBounds {
  start: number;
  end: number;
}

export function quarterOf(ts: number): WindowBounds {
  const start = Math.floor(ts / QUARTER_MS) * QUARTER_MS;
  return { start, end: start + QUARTER_MS };
}

export function hourOf(zone: ZoneFn, ts: number): WindowBounds {
  const off = zone(ts).offset_ms;
  const start = Math.floor((ts + off) / HOUR_MS) * HOUR_MS - off;
  return { start, end: start + HOUR_MS };
}

export function dayOf(zone: ZoneFn, ts: number): WindowBounds {
  const start = zone(ts).day_start_ms;
  // 26 h after a midnight is always inside the next local day, whatever DST does.
  return { start, end: zone(start + 26 * HOUR_MS).day_start_ms };
}

/** Local calendar date `YYYY-MM-DD` of an instant. */
export function localDate(zone: ZoneFn, ts: number): string {
  return new Date(ts + zone(ts).offset_ms).toISOString().slice(0, 10);
}

/** Local month `YYYY-MM` (the period of a green certificate) and its bounds. */
export function monthOf(zone: ZoneFn, ts: number): WindowBounds & { period: string } {
  const local = new Date(ts + zone(ts).offset_ms);
  const y = local.getUTCFullYear();
  const m = local.getUTCMonth();
  return { period: `${y}-${String(m + 1).padStart(2, '0')}`, start: localMidnight(zone, Date.UTC(y, m, 1)), end: localMidnight(zone, Date.UTC(y, m + 1, 1)) };
}

export function yearOf(zone: ZoneFn, ts: number): WindowBounds & { period: string } {
  const y = new Date(ts + zone(ts).offset_ms).getUTCFullYear();
  return { period: String(y), start: localMidnight(zone, Date.UTC(y, 0, 1)), end: localMidnight(zone, Date.UTC(y + 1, 0, 1)) };
}

/** The instant of local midnight of the local date whose UTC-midnight is `utcMidnight`. */
function localMidnight(zone: ZoneFn, utcMidnight: number): number {
  // Noon of that local date is inside it for any offset within ±12 h.
  const guess = utcMidnight + 12 * HOUR_MS - zone(utcMidnight).offset_ms;
  return zone(guess).day_start_ms;
}

export { DAY_MS, HOUR_MS };
