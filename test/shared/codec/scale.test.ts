import { describe, expect, it } from 'vitest';
import { toEngineering } from '../../../shared/codec/scale.js';

/** value = raw × scale × 10^sf + offset, rounded to 12 significant digits; integers pass unchanged. */
const reference = (raw: number, scale = 1, offset = 0, sf = 0) => {
  const v = raw * scale * (sf === 0 ? 1 : 10 ** sf) + offset;
  return Number.isFinite(v) ? Number(v.toPrecision(12)) : v;
};

describe('toEngineering', () => {
  it.each<[number, number?, number?, number?, number?]>([
    [3, 0.1, 0, 0, 0.3],
    [2301, 0.1, 0, 0, 230.1],
    [2500, 1, 0, 0, 2500],
    [-40, 1, 0, 0, -40],
    [0, 1, 0, 0, 0],
    [999_999_999_999, 1, 0, 0, 999_999_999_999],
    // 13 digits and more: rounded to 12 significant digits, as before the integer fast path.
    [123_456_789_012_345, 1, 0, 0, 123_456_789_012_000],
    [-1_234_567_890_123, 1, 0, 0, -1_234_567_890_120],
    [123, 1, 0, -2, 1.23],
    [5, 1, -273.15, 0, -268.15],
  ])('%d × %d + %d (sf %d) = %d', (raw, scale, offset, sf, expected) => {
    expect(toEngineering(raw, scale, offset, sf)).toBe(expected);
  });

  it('agrees with the 12-digit rounding for 20,000 values of every magnitude', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 20_000; i++) {
      const raw = Math.round((rand() - 0.5) * 10 ** Math.floor(rand() * 17));
      const scale = [1, 0.1, 0.01, 0.001, 10, 1000][i % 6] as number;
      expect(toEngineering(raw, scale), `${raw} × ${scale}`).toBe(reference(raw, scale));
    }
    expect(toEngineering(Infinity)).toBe(Infinity);
    expect(toEngineering(NaN)).toBeNaN();
  });
});
