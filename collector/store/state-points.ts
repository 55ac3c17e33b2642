import type { AgentState, DeviceStatus } from '../../contract/messages.js';
import { int, type MetricPoint } from './metric-point.js';
import type { DeviceTags } from './reading-points.js';

/** Agent birth/death state → `agent_health` (DESIGN.md §7), stamped at the agent's `ts`. */
export function agentHealthPoint(site: string, agent: string, s: AgentState): MetricPoint {
  return {
    measurement: 'agent_health',
    tags: { site, agent },
    fields: { online: s.online, devices: int(s.devices), bd_seq: int(s.bd_seq), version: s.version },
    ts_ms: s.ts,
  };
}

/**
 * Device status → `device_status`, stamped when the state began (`since`), so a retained status
 * received again writes the same point.
 */
export function deviceStatusPoint(site: string, device: string, tags: DeviceTags, s: DeviceStatus): MetricPoint {
  return {
    measurement: 'device_status',
    tags: { site, device, ...tags },
    fields: { state: s.state, up: s.state === 'up', code: s.code ?? '', last_ok_ms: s.last_ok === null ? undefined : int(s.last_ok) },
    ts_ms: s.since,
  };
}
