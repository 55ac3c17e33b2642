/**
 * A sliding-window rate limit on the caller's clock: at most `limit` sends in any `window_ms`
 * (WeCom and DingTalk group robots: 20 messages a minute each). It keeps only the last `limit`
 * send times, so its memory is bounded whatever the load.
 */
export class RateWindow {
  private readonly sent: number[] = [];
  private blockedUntil = Number.NEGATIVE_INFINITY;

  constructor(
    readonly limit: number,
    readonly window_ms: number,
  ) {
    if (!(Number.isInteger(limit) && limit > 0)) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  }

  private prune(now: number): void {
    while (this.sent.length > 0 && (this.sent[0] as number) <= now - this.window_ms) this.sent.shift();
  }

  /** Sends allowed now. */
  available(now: number): number {
    if (now < this.blockedUntil) return 0;
    this.prune(now);
    return this.limit - this.sent.length;
  }

  /** Book one send at `now` (the caller checked `available`). */
  take(now: number): void {
    this.prune(now);
    this.sent.push(now);
    if (this.sent.length > this.limit) this.sent.shift();
  }

  /** How long until a send is allowed again (0: now). */
  waitMs(now: number): number {
    if (now < this.blockedUntil) return this.blockedUntil - now;
    this.prune(now);
    return this.sent.length < this.limit ? 0 : (this.sent[0] as number) + this.window_ms - now;
  }

  /** The destination said "too fast" (another sender shares the robot): send nothing until `until`. */
  block(until: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, until);
  }
}
