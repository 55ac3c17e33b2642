/**
 * Bad input can arrive thousands of times a second (a misconfigured agent, a hostile client);
 * every occurrence is counted, but each kind is logged at most once per period, with how many
 * were suppressed since the last line. Callers key by the kind of problem (an error code, a
 * route), never by ids a sender chooses; should keys still run past `max_keys`, the newcomers
 * share one overflow key instead of pushing out the others, so a flood yields one line per period.
 */
export const OVERFLOW_KEY = '(other)';

export class LogThrottle {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  private suppressedTotal = 0;

  constructor(
    private readonly now: () => number,
    private readonly period_ms = 10_000,
    private readonly max_keys = 1000,
  ) {}

  /** Undefined when this key was logged recently; otherwise how many lines were skipped. */
  allow(key: string): { suppressed: number } | undefined {
    const t = this.now();
    if (!this.last.has(key) && this.last.size >= this.max_keys) key = OVERFLOW_KEY;
    const entry = this.last.get(key);
    if (entry && t - entry.at < this.period_ms) {
      entry.suppressed++;
      this.suppressedTotal++;
      return undefined;
    }
    // The overflow key may exceed max_keys by one: it is what keeps the map bounded.
    this.last.set(key, { at: t, suppressed: 0 });
    return { suppressed: entry?.suppressed ?? 0 };
  }

  /** Lines held back since start. */
  get suppressed(): number {
    return this.suppressedTotal;
  }

  get size(): number {
    return this.last.size;
  }
}
