import { ID_PATTERN } from './ids.js';
import { DcimError } from './errors.js';
import { SUMMARY_WINDOWS, type SummaryWindow } from './summary.js';

/**
 * The topic grammar (docs/design.md §2), the only place topics are built or parsed.
 *   dcim/v1/<site>/agents/<agent>/state
 *   dcim/v1/<site>/agents/<agent>/devices/<device>/telemetry
 *   dcim/v1/<site>/agents/<agent>/devices/<device>/status
 *   dcim/v1/<site>/kpi
 *   dcim/v1/<site>/alerts/<alert_id>
 *   dcim/v1/<site>/summary/<window>          (a site's KPI summary for the bureau; window 15m|1h|1d|1mo)
 *
 * Everything an agent publishes sits under its own `agents/<agent>/` branch, so a broker ACL
 * can bind the branch to the agent's identity (`pattern write dcim/v1/<site>/agents/%u/#`) and
 * the collector can bind the device to the agent that owns it. The first contract put device
 * topics directly under the site (`dcim/v1/<site>/devices/<device>/telemetry|status`); those
 * still parse, with no `agent`, so a collector can read an agent that has not been upgraded
 * while its config allows it (`mqtt.accept_legacy_topics`). Nothing builds them except
 * `topics.legacy`, kept for that migration and its tests.
 */
export const TOPIC_PREFIX = 'dcim/v1';

export type Topic =
  | { kind: 'agent_state'; site: string; agent: string }
  /** `agent` is absent only on the legacy device topics. */
  | { kind: 'telemetry'; site: string; agent?: string; device: string }
  | { kind: 'device_status'; site: string; agent?: string; device: string }
  | { kind: 'kpi'; site: string }
  | { kind: 'alert'; site: string; alert: string }
  | { kind: 'summary'; site: string; window: SummaryWindow };

function checkId(what: string, id: string): string {
  if (!ID_PATTERN.test(id)) throw new DcimError('DCIM_E_MQTT_TOPIC_INVALID', `invalid ${what} id in topic: ${JSON.stringify(id)}`);
  return id;
}

function summaryWindow(w: string): SummaryWindow {
  if (!(SUMMARY_WINDOWS as readonly string[]).includes(w)) throw new DcimError('DCIM_E_MQTT_TOPIC_INVALID', `invalid summary window in topic: ${JSON.stringify(w)}`);
  return w as SummaryWindow;
}

const agentBranch = (site: string, agent: string) => `${TOPIC_PREFIX}/${checkId('site', site)}/agents/${checkId('agent', agent)}`;

export const topics = {
  agentState: (site: string, agent: string) => `${agentBranch(site, agent)}/state`,
  telemetry: (site: string, agent: string, device: string) => `${agentBranch(site, agent)}/devices/${checkId('device', device)}/telemetry`,
  deviceStatus: (site: string, agent: string, device: string) => `${agentBranch(site, agent)}/devices/${checkId('device', device)}/status`,
  kpi: (site: string) => `${TOPIC_PREFIX}/${checkId('site', site)}/kpi`,
  alert: (site: string, alert: string) => `${TOPIC_PREFIX}/${checkId('site', site)}/alerts/${checkId('alert', alert)}`,
  summary: (site: string, window: SummaryWindow) => `${TOPIC_PREFIX}/${checkId('site', site)}/summary/${summaryWindow(window)}`,
  /** Subscription filters. `site` (and `agent`) may be '+' for every site (agent). */
  filters: {
    telemetry: (site = '+', agent = '+') => `${TOPIC_PREFIX}/${site}/agents/${agent}/devices/+/telemetry`,
    deviceStatus: (site = '+', agent = '+') => `${TOPIC_PREFIX}/${site}/agents/${agent}/devices/+/status`,
    agentState: (site = '+') => `${TOPIC_PREFIX}/${site}/agents/+/state`,
    kpi: (site = '+') => `${TOPIC_PREFIX}/${site}/kpi`,
    alerts: (site = '+') => `${TOPIC_PREFIX}/${site}/alerts/+`,
    summary: (site = '+') => `${TOPIC_PREFIX}/${site}/summary/+`,
  },
  /** The first contract's device topics, without the agent: read during the migration only. */
  legacy: {
    telemetry: (site: string, device: string) => `${TOPIC_PREFIX}/${checkId('site', site)}/devices/${checkId('device', device)}/telemetry`,
    deviceStatus: (site: string, device: string) => `${TOPIC_PREFIX}/${checkId('site', site)}/devices/${checkId('device', device)}/status`,
    filters: {
      telemetry: (site = '+') => `${TOPIC_PREFIX}/${site}/devices/+/telemetry`,
      deviceStatus: (site = '+') => `${TOPIC_PREFIX}/${site}/devices/+/status`,
    },
  },
} as const;

export function buildTopic(t: Topic): string {
  switch (t.kind) {
    case 'agent_state':
      return topics.agentState(t.site, t.agent);
    case 'telemetry':
      return t.agent === undefined ? topics.legacy.telemetry(t.site, t.device) : topics.telemetry(t.site, t.agent, t.device);
    case 'device_status':
      return t.agent === undefined ? topics.legacy.deviceStatus(t.site, t.device) : topics.deviceStatus(t.site, t.agent, t.device);
    case 'kpi':
      return topics.kpi(t.site);
    case 'alert':
      return topics.alert(t.site, t.alert);
    case 'summary':
      return topics.summary(t.site, t.window);
  }
}

const DEVICE_LEAVES = { telemetry: 'telemetry', status: 'device_status' } as const;

function deviceLeaf(leaf: string | undefined): 'telemetry' | 'device_status' | undefined {
  return leaf === 'telemetry' || leaf === 'status' ? DEVICE_LEAVES[leaf] : undefined;
}

/** Parse a concrete topic; undefined when it is not ours or malformed. */
export function parseTopic(topic: string): Topic | undefined {
  const parts = topic.split('/');
  if (parts[0] !== 'dcim' || parts[1] !== 'v1') return undefined;
  const rest = parts.slice(2);
  // Every level is an id or a keyword; this also rules out wildcards and empty levels.
  if (!rest.every((p) => ID_PATTERN.test(p))) return undefined;
  const [site, a, b, c, d, e] = rest as [string, ...(string | undefined)[]];
  if (rest.length === 2 && a === 'kpi') return { kind: 'kpi', site };
  if (rest.length === 3 && a === 'alerts' && b !== undefined) return { kind: 'alert', site, alert: b };
  if (rest.length === 3 && a === 'summary' && b !== undefined && (SUMMARY_WINDOWS as readonly string[]).includes(b)) return { kind: 'summary', site, window: b as SummaryWindow };
  if (rest.length === 4 && b !== undefined) {
    if (a === 'agents' && c === 'state') return { kind: 'agent_state', site, agent: b };
    const kind = deviceLeaf(c);
    if (a === 'devices' && kind) return { kind, site, device: b };
  }
  if (rest.length === 6 && a === 'agents' && b !== undefined && c === 'devices' && d !== undefined) {
    const kind = deviceLeaf(e);
    if (kind) return { kind, site, agent: b, device: d };
  }
  return undefined;
}
