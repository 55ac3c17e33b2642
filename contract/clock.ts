/**
 * The Clock port. Everything that needs "now" or a timer takes a Clock, so tests drive time
 * with a ManualClock instead of mocking modules.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Run `fn` once after `ms`. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Resolve after `ms`. */
  sleep(ms: number): Promise<void>;
}

export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
}

interface PendingTimer {
  at: number;
  order: number;
  fn: () => void;
  cancelled: boolean;
}

/** A clock that only moves when a test calls `advance`. Timers fire in due order. */
export class ManualClock implements Clock {
  private current: number;
  private timers: PendingTimer[] = [];
  private order = 0;

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: PendingTimer = { at: this.current + Math.max(0, ms), order: this.order++, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }

  /** Move time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const due = this.timers
        .filter((t) => !t.cancelled && t.at <= target)
        .sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (!due) break;
      this.current = Math.max(this.current, due.at);
      due.cancelled = true;
      due.fn();
    }
    this.timers = this.timers.filter((t) => !t.cancelled);
    this.current = target;
  }

  /** Jump to an absolute time (forward only). */
  set(ms: number): void {
    if (ms > this.current) this.advance(ms - this.current);
  }
}

/**
 * Accelerated time for simulated sites: `speed` simulated milliseconds pass per real one,
 * counted from `origin` (a real instant, which is also the simulated start). Agent, collector and
 * simulator given clocks with the same origin and speed agree on simulated time, so an
 * accelerated simulated day produces readings stamped across a whole day.
 */
export class ScaledClock implements Clock {
  constructor(
    private readonly base: Clock,
    readonly speed: number,
    readonly origin: number = base.now(),
  ) {
    if (!(speed > 0 && Number.isFinite(speed))) throw new RangeError(`speed must be a positive number, got ${speed}`);
  }

  now(): number {
    return Math.floor(this.origin + (this.base.now() - this.origin) * this.speed);
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.base.setTimeout(fn, Math.max(0, ms) / this.speed);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }
}
