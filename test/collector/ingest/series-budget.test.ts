import { describe, expect, it } from 'vitest';
import { SERIES_IDLE_MS, SeriesBudget } from '../../../collector/ingest/series-budget.js';
import type { Reading } from '../../../contract/messages.js';

const alarm = (id: number): Reading => ({ point: 'alarm', value: 'on_battery', quality: 'good', index: { alarm: String(id) } });
const point = (name: string): Reading => ({ point: name, value: 1, unit: 'W', quality: 'good' });

describe('SeriesBudget', () => {
  it('holds at most max_index_values per device and tag; other devices and tags are not crowded out', () => {
    const b = new SeriesBudget({ max_index_values: 3 });
    for (let i = 1; i <= 3; i++) expect(b.admit('s/ups', alarm(i), true, 0)).toBeUndefined();
    expect(b.admit('s/ups', alarm(4), true, 1000)).toMatch(/alarm=4: device has 3 alarm values already/);
    expect(b.admit('s/ups', alarm(2), true, 1000)).toBeUndefined();
    expect(b.admit('s/ups-2', alarm(4), true, 1000)).toBeUndefined();
    expect(b.admit('s/ups', { ...alarm(9), index: { outlet: '9' } }, true, 1000)).toBeUndefined();
    expect(b.stats()).toEqual({ entries: 5, refused: 1, forgotten: 0 });
  });

  it("lets a UPS's growing alarm ids flow: an id idle for a day makes room, a fresh flood does not", () => {
    const b = new SeriesBudget({ max_index_values: 3 });
    for (let i = 1; i <= 3; i++) b.admit('s/ups', alarm(i), true, 0);
    // Alarms 1–3 cleared long ago (their rows gone); alarm 4 is new.
    expect(b.admit('s/ups', alarm(4), true, SERIES_IDLE_MS)).toBeUndefined();
    // 2 and 3 stay fresh from now on: the next new id waits until one of them idles.
    b.admit('s/ups', alarm(2), true, SERIES_IDLE_MS);
    b.admit('s/ups', alarm(3), true, SERIES_IDLE_MS);
    expect(b.admit('s/ups', alarm(5), true, SERIES_IDLE_MS + 1)).toBeDefined();
    expect(b.stats()).toEqual({ entries: 3, refused: 1, forgotten: 1 });
  });

  it('bounds point names only for a device without a profile', () => {
    const b = new SeriesBudget({ max_points: 2 });
    expect(b.admit('s/x', point('a_w'), false, 0)).toBeUndefined();
    expect(b.admit('s/x', point('b_w'), false, 0)).toBeUndefined();
    expect(b.admit('s/x', point('c_w'), false, 0)).toMatch(/2 point names already/);
    expect(b.admit('s/y', point('c_w'), true, 0)).toBeUndefined();
  });
});
