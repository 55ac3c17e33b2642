import { formatIssues } from '../../shared/config/load.js';
import { AgentStateSchema, DeviceStatusSchema, type AgentState, type DeviceStatus } from '../../contract/messages.js';
import { fail, ok, type Result } from '../../shared/result.js';
import { parseTopic } from '../../contract/topics.js';
import { parseJsonPayload, type DecodeFailure } from './decode-failure.js';

/** The two retained state messages: a device's status and an agent's birth/death state. */
export type DecodedState =
  /** `agent`: the topic's agent; absent on the legacy device topic. */
  | { kind: 'device_status'; site: string; agent?: string; device: string; status: DeviceStatus }
  | { kind: 'agent_state'; site: string; agent: string; state: AgentState }
  /** A zero-byte retained message deletes the retained state (MQTT 3.1.1 §3.3.1.3); not an error. */
  | { kind: 'cleared'; topic: string };

export function decodeState(topic: string, payload: Uint8Array): Result<DecodedState, DecodeFailure> {
  const t = parseTopic(topic);
  if (!t || (t.kind !== 'device_status' && t.kind !== 'agent_state')) {
    return fail({ code: 'DCIM_E_MQTT_TOPIC_INVALID', reason: `not a status or agent-state topic: ${JSON.stringify(topic.slice(0, 200))}` });
  }
  if (payload.byteLength === 0) return ok({ kind: 'cleared', topic });
  const json = parseJsonPayload(payload);
  if (!json.ok) return json;
  if (t.kind === 'device_status') {
    const r = DeviceStatusSchema.safeParse(json.value);
    if (!r.success) return fail({ code: 'DCIM_E_MQTT_PAYLOAD_INVALID', reason: formatIssues('status', r.error).slice(0, 5).join('; ') });
    return ok({ kind: 'device_status', site: t.site, ...(t.agent !== undefined ? { agent: t.agent } : {}), device: t.device, status: r.data });
  }
  const r = AgentStateSchema.safeParse(json.value);
  if (!r.success) return fail({ code: 'DCIM_E_MQTT_PAYLOAD_INVALID', reason: formatIssues('agent state', r.error).slice(0, 5).join('; ') });
  return ok({ kind: 'agent_state', site: t.site, agent: t.agent, state: r.data });
}
