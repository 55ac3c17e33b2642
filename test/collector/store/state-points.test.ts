import { describe, expect, it } from 'vitest';
import { encodePoint } from '../../../collector/store/line-protocol.js';
import { int } from '../../../collector/store/metric-point.js';
import { agentHealthPoint } from '../../../collector/store/state-points.js';
import type { AgentState } from '../../../contract/messages.js';

const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);
const state = (health?: Record<string, number>): AgentState => ({ online: true, ts: T0, version: '0.1.0', devices: 3, bd_seq: 7, ...(health ? { health } : {}) });

describe('agent state → agent_health', () => {
  it('a birth or will without health: the base fields only', () => {
    expect(agentHealthPoint('demo', 'edge1', state())).toEqual({
      measurement: 'agent_health',
      tags: { site: 'demo', agent: 'edge1' },
      fields: { online: true, devices: int(3), bd_seq: int(7), version: '0.1.0' },
      ts_ms: T0,
    });
  });

  it.each<[string, number, unknown]>([
    ['devices_up_count', 2, int(2)],
    ['spool_records_count', 0, int(0)],
    ['poll_errors_count', 3.0000001, int(3)], // a count is an integer field, whatever JSON made of it
    ['uptime_s', 60, 60],
    ['spool_oldest_age_s', 1.5, 1.5],
    ['spool_disk_mib', 0, 0],
    ['mqtt_connected', 1, 1],
  ])('health %s = %s is the field %j', (name, value, field) => {
    expect(agentHealthPoint('demo', 'edge1', state({ [name]: value })).fields[name]).toEqual(field);
  });

  it('a health key named like a base field does not overwrite it', () => {
    const p = agentHealthPoint('demo', 'edge1', state({ devices: 99, online: 0, uptime_s: 5 }));
    expect(p.fields).toMatchObject({ devices: int(3), online: true, uptime_s: 5 });
  });

  it('the line keeps one type per field: integers for counts, floats for the rest', () => {
    const line = encodePoint(agentHealthPoint('demo', 'edge1', state({ uptime_s: 60, spool_records_count: 12, mqtt_connected: 1 })));
    expect(line.ok && line.value.line).toBe(`agent_health,agent=edge1,site=demo bd_seq=7i,devices=3i,mqtt_connected=1,online=true,spool_records_count=12i,uptime_s=60,version="0.1.0" ${T0}`);
  });
});
