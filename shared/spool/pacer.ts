/**
 * A token bucket: at most `ratePerS` takes per second on average, `burst` at once. Pure apart
 * from its own state; time comes in as an argument.
 *
 * The replay of a backlog is paced with it, so a site coming back from an hour-long outage
 * does not hit the broker and the collector with everything at once.
 */
export class Pacer {
  private tokens: number;
  private last: number | undefined;

  constructor(
    private readonly ratePerS: number,
    private readonly burst: number = Math.max(1, Math.ceil(ratePerS / 10)),
  ) {
    if (!(ratePerS > 0) || !Number.isFinite(ratePerS)) throw new RangeError(`rate must be a positive number, got ${ratePerS}`);
    this.tokens = this.burst;
  }

  /** Take one token if there is one. */
  tryTake(nowMs: number): boolean {
    this.refill(nowMs);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until a token is available (0 when one is). */
  waitMs(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 1000) / this.ratePerS);
  }

  private refill(nowMs: number): void {
    if (this.last !== undefined && nowMs > this.last) this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.last) * this.ratePerS) / 1000);
    if (this.last === undefined || nowMs > this.last) this.last = nowMs;
  }
}
