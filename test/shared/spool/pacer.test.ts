import { describe, expect, it } from 'vitest';
import { Pacer } from '../../../shared/spool/pacer.js';

/** How many takes succeed when asked every `stepMs` for `durationMs`. */
function takes(p: Pacer, durationMs: number, stepMs: number, start = 0): number {
  let n = 0;
  for (let t = start; t <= start + durationMs; t += stepMs) while (p.tryTake(t)) n++;
  return n;
}

describe('Pacer', () => {
  it.each([
    [200, 10_000],
    [50, 4_000],
    [1, 10_000],
    [1000, 2_000],
  ])('%d/s over %d ms: the rate plus at most one burst', (rate, ms) => {
    const p = new Pacer(rate);
    const n = takes(p, ms, 1);
    const burst = Math.max(1, Math.ceil(rate / 10));
    expect(n).toBeGreaterThanOrEqual(Math.floor((rate * ms) / 1000));
    expect(n).toBeLessThanOrEqual(Math.floor((rate * ms) / 1000) + burst);
  });

  it('starts with a full burst, then says how long to wait', () => {
    const p = new Pacer(100, 5);
    for (let i = 0; i < 5; i++) expect(p.tryTake(0)).toBe(true);
    expect(p.tryTake(0)).toBe(false);
    expect(p.waitMs(0)).toBe(10);
    expect(p.tryTake(9)).toBe(false);
    expect(p.tryTake(10)).toBe(true);
  });

  it('an idle spell refills only up to the burst', () => {
    const p = new Pacer(10, 3);
    while (p.tryTake(0));
    expect(takes(p, 0, 1, 60_000)).toBe(3);
  });

  it('a clock that steps back neither refills nor breaks it', () => {
    const p = new Pacer(10, 1);
    expect(p.tryTake(5_000)).toBe(true);
    expect(p.tryTake(1_000)).toBe(false);
    expect(p.waitMs(1_000)).toBe(100);
    expect(p.tryTake(5_100)).toBe(true);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('refuses a rate of %d', (rate) => {
    expect(() => new Pacer(rate)).toThrow(RangeError);
  });
});
