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

/**
 * updatePoll finds a series at the same position as in the device's last poll without building its
 * key; whatever the polls' shapes (reordered, shorter, longer, readings without value, index tags
 * in another order or another value), it must hold exactly what one `update` per reading holds.
 */
describe('LatestValues.updatePoll against update, reading by reading', () => {
  it('agrees over random polls of changing shape', () => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31), Math.floor((seed / 2 ** 31) * n));
    const shapes: { point: string; index?: Record<string, string> }[] = [
      { point: 'active_power_w' },
      { point: 'energy_kwh' },
      { point: 'phase_power_w', index: { phase: '1' } },
      { point: 'phase_power_w', index: { phase: '2' } },
      { point: 'phase_current_a', index: { phase: '1' } },
      { point: 'phase_power_w', index: { phase: '1', bank: '2' } },
      { point: 'phase_power_w', index: { bank: '2', phase: '1' } },
      { point: 'phase_power_w', index: { bank: '1', phase: '1' } },
    ];
    const fast = new LatestValues(6);
    const slow = new LatestValues(6);
    const last = new Map<string, (typeof shapes)[number][]>();
    for (let poll = 0; poll < 2000; poll++) {
      const device = `d${rnd(2)}`;
      // Mostly the device's previous shapes again (the common case), now and then another poll.
      const again = rnd(4) > 0 ? last.get(device) : undefined;
      const picked = again ? [...again] : Array.from({ length: rnd(7) }, () => shapes[rnd(shapes.length)]!);
      // …or its previous shapes with one series swapped for another at the same position.
      if (again && picked.length > 0 && rnd(3) === 0) picked[rnd(picked.length)] = shapes[rnd(shapes.length)]!;
      last.set(device, picked);
      const readings = picked.map((s) => {
        const q = rnd(10);
        return { ...s, ...(s.index ? { index: { ...s.index } } : {}), value: q === 0 ? null : rnd(1000), quality: q === 1 ? ('bad' as const) : q === 2 ? ('uncertain' as const) : ('good' as const), ...(rnd(3) > 0 ? { unit: 'W' as const } : {}) };
      });
      // Now and then a poll that moves back in time.
      const ts = poll * 10 - (rnd(8) === 0 ? 25 : 0);
      let older = 0;
      for (const r of readings) if (slow.update('s', device, r, ts) === 'older') older++;
      expect(fast.updatePoll('s', device, readings, ts)).toBe(older);
      for (const d of ['d0', 'd1']) expect(fast.deviceSeries('s', d)).toEqual(slow.deviceSeries('s', d));
    }
    expect(fast.size).toBe(slow.size);
    expect(fast.refused).toBe(slow.refused);
  });
});
