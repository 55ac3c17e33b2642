import { ID_PATTERN } from './ids.js';
import { DcimError } from './errors.js';

/**
 * The topic grammar (docs/design.md §2), the only place topics are built or parsed.
 *   dcim/v1/<site>/agents/<agent>/state
 *   dcim/v1/<site>/devices/<device>/telemetry
 *   dcim/v1/<site>/devices/<device>/status
 *   dcim/v1/<site>/kpi
 *   dcim/v1/<site>/alerts/<alert_id>
 */
export const TOPIC_PREFIX = 'dcim/v1';

export type Topic =
  | { kind: 'agent_state'; site: string; agent: string }
  | { kind: 'telemetry'; site: string; device: string }
  | { kind: 'device_status'; site: string; device: string }
  | { kind: 'kpi'; site: string }
  | { kind: 'alert'; site: string; alert: string };

function checkId(what: string, id: string): string {
  if (!ID_PATTERN.test(id)) throw new DcimError('DCIM_E_MQTT_TOPIC_INVALID', `invalid ${what} id in topic: ${JSON.stringify(id)}`);
  return id;
}

export const topics = {
  agentState: (site: string, agent: string) => `${TOPIC_PREFIX}/${checkId('site', site)}/agents/${checkId('agent', agent)}/state`,
  telemetry: (site: string, device: string) => `${TOPIC_PREFIX}/${checkId('site', site)}/devices/${checkId('device', device)}/telemetry`,
  deviceStatus: (site: string, device: string) => `${TOPIC_PREFIX}/${checkId('site', site)}/devices/${checkId('device', device)}/status`,
  kpi: (site: string) => `${TOPIC_PREFIX}/${checkId('site', site)}/kpi`,
  alert: (site: string, alert: string) => `${TOPIC_PREFIX}/${checkId('site', site)}/alerts/${checkId('alert', alert)}`,
  /** Subscription filters. `site` may be '+' for every site. */
  filters: {
    telemetry: (site = '+') => `${TOPIC_PREFIX}/${site}/devices/+/telemetry`,
    deviceStatus: (site = '+') => `${TOPIC_PREFIX}/${site}/devices/+/status`,
    agentState: (site = '+') => `${TOPIC_PREFIX}/${site}/agents/+/state`,
    kpi: (site = '+') => `${TOPIC_PREFIX}/${site}/kpi`,
    alerts: (site = '+') => `${TOPIC_PREFIX}/${site}/alerts/+`,
  },
} as const;

export function buildTopic(t: Topic): string {
  switch (t.kind) {
    case 'agent_state':
      return topics.agentState(t.site, t.agent);
    case 'telemetry':
      return topics.telemetry(t.site, t.device);
    case 'device_status':
      return topics.deviceStatus(t.site, t.device);
    case 'kpi':
      return topics.kpi(t.site);
    case 'alert':
      return topics.alert(t.site, t.alert);
  }
}

/** Parse a concrete topic; undefined when it is not ours or malformed. */
export function parseTopic(topic: string): Topic | undefined {
  const parts = topic.split('/');
  if (parts[0] !== 'dcim' || parts[1] !== 'v1') return undefined;
  const rest = parts.slice(2);
  if (!rest.every((p) => ID_PATTERN.test(p) || p === 'agents' || p === 'devices' || p === 'alerts')) return undefined;
  const [site, a, b, c] = rest;
  if (site === undefined || !ID_PATTERN.test(site)) return undefined;
  if (rest.length === 2 && a === 'kpi') return { kind: 'kpi', site };
  if (rest.length === 3 && a === 'alerts' && b !== undefined && ID_PATTERN.test(b)) return { kind: 'alert', site, alert: b };
  if (rest.length === 4 && b !== undefined && ID_PATTERN.test(b)) {
    if (a === 'agents' && c === 'state') return { kind: 'agent_state', site, agent: b };
    if (a === 'devices' && c === 'telemetry') return { kind: 'telemetry', site, device: b };
    if (a === 'devices' && c === 'status') return { kind: 'device_status', site, device: b };
  }
  return undefined;
}
