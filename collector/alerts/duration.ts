import { z } from 'zod';

/**
 * Durations in rule files: `30s`, `5m`, `1h`, `1d` (Prometheus style, one unit) or a number of
 * seconds. Parsed once into milliseconds, so the evaluator never sees text.
 */
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** A week: longer holds and windows are configuration mistakes, not alerting. */
export const MAX_DURATION_MS = 7 * 86_400_000;

export const DurationSchema = z
  .union([z.number().min(0), z.string().regex(DURATION_PATTERN, 'expected a duration such as 30s, 5m, 1h or a number of seconds')])
  .transform((v) => {
    if (typeof v === 'number') return Math.round(v * 1000);
    const m = DURATION_PATTERN.exec(v) as RegExpExecArray;
    return Math.round(Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]);
  })
  .refine((ms) => ms <= MAX_DURATION_MS, { message: 'at most 7 days' });

/** Labels of days, hours, minutes and seconds for `spellDuration`. */
export type DurationUnits = readonly [day: string, hour: string, minute: string, second: string];

/** Whole seconds spelled in the largest units first, zero parts left out: `1h5m`, `1小时5分`. */
export function spellDuration(ms: number, units: DurationUnits): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  let s = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [
    [units[0], 86_400],
    [units[1], 3600],
    [units[2], 60],
  ] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  if (s > 0 || parts.length === 0) parts.push(`${s}${units[3]}`);
  return parts.join('');
}

/** `300000` → `5m`, `90000` → `1m30s`: for summaries and logs. */
export function formatDuration(ms: number): string {
  if (Number.isFinite(ms) && ms >= 0 && ms < 1000) return `${Math.round(ms)}ms`;
  return spellDuration(ms, ['d', 'h', 'm', 's']);
}
