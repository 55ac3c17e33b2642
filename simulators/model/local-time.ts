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
