import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../contract/index.js';

describe('ManualClock', () => {
  it('fires timers in due order only when advanced', () => {
    const c = new ManualClock(1000);
    const fired: string[] = [];
    c.setTimeout(() => fired.push('b'), 20);
    c.setTimeout(() => fired.push('a'), 10);
    const h = c.setTimeout(() => fired.push('cancelled'), 15);
    h.cancel();
    c.advance(9);
    expect(fired).toEqual([]);
    c.advance(11);
    expect(fired).toEqual(['a', 'b']);
    expect(c.now()).toBe(1020);
  });

  it('runs timers scheduled by timers within the same advance, at their own time', () => {
    const c = new ManualClock(0);
    const at: number[] = [];
    c.setTimeout(() => {
      at.push(c.now());
      c.setTimeout(() => at.push(c.now()), 5);
    }, 5);
    c.advance(100);
    expect(at).toEqual([5, 10]);
  });

  it('resolves sleep', async () => {
    const c = new ManualClock(0);
    let done = false;
    const p = c.sleep(50).then(() => (done = true));
    c.advance(49);
    await Promise.resolve();
    expect(done).toBe(false);
    c.advance(1);
    await p;
    expect(done).toBe(true);
  });
});

describe('ScaledClock', () => {
  it('runs simulated time at `speed` from its origin, timers included', async () => {
    const { ScaledClock } = await import('../../contract/index.js');
    const base = new ManualClock(1_000_000);
    const c = new ScaledClock(base, 60);
    expect(c.now()).toBe(1_000_000);
    base.advance(1000);
    expect(c.now()).toBe(1_000_000 + 60_000);
    const fired: number[] = [];
    c.setTimeout(() => fired.push(c.now()), 120_000); // two simulated minutes = two real seconds
    base.advance(1999);
    expect(fired).toEqual([]);
    base.advance(1);
    expect(fired).toEqual([1_000_000 + 180_000]);
    expect(() => new ScaledClock(base, 0)).toThrow(RangeError);
  });
});
