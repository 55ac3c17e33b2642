import { siteCalendar } from '../../shared/time/site-calendar.js';

/**
 * Local wall-clock time of a site, which drives the daily load rhythm and the outdoor
 * temperature. Built once per site (Intl formatters are costly to create, cheap to use).
 */
export interface LocalTime {
  /** Hour of the local day, fractional, 0 ≤ h < 24. */
  hour: number;
  /** Day of the local year, 1-based. */
  day_of_year: number;
}

/** Local calendar position of an instant, from the zone's UTC offset. */
export interface ZoneTime extends LocalTime {
  /** Local time minus UTC, in ms (e.g. +8 h for Asia/Shanghai). */
  offset_ms: number;
  /** 0 = Sunday … 6 = Saturday. */
  weekday: number;
  /** Epoch ms of the local midnight that starts this local day. */
  day_start_ms: number;
}

/**
 * The local calendar position of an instant in `timezone`, for stepping a model every simulated
 * second: the zone's offset comes from the site calendar the collector uses (asked of Intl once
 * per UTC quarter hour, or plain arithmetic for a zone without DST), so the simulator's local day
 * is the collector's. Throws RangeError for an unknown zone.
 */
export function zoneTimeIn(timezone: string): (ts_ms: number) => ZoneTime {
  const calendar = siteCalendar(timezone);
  const offsetAt = (ts: number) => calendar.offsetMs(ts);
  const midnightOffsetAt = offsetAt;
  return (ts_ms) => {
    const offset_ms = offsetAt(ts_ms);
    const local = ts_ms + offset_ms;
    const localDay = Math.floor(local / 86_400_000);
    const msOfDay = local - localDay * 86_400_000;
    const year = new Date(localDay * 86_400_000).getUTCFullYear();
    return {
      hour: msOfDay / 3_600_000,
      day_of_year: localDay - Math.floor(Date.UTC(year, 0, 1) / 86_400_000) + 1,
      // 1970-01-01 was a Thursday.
      weekday: (((localDay + 4) % 7) + 7) % 7,
      offset_ms,
      day_start_ms: localDay * 86_400_000 - midnightOffsetAt(localDay * 86_400_000 - offset_ms),
    };
  };
}
