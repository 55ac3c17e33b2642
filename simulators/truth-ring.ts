/**
 * The recent history of what the simulator served: each entry is a model state and the real
 * time it started being served. Tests and the demo ask "what was true when I read?" and get the
 * state that was on the wire at that instant. Pure data structure; time comes from the caller.
 */
export interface TruthEntry<S> {
  ts: number;
  state: S;
}

export class TruthRing<S> {
  private entries: TruthEntry<S>[] = [];
  private head = 0;

  constructor(private readonly window_ms: number) {}

  /** Record a state served from `ts` on; entries older than the window behind it are dropped. */
  push(ts: number, state: S): void {
    const last = this.entries[this.entries.length - 1];
    if (last && ts < last.ts) throw new RangeError(`truth ring: ts ${ts} is before the last entry ${last.ts}`);
    this.entries.push({ ts, state });
    // Keep the newest entry older than the window start: it was still served at the window start.
    while (this.head + 1 < this.entries.length && (this.entries[this.head + 1]?.ts ?? Infinity) <= ts - this.window_ms) this.head++;
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  /** The entry served at `ts` (the newest with entry.ts ≤ ts), or undefined if older than the ring. */
  at(ts: number): TruthEntry<S> | undefined {
    let lo = this.head;
    let hi = this.entries.length - 1;
    let found: TruthEntry<S> | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const e = this.entries[mid]!;
      if (e.ts <= ts) {
        found = e;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  latest(): TruthEntry<S> | undefined {
    return this.entries.length > this.head ? this.entries[this.entries.length - 1] : undefined;
  }

  oldest(): TruthEntry<S> | undefined {
    return this.entries[this.head];
  }

  size(): number {
    return this.entries.length - this.head;
  }
}
