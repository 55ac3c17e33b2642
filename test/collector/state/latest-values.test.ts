import { describe, expect, it } from 'vitest';
import { isStale, LatestValues, staleAfterMs } from '../../../collector/state/latest-values.js';

const r = (value: number | null, quality: 'good' | 'uncertain' | 'bad' = 'good', index?: Record<string, string>) => ({ point: 'active_power_w', value, unit: 'W' as const, quality, ...(index ? { index } : {}) });

describe('LatestValues', () => {
  it('keeps the newest value and never moves back in time', () => {
    const l = new LatestValues();
    expect(l.update('s', 'd', r(1), 1000)).toBe('updated');
    expect(l.update('s', 'd', r(2), 3000)).toBe('updated');
    expect(l.update('s', 'd', r(9), 2000)).toBe('older');
    expect(l.get('s', 'd', 'active_power_w')).toEqual({ value: 2, unit: 'W', quality: 'good', ts_ms: 3000 });
  });

  it('a bad reading does not replace a value', () => {
    const l = new LatestValues();
    l.update('s', 'd', r(1), 1000);
    expect(l.update('s', 'd', r(null, 'bad'), 2000)).toBe('no_value');
    expect(l.get('s', 'd', 'active_power_w')?.value).toBe(1);
  });

  it('keys by index tags, in any order', () => {
    const l = new LatestValues();
    l.update('s', 'd', { point: 'phase_power_w', value: 5, quality: 'good', index: { phase: '1', bank: '2' } }, 1);
    expect(l.get('s', 'd', 'phase_power_w', { bank: '2', phase: '1' })?.value).toBe(5);
    expect(l.get('s', 'd', 'phase_power_w')).toBeUndefined();
    expect(l.get('s', 'd2', 'phase_power_w', { bank: '2', phase: '1' })).toBeUndefined();
  });

  it('refuses new series beyond its bound but still updates known ones', () => {
    const l = new LatestValues(1);
    expect(l.update('s', 'd', r(1), 1)).toBe('updated');
    expect(l.update('s', 'd2', r(1), 1)).toBe('full');
    expect(l.update('s', 'd', r(2), 2)).toBe('updated');
    expect(l.update('s', 'd3', r(1), 3)).toBe('full');
    expect(l.size).toBe(1);
    expect(l.refused).toBe(2);
  });

  it('takes a whole poll at once, counts the readings older than what it holds, and hands out copies', () => {
    const l = new LatestValues();
    expect(l.updatePoll('s', 'd', [r(1, 'good', { phase: '1' }), r(2, 'good', { phase: '2' })], 1000)).toBe(0);
    const before = l.get('s', 'd', 'active_power_w', { phase: '1' });
    const series = l.deviceSeries('s', 'd');
    expect(l.updatePoll('s', 'd', [r(5, 'uncertain', { phase: '1' }), r(6, 'bad', { phase: '2' })], 2000)).toBe(0);
    expect(l.updatePoll('s', 'd', [r(7, 'good', { phase: '1' }), r(8, 'good', { phase: '2' })], 1500)).toBe(1);
    expect(l.get('s', 'd', 'active_power_w', { phase: '1' })).toEqual({ value: 5, unit: 'W', quality: 'uncertain', ts_ms: 2000 });
    // The bad reading left phase 2 at its old value, which the 1500 poll then replaced.
    expect(l.get('s', 'd', 'active_power_w', { phase: '2' })).toEqual({ value: 8, unit: 'W', quality: 'good', ts_ms: 1500 });
    // What a reader got earlier does not change under it.
    expect(before).toEqual({ value: 1, unit: 'W', quality: 'good', ts_ms: 1000 });
    expect(series.map((e) => e.value)).toEqual([1, 2]);
    expect(l.size).toBe(2);
  });
});

describe('staleness: max(3 × interval, 5 min)', () => {
  it.each([
    { interval_s: 5, after: 300_000 },
    { interval_s: 60, after: 300_000 },
    { interval_s: 120, after: 360_000 },
    { interval_s: 900, after: 2_700_000 },
  ])('interval $interval_s s → stale after $after ms', ({ interval_s, after }) => {
    expect(staleAfterMs(interval_s)).toBe(after);
    expect(isStale({ ts_ms: 0 }, after, interval_s)).toBe(false);
    expect(isStale({ ts_ms: 0 }, after + 1, interval_s)).toBe(true);
  });
  it('no value at all is stale', () => expect(isStale(undefined, 0, 5)).toBe(true));
});
