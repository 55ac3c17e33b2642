import type { AgentState, DeviceStatus } from '../../contract/messages.js';
import { int, type FieldValue, type MetricPoint } from './metric-point.js';
import type { DeviceTags } from './reading-points.js';

/**
 * Agent birth/death state → `agent_health` (docs/design.md §7), stamped at the agent's `ts`. The
 * agent's self-metrics (`health`, republished periodically) become fields beside `online`;
 * an InfluxDB field keeps one type forever, so the type follows the name, not the value:
 * `_count` fields are integers, every other one a float (`uptime_s` 60 and 60.5 alike). A
 * health key that clashes with a base field is left out rather than overwrite it.
 */
export function agentHealthPoint(site: string, agent: string, s: AgentState): MetricPoint {
  const base: Record<string, FieldValue> = { online: s.online, devices: int(s.devices), bd_seq: int(s.bd_seq), version: s.version };
  const fields: Record<string, FieldValue> = { ...base };
  for (const [name, value] of Object.entries(s.health ?? {})) {
    if (name in base || !Number.isFinite(value)) continue;
    fields[name] = name.endsWith('_count') ? int(Math.round(value)) : value;
  }
  return { measurement: 'agent_health', tags: { site, agent }, fields, ts_ms: s.ts };
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
