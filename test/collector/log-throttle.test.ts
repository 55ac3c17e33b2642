import { describe, expect, it } from 'vitest';
import { LogThrottle, OVERFLOW_KEY } from '../../collector/log-throttle.js';

describe('LogThrottle', () => {
  it('lets one line per key and period through and says how many it held back', () => {
    let now = 0;
    const t = new LogThrottle(() => now, 10_000);
    expect(t.allow('invalid:DCIM_E_X')).toEqual({ suppressed: 0 });
    for (let i = 0; i < 5; i++) expect(t.allow('invalid:DCIM_E_X')).toBeUndefined();
    expect(t.allow('invalid:DCIM_E_Y')).toEqual({ suppressed: 0 });
    now = 10_000;
    expect(t.allow('invalid:DCIM_E_X')).toEqual({ suppressed: 5 });
    expect(t.suppressed).toBe(5);
  });

  it('stays bounded when keys run past max_keys: newcomers share one overflow key, the known keys keep theirs', () => {
    const now = 0;
    const t = new LogThrottle(() => now, 10_000, 3);
    for (const k of ['a', 'b', 'c']) expect(t.allow(k)).toEqual({ suppressed: 0 });
    // 10,000 invented keys give one line, not 10,000, and do not push out a, b, c.
    let lines = 0;
    for (let i = 0; i < 10_000; i++) if (t.allow(`device-${i}`)) lines++;
    expect(lines).toBe(1);
    expect(t.size).toBe(4);
    expect(t.allow('a')).toBeUndefined();
    expect(t.allow(OVERFLOW_KEY)).toBeUndefined();
    expect(t.suppressed).toBe(9_999 + 2);
  });
});
