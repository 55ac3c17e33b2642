import { fail, ok, type Result } from '../../shared/result.js';
import type { SiteCalendar } from '../../shared/time/site-calendar.js';

/**
 * A time given on the command line (`--from`, `--to`):
 * - `2026-03-01`: local midnight at the site (its time zone), since KPI windows are local days;
 * - `2026-03-01T08:00:00+08:00`, `2026-03-01T00:00Z`: an instant with its offset;
 * - `1772323200000`: ms since the epoch.
 * A date-time without an offset is refused: it would mean a different instant on every machine.
 */
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

export function parseTimeArg(text: string, calendar: SiteCalendar): Result<number, string> {
  const t = text.trim();
  if (/^\d{10,16}$/.test(t)) return ok(Number(t));
  const d = DATE.exec(t);
  if (d) {
    const [y, m, day] = [Number(d[1]), Number(d[2]), Number(d[3])];
    if (m < 1 || m > 12 || day < 1 || day > 31 || new Date(Date.UTC(y, m - 1, day)).getUTCDate() !== day) return fail(`${JSON.stringify(text)} is not a calendar date`);
    return ok(calendar.midnightOf(y, m - 1, day));
  }
  if (DATE_TIME.test(t)) {
    const ms = Date.parse(t);
    if (Number.isFinite(ms)) return ok(ms);
  }
  return fail(`${JSON.stringify(text)}: expected a date (2026-03-01, local midnight at the site), a date-time with offset (2026-03-01T08:00+08:00) or epoch ms`);
}
