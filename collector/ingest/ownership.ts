import { deviceOwner } from '../../contract/inventory.js';
import { fail, ok, type Result } from '../../shared/result.js';
import { parseTopic } from '../../contract/topics.js';
import type { SiteEntry } from '../state/site-registry.js';
import type { DecodeFailure } from './decode-failure.js';
import type { DecodedState } from './decode-status.js';

/**
 * Who may speak for a device (docs/security.md "Identity"). The site inventory names the agent
 * that owns each device; an agent publishes under its own topic branch
 * (`dcim/v1/<site>/agents/<agent>/…`), which the broker's ACL grants to that agent's identity
 * alone. The collector then accepts:
 * - telemetry only when the topic's agent is the payload's `agent` and owns the device (so a
 *   client holding agent A's credentials, allowed on A's branch, still cannot book energy or
 *   move the dedup floor of agent B);
 * - a device status only on the branch of the device's owner;
 * - an agent state only from an agent the site names, so forged agents raise no AgentOffline
 *   and grow no map.
 * A site that names no owner at all is open: any agent may speak for its devices, but still only
 * as itself (topic agent = payload agent); the collector warns about it at start.
 * The legacy device topics (no agent) are refused unless `accept_legacy_topics`; when accepted,
 * the payload's agent must still own the device.
 * Unknown sites and devices pass here: the caller reports them as outside the inventory.
 *
 * Refusal reasons name the kind of problem first and truncate ids, which are attacker-chosen.
 */
export interface OwnershipOptions {
  /** Read the old `dcim/v1/<site>/devices/<device>/…` topics during a migration (default false). */
  accept_legacy_topics?: boolean;
}

type Refusal = Result<void, DecodeFailure>;

const short = (id: string): string => (id.length > 64 ? `${id.slice(0, 64)}…` : id);

export class Ownership {
  private readonly agentsBySite = new Map<string, ReadonlySet<string>>();

  constructor(
    private readonly sites: ReadonlyMap<string, SiteEntry>,
    private readonly opts: OwnershipOptions = {},
  ) {
    for (const [id, site] of sites) {
      const agents = new Set<string>();
      for (const d of site.inventory.devices) {
        const owner = deviceOwner(site.inventory, d);
        if (owner !== undefined) agents.add(owner);
      }
      this.agentsBySite.set(id, agents);
    }
  }

  /** Sites whose inventory names no owner: any agent may speak for their devices. */
  openSites(): string[] {
    return [...this.agentsBySite].filter(([, agents]) => agents.size === 0).map(([site]) => site);
  }

  get acceptsLegacyTopics(): boolean {
    return this.opts.accept_legacy_topics === true;
  }

  /** A decoded telemetry message and the topic it came on. */
  telemetryOn(topic: string, m: { site: string; agent: string; device: string }): Refusal {
    const t = parseTopic(topic);
    return this.telemetry(m.site, t?.kind === 'telemetry' ? t.agent : undefined, m.agent, m.device);
  }

  /** A decoded telemetry message; `topicAgent` is undefined on a legacy topic. */
  telemetry(site: string, topicAgent: string | undefined, payloadAgent: string, device: string): Refusal {
    if (topicAgent === undefined) {
      const legacy = this.legacy();
      if (!legacy.ok) return legacy;
    } else if (topicAgent !== payloadAgent) {
      return fail({ code: 'DCIM_E_MQTT_AGENT_MISMATCH', reason: `payload agent ${short(payloadAgent)} published on the topic of agent ${short(topicAgent)}` });
    }
    return this.owns(site, payloadAgent, device);
  }

  /** A device status; `topicAgent` is undefined on a legacy topic (which carries no agent to check). */
  deviceStatus(site: string, topicAgent: string | undefined, device: string): Refusal {
    if (topicAgent === undefined) return this.legacy();
    return this.owns(site, topicAgent, device);
  }

  /** A decoded retained state message (device status or agent state); a clear passes. */
  state(s: DecodedState): Refusal {
    if (s.kind === 'device_status') return this.deviceStatus(s.site, s.agent, s.device);
    if (s.kind === 'agent_state') return this.agentState(s.site, s.agent);
    return ok(undefined);
  }

  agentState(site: string, agent: string): Refusal {
    const agents = this.agentsBySite.get(site);
    if (agents === undefined || agents.size === 0 || agents.has(agent)) return ok(undefined);
    return fail({ code: 'DCIM_E_MQTT_NOT_OWNER', reason: `agent state from an agent site ${site} does not name: ${short(agent)}` });
  }

  private owns(site: string, agent: string, device: string): Refusal {
    const entry = this.sites.get(site);
    const d = entry?.devices.get(device);
    if (entry === undefined || d === undefined) return ok(undefined);
    const owner = deviceOwner(entry.inventory, d.device);
    if (owner === undefined || owner === agent) return ok(undefined);
    return fail({ code: 'DCIM_E_MQTT_NOT_OWNER', reason: `device ${site}/${device} belongs to agent ${owner}, not ${short(agent)}` });
  }

  private legacy(): Refusal {
    if (this.acceptsLegacyTopics) return ok(undefined);
    return fail({ code: 'DCIM_E_MQTT_LEGACY_TOPIC', reason: 'old device topic without an agent (dcim/v1/<site>/devices/<device>/…); mqtt.accept_legacy_topics is off' });
  }
}
