/**
 * Bad input can arrive thousands of times a second (a misconfigured agent, a hostile client);
 * every occurrence is counted, but each kind is logged at most once per period, with how many
 * were suppressed since the last line.
 */
export class LogThrottle {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly now: () => number,
    private readonly period_ms = 10_000,
    private readonly max_keys = 1000,
  ) {}

  /** Undefined when this key was logged recently; otherwise how many lines were skipped. */
  allow(key: string): { suppressed: number } | undefined {
    const t = this.now();
    const entry = this.last.get(key);
    if (entry && t - entry.at < this.period_ms) {
      entry.suppressed++;
      return undefined;
    }
    if (!entry && this.last.size >= this.max_keys) this.last.clear();
    this.last.set(key, { at: t, suppressed: 0 });
    return { suppressed: entry?.suppressed ?? 0 };
  }
}
