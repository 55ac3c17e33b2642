import { describe, expect, it } from 'vitest';
import { ObservedState } from '../../../collector/alerts/observed-state.js';
import type { Reading } from '../../../contract/messages.js';

const r = (outlet: number): Reading => ({ point: 'outlet_power_w', value: 10, unit: 'W', quality: 'good', index: { outlet: String(outlet) } });
const state = { online: true, ts: 1, version: '1', devices: 1, bd_seq: 1 };

describe('ObservedState bounds', () => {
  it('keeps at most max_series series; the ones it holds keep updating', () => {
    const o = new ObservedState({ watched: new Set(['outlet_power_w']), history_ms: new Map(), max_series: 3 });
    for (let i = 0; i < 1000; i++) o.reading('s', 'pdu', 1000 + i, r(i));
    expect([...o.seriesOf('s')].map((x) => x.index)).toEqual(['outlet=0', 'outlet=1', 'outlet=2']);
    expect(o.refused).toBe(997);
    o.reading('s', 'pdu', 5000, { ...r(1), value: 42 });
    expect([...o.seriesOf('s')][1]!.latest).toEqual({ ts_ms: 5000, value: 42 });
  });

  it('keeps at most max_agents agents per site; known agents keep updating', () => {
    const o = new ObservedState({ watched: new Set(), history_ms: new Map(), max_agents: (site) => (site === 's' ? 2 : 10) });
    for (let i = 0; i < 100; i++) o.agentState('s', `a${i}`, state);
    o.agentState('s', 'a0', { ...state, online: false });
    o.agentState('t', 'x', state);
    expect([...o.agentsOf('s').keys()]).toEqual(['a0', 'a1']);
    expect(o.agentsOf('s').get('a0')?.online).toBe(false);
    expect(o.agentsOf('t').size).toBe(1);
    expect(o.refused).toBe(98);
  });
});
