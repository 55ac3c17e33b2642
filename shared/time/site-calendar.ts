/**
 * A site's local calendar (docs/design.md §5: KPI windows align to the site's time zone, default
 * Asia/Shanghai). Built on Intl only: no time-zone library is installed, and Intl carries the
 * IANA database of the Node runtime.
 *
 * Every UTC offset in use today is a whole number of quarter hours (+08:00, +05:45, −03:30 …),
 * so local quarter hours are UTC quarter hours: the energy ledger keeps UTC-aligned 15-minute
 * buckets and this calendar groups them into local hours, days, months and years. A zone whose
 * offset is not a multiple of 15 minutes is refused at construction.
 *
 * DST-free zones (Asia/Shanghai since 1992, Asia/Kolkata, UTC …) are detected once and answered
 * with plain arithmetic from 2000 on; zones with DST ask Intl once per UTC quarter hour (cached). A local day is then 23,
 * 24 or 25 hours long; a day whose midnight falls in a DST gap starts at the first local instant
 * of that date.
 */

export const QUARTER_MS = 900_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export interface Bounds {
  start: number;
  end: number;
}

export interface PeriodBounds extends Bounds {
  /** `YYYY-MM` for a month, `YYYY` for a year. */
  period: string;
}

export interface SiteCalendar {
  readonly timezone: string;
  /** Whether the zone's offset is the same from 2000 on (checked by sampling to 2100): answered without Intl. */
  readonly fixed_offset: boolean;
  /** Local time minus UTC at `ts`, ms. */
  offsetMs(ts: number): number;
  /** Local epoch day of `ts`: days since 1970-01-01 in local time. */
  dayNumber(ts: number): number;
  /** The instant local day `day` starts. */
  dayStart(day: number): number;
  dayOf(ts: number): Bounds;
  hourOf(ts: number): Bounds;
  monthOf(ts: number): PeriodBounds;
  yearOf(ts: number): PeriodBounds;
  /** `YYYY-MM-DD` of the local date of `ts`. */
  localDate(ts: number): string;
  /** Local midnight starting the date (y, m0 0-based, d); out-of-range parts roll over as in Date.UTC. */
  midnightOf(y: number, m0: number, d: number): number;
}

function zoneFormatter(timezone: string): Intl.DateTimeFormat {
  // Throws RangeError for an unknown zone, which the caller turns into a config error.
  return new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
}

function intlOffset(fmt: Intl.DateTimeFormat, at: number): number {
  const p: Record<string, number> = {};
  for (const part of fmt.formatToParts(new Date(at))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const wall = Date.UTC(p.year ?? 1970, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0);
  return wall - Math.floor(at / 1000) * 1000;
}

/** Instants from which the fast path answers; earlier ones always ask Intl (China kept DST 1986–1991). */
const FAST_FROM = Date.UTC(2000, 0, 1);

/** Samples every ~10 days over [from, 2100): enough to see every DST rule change. */
function sampleOffsets(fmt: Intl.DateTimeFormat, from: number): number[] {
  const out: number[] = [];
  for (let t = from; t < Date.UTC(2100, 0, 1); t += 10 * DAY_MS + 7 * HOUR_MS) out.push(intlOffset(fmt, t));
  return out;
}

/**
 * One calendar per zone, shared: building one samples the zone's offsets over two centuries
 * (~60 ms), which a bureau holding hundreds of sites in a few zones should pay once per zone.
 */
const calendars = new Map<string, SiteCalendar>();

/** Throws RangeError for an unknown zone or one whose offsets are not whole quarter hours. */
export function siteCalendar(timezone: string): SiteCalendar {
  let cal = calendars.get(timezone);
  if (!cal) {
    cal = buildSiteCalendar(timezone);
    // Only zones the runtime knows get here (others throw above): a bounded set.
    calendars.set(timezone, cal);
  }
  return cal;
}

function buildSiteCalendar(timezone: string): SiteCalendar {
  const fmt = zoneFormatter(timezone);
  if (sampleOffsets(fmt, 0).some((o) => o % QUARTER_MS !== 0)) throw new RangeError(`time zone ${timezone} has offsets that are not whole quarter hours`);
  const recent = sampleOffsets(fmt, FAST_FROM);
  const fixed = recent.every((o) => o === recent[0]);
  const fixedOffset = recent[0] ?? 0;

  const cache = new Map<number, number>();
  const intlCached = (ts: number): number => {
    const q = Math.floor(ts / QUARTER_MS);
    let o = cache.get(q);
    if (o === undefined) {
      if (cache.size > 100_000) cache.clear();
      o = intlOffset(fmt, q * QUARTER_MS);
      cache.set(q, o);
    }
    return o;
  };
  const offsetMs = fixed ? (ts: number) => (ts >= FAST_FROM ? fixedOffset : intlCached(ts)) : intlCached;

  const dayNumber = (ts: number) => Math.floor((ts + offsetMs(ts)) / DAY_MS);

  const dayStart = (day: number): number => {
    const local = day * DAY_MS;
    let t = local - offsetMs(local - offsetMs(local));
    // Midnight in a DST gap: the day starts at the first quarter hour that belongs to it.
    while (dayNumber(t) < day) t += QUARTER_MS;
    // Midnight repeated by a fall-back: the day starts at its first occurrence.
    while (dayNumber(t - QUARTER_MS) >= day) t -= QUARTER_MS;
    return t;
  };

  const midnightOf = (y: number, m0: number, d: number) => dayStart(Math.floor(Date.UTC(y, m0, d) / DAY_MS));

  const localParts = (ts: number) => {
    const local = new Date(ts + offsetMs(ts));
    return { y: local.getUTCFullYear(), m0: local.getUTCMonth(), d: local.getUTCDate() };
  };

  return {
    timezone,
    fixed_offset: fixed,
    offsetMs,
    dayNumber,
    dayStart,
    dayOf: (ts) => {
      const day = dayNumber(ts);
      return { start: dayStart(day), end: dayStart(day + 1) };
    },
    hourOf: (ts) => {
      const off = offsetMs(ts);
      const start = Math.floor((ts + off) / HOUR_MS) * HOUR_MS - off;
      return { start, end: start + HOUR_MS };
    },
    monthOf: (ts) => {
      const { y, m0 } = localParts(ts);
      return { period: `${y}-${String(m0 + 1).padStart(2, '0')}`, start: midnightOf(y, m0, 1), end: midnightOf(y, m0 + 1, 1) };
    },
    yearOf: (ts) => {
      const { y } = localParts(ts);
      return { period: String(y), start: midnightOf(y, 0, 1), end: midnightOf(y + 1, 0, 1) };
    },
    localDate: (ts) => new Date(ts + offsetMs(ts)).toISOString().slice(0, 10),
    midnightOf,
  };
}
