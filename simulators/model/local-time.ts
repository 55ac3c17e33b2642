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

export type LocalTimeFn = (ts_ms: number) => LocalTime;

/** Throws RangeError for an unknown IANA time zone, so a bad seed fails at start. */
export function localTimeIn(timezone: string): LocalTimeFn {
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  return (ts_ms) => {
    const parts: Record<string, number> = {};
    for (const p of fmt.formatToParts(new Date(ts_ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
    const year = parts.year ?? 1970;
    const startOfYear = Date.UTC(year, 0, 1);
    const today = Date.UTC(year, (parts.month ?? 1) - 1, parts.day ?? 1);
    const ms = ts_ms % 1000 < 0 ? ts_ms % 1000 + 1000 : ts_ms % 1000;
    return {
      hour: (parts.hour ?? 0) + (parts.minute ?? 0) / 60 + ((parts.second ?? 0) + ms / 1000) / 3600,
      day_of_year: Math.round((today - startOfYear) / 86_400_000) + 1,
    };
  };
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

const QUARTER_HOUR_MS = 900_000;

/**
 * Like `localTimeIn`, but asks Intl for the zone's offset only once per UTC quarter hour (every
 * zone offset in use is a multiple of 15 min and changes on such a boundary), so stepping a
 * model every simulated second costs a few arithmetic operations. Throws RangeError for an
 * unknown zone.
 */
export function zoneTimeIn(timezone: string): (ts_ms: number) => ZoneTime {
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  // Two single-entry caches: the instant asked for, and the local midnight before it.
  const offsetCache = () => {
    let cachedBucket = Number.NaN;
    let cachedOffset = 0;
    return (ts_ms: number): number => {
      const bucket = Math.floor(ts_ms / QUARTER_HOUR_MS);
      if (bucket !== cachedBucket) {
        const at = bucket * QUARTER_HOUR_MS;
        const p: Record<string, number> = {};
        for (const part of fmt.formatToParts(new Date(at))) if (part.type !== 'literal') p[part.type] = Number(part.value);
        cachedOffset = Date.UTC(p.year ?? 1970, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0) - at;
        cachedBucket = bucket;
      }
      return cachedOffset;
    };
  };
  const offsetAt = offsetCache();
  const midnightOffsetAt = offsetCache();
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
