import { describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS, QUARTER_MS, siteCalendar } from '../../../shared/time/site-calendar.js';
import { settledEdge, windowAt, type EnergyWindowKind } from '../../../collector/kpi/windows.js';

const iso = (t: number) => new Date(t).toISOString();
const sh = siteCalendar('Asia/Shanghai');

describe('siteCalendar', () => {
  it('Asia/Shanghai: a fixed +08:00 from 2000 on, local midnight is 16:00 UTC', () => {
    expect(sh.fixed_offset).toBe(true);
    const t = Date.UTC(2026, 0, 31, 15, 59, 59); // 23:59:59 local on Jan 31
    expect(iso(sh.dayOf(t).start)).toBe('2026-01-30T16:00:00.000Z');
    expect(iso(sh.dayOf(t + 1000).start)).toBe('2026-01-31T16:00:00.000Z'); // 00:00 Feb 1 local
    expect(sh.localDate(t)).toBe('2026-01-31');
    expect(sh.localDate(t + 1000)).toBe('2026-02-01');
    expect(sh.monthOf(t + 1000)).toEqual({ period: '2026-02', start: Date.UTC(2026, 0, 31, 16), end: Date.UTC(2026, 1, 28, 16) });
    expect(sh.yearOf(Date.UTC(2025, 11, 31, 16))).toEqual({ period: '2026', start: Date.UTC(2025, 11, 31, 16), end: Date.UTC(2026, 11, 31, 16) });
  });

  it('Shanghai kept DST in 1986–1991: answered through Intl before 2000', () => {
    // 1988-07-01 was +09:00 (CDT).
    expect(sh.offsetMs(Date.UTC(1988, 6, 1))).toBe(9 * HOUR_MS);
    expect(sh.offsetMs(Date.UTC(2026, 6, 1))).toBe(8 * HOUR_MS);
  });

  it('leap years: February 2028 has 29 local days', () => {
    const m = sh.monthOf(Date.UTC(2028, 1, 10));
    expect((m.end - m.start) / DAY_MS).toBe(29);
  });

  it.each<[string, number, number]>([
    // [zone, instant inside the local day, its length in hours]
    ['Europe/Berlin', Date.UTC(2026, 2, 29, 12), 23], // spring forward
    ['Europe/Berlin', Date.UTC(2026, 9, 25, 12), 25], // fall back
    ['America/Havana', Date.UTC(2026, 2, 8, 12), 23], // DST starts at midnight: the day starts at 01:00
    ['Asia/Kathmandu', Date.UTC(2026, 2, 8, 12), 24], // +05:45 is whole quarter hours
  ])('%s: local day lengths with DST', (zone, t, hours) => {
    const c = siteCalendar(zone);
    expect(c.fixed_offset).toBe(zone === 'Asia/Kathmandu');
    const d = c.dayOf(t);
    expect((d.end - d.start) / HOUR_MS).toBe(hours);
    expect(c.dayNumber(d.start)).toBe(c.dayNumber(t));
    expect(c.dayNumber(d.start - 1)).toBe(c.dayNumber(t) - 1);
    expect(d.start % QUARTER_MS).toBe(0);
  });

  it('refuses unknown zones and zones with offsets off the quarter hour', () => {
    expect(() => siteCalendar('Mars/Olympus')).toThrow(RangeError);
    expect(() => siteCalendar('Africa/Monrovia')).toThrow(/not whole quarter hours/); // −00:44:30 until 1972
  });
});

describe('windows at the settled edge (Asia/Shanghai)', () => {
  const at = (kind: EnergyWindowKind, now: number) => {
    const w = windowAt(sh, kind, settledEdge(now, 60_000));
    return [iso(w.start), iso(w.end), w.period];
  };

  it('the edge waits for late meters: 00:00:59 local still closes only 23:45', () => {
    expect(iso(settledEdge(Date.UTC(2026, 0, 31, 16, 0, 59), 60_000))).toBe('2026-01-31T15:45:00.000Z');
    expect(iso(settledEdge(Date.UTC(2026, 0, 31, 16, 1, 0), 60_000))).toBe('2026-01-31T16:00:00.000Z');
  });

  it('across local midnight into a new month (Feb 1 00:01 local)', () => {
    const now = Date.UTC(2026, 0, 31, 16, 1);
    expect(at('15m', now)).toEqual(['2026-01-31T15:45:00.000Z', '2026-01-31T16:00:00.000Z', undefined]);
    expect(at('1h', now)).toEqual(['2026-01-31T15:00:00.000Z', '2026-01-31T16:00:00.000Z', undefined]);
    expect(at('1d', now)).toEqual(['2026-01-30T16:00:00.000Z', '2026-01-31T16:00:00.000Z', undefined]);
    // The month that just ended, complete: its final value.
    expect(at('1mo', now)).toEqual(['2025-12-31T16:00:00.000Z', '2026-01-31T16:00:00.000Z', '2026-01']);
    expect(at('ytd', now)).toEqual(['2025-12-31T16:00:00.000Z', '2026-01-31T16:00:00.000Z', '2026']);
    expect(at('12mo', now)).toEqual(['2025-01-31T16:00:00.000Z', '2026-01-31T16:00:00.000Z', undefined]);
    expect(at('1y', now)).toEqual(['2024-12-31T16:00:00.000Z', '2025-12-31T16:00:00.000Z', '2025']);
  });

  it('mid-day: complete 15m, hour and day; month and year to date', () => {
    const now = Date.UTC(2026, 1, 10, 2, 20); // 10:20 local on Feb 10
    expect(at('15m', now)).toEqual(['2026-02-10T02:00:00.000Z', '2026-02-10T02:15:00.000Z', undefined]);
    expect(at('1h', now)).toEqual(['2026-02-10T01:00:00.000Z', '2026-02-10T02:00:00.000Z', undefined]);
    expect(at('1d', now)).toEqual(['2026-02-08T16:00:00.000Z', '2026-02-09T16:00:00.000Z', undefined]);
    expect(at('1mo', now)).toEqual(['2026-01-31T16:00:00.000Z', '2026-02-10T02:15:00.000Z', '2026-02']);
    expect(at('ytd', now)).toEqual(['2025-12-31T16:00:00.000Z', '2026-02-10T02:15:00.000Z', '2026']);
    expect(at('12mo', now)).toEqual(['2025-02-09T16:00:00.000Z', '2026-02-09T16:00:00.000Z', undefined]);
  });

  it('the trailing year over a leap day has 366 days', () => {
    const w = windowAt(sh, '12mo', Date.UTC(2028, 2, 1, 16));
    expect((w.end - w.start) / DAY_MS).toBe(366);
  });
});
