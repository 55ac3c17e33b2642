import type { TelemetryMessage } from '../../contract/messages.js';
import { parseTopic, topics, type Topic } from '../../contract/topics.js';
import type { AgentState } from '../../contract/messages.js';
import type { BirthVerdict, SeqDedup } from '../state/seq-dedup.js';
import type { SiteDevice, SiteEntry } from '../state/site-registry.js';
import type { DecodeFailure } from './decode-failure.js';
import { decodeTelemetry, type DroppedReading } from './decode-telemetry.js';
import { checkAgainstProfile } from './profile-readings.js';
import { SeriesBudget, type SeriesBudgetStats } from './series-budget.js';
import { Ownership } from './ownership.js';

/**
 * Everything a telemetry message passes before it counts, in one place so the live collector
 * and `dcim kpi --readings` (a file of the same messages) accept exactly the same data:
 * decode and validate (decode-telemetry.ts), site and device in the inventory, the agent that
 * owns the device (ownership.ts), class as the device's profile says, then (agent, seq) dedup —
 * last, so a refused message never marks its seq as seen.
 */
export type GateVerdict =
  | { kind: 'accepted'; message: TelemetryMessage; device: SiteDevice; dropped: DroppedReading[] }
  | { kind: 'invalid'; failure: DecodeFailure }
  | { kind: 'unknown'; site: string; what: string }
  | { kind: 'duplicate'; too_old: boolean; agent: string; seq: number };

/** Each agent polls at least one device of its site: more agents than devices are invented. */
const maxSiteAgents = (site: SiteEntry | undefined): number => Math.max(4, site?.devices.size ?? 0);

export class TelemetryGate {
  private readonly series = new SeriesBudget();
  /** `maxAgeMs`: with a clock given to `check`, polls stamped longer ago than this are refused. */
  constructor(
    private readonly sites: ReadonlyMap<string, SiteEntry>,
    private readonly dedup: SeqDedup,
    private readonly maxAgeMs?: number,
    private readonly ownership: Ownership = new Ownership(sites),
  ) {}

  /**
   * One message from `topic`; `now_ms` refuses polls stamped in the future or too long ago.
   * `parsed`: the caller's parseTopic(topic), when it already has it.
   */
  check(topic: string, payload: Uint8Array, now_ms?: number, parsed: Topic | undefined = parseTopic(topic)): GateVerdict {
    const r = decodeTelemetry(topic, payload, now_ms, this.maxAgeMs, parsed);
    if (!r.ok) return { kind: 'invalid', failure: r.reason };
    const { message: m, dropped } = r.value;
    const device = this.sites.get(m.site)?.devices.get(m.device);
    if (!device) return { kind: 'unknown', site: m.site, what: this.sites.has(m.site) ? `device ${m.device}` : `site ${m.site}` };
    // decodeTelemetry refused anything but a telemetry topic.
    const owned = this.ownership.telemetry(m.site, parsed?.kind === 'telemetry' ? parsed.agent : undefined, m.agent, m.device);
    if (!owned.ok) return { kind: 'invalid', failure: owned.reason };
    if (device.class !== undefined && device.class !== m.class) {
      // The class is the measurement: a wrong one would file the readings under another table.
      return { kind: 'invalid', failure: { code: 'DCIM_E_MQTT_PAYLOAD_INVALID', reason: `class ${m.class} but profile ${device.device.profile} is a ${device.class}` } };
    }
    // Per reading, before dedup: what the device's profile cannot produce never reaches the store.
    const readings = device.rules ? this.profileFilter(device, m.readings, dropped) : m.readings;
    const site = this.sites.get(m.site);
    const verdict = this.dedup.check(`${m.site}/${m.agent}`, m.seq, {
      // A readings file has no receive time: its own stamps measure the elapsed time.
      now_ms: now_ms ?? m.ts,
      ts_ms: m.ts,
      // An owner's own devices when the inventory names owners (ownership already checked), else the site's.
      polls_per_s: site?.agent_polls_per_s.get(m.agent) ?? site?.polls_per_s ?? 0,
      max_site_agents: maxSiteAgents(site),
    });
    if (verdict === 'implausible') return { kind: 'invalid', failure: { code: 'DCIM_E_SEQ_IMPLAUSIBLE', reason: `seq ${m.seq} of agent ${m.agent} is further ahead than it could have polled since its last accepted seq, and no new birth (bd_seq) announced a restart` } };
    if (verdict === 'agent_refused') return { kind: 'invalid', failure: { code: 'DCIM_E_AGENT_LIMIT', reason: `site ${m.site} already tracks as many recently heard agents as it has devices` } };
    if (verdict !== 'new') return { kind: 'duplicate', too_old: verdict === 'too_old', agent: m.agent, seq: m.seq };
    // After dedup, so a refused message never takes a place in the device's series bound.
    const admitted = this.admitSeries(`${m.site}/${m.device}`, readings, device.rules !== undefined, now_ms ?? m.ts, dropped);
    return { kind: 'accepted', message: admitted === m.readings ? m : { ...m, readings: admitted }, device, dropped };
  }

  /** An agent's state message: a birth (online, new bd_seq) lets its seq re-base once (seq-dedup.ts). */
  agentState(site: string, agent: string, state: AgentState, now_ms: number): BirthVerdict | undefined {
    if (!state.online) return undefined;
    return this.dedup.birth(`${site}/${agent}`, state.bd_seq, now_ms, maxSiteAgents(this.sites.get(site)));
  }

  stats(): { seq: ReturnType<SeqDedup['stats']>; series: SeriesBudgetStats } {
    return { seq: this.dedup.stats(), series: this.series.stats() };
  }

  private profileFilter(device: SiteDevice, readings: TelemetryMessage['readings'], dropped: DroppedReading[]): TelemetryMessage['readings'] {
    const rules = device.rules!;
    let kept: TelemetryMessage['readings'] | undefined;
    for (let i = 0; i < readings.length; i++) {
      const r = readings[i]!;
      const refusal = checkAgainstProfile(rules, r);
      if (refusal) {
        kept ??= readings.slice(0, i);
        dropped.push({ index: i, point: r.point.slice(0, 64), code: refusal.code, reason: refusal.reason });
      } else kept?.push(r);
    }
    return kept ?? readings;
  }

  private admitSeries(device: string, readings: TelemetryMessage['readings'], profiled: boolean, now_ms: number, dropped: DroppedReading[]): TelemetryMessage['readings'] {
    let kept: TelemetryMessage['readings'] | undefined;
    for (let i = 0; i < readings.length; i++) {
      const r = readings[i]!;
      const why = this.series.admit(device, r, profiled, now_ms);
      if (why) {
        kept ??= readings.slice(0, i);
        dropped.push({ index: i, point: r.point.slice(0, 64), code: 'DCIM_E_READING_SERIES_LIMIT', reason: why });
      } else kept?.push(r);
    }
    return kept ?? readings;
  }

  /**
   * A message given without its topic (a line of a readings file): checked as if it had been
   * published on its own telemetry topic. Ids that cannot form a topic are invalid.
   */
  checkMessage(payload: Uint8Array, parsed: unknown, now_ms?: number): GateVerdict {
    const o = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { site?: unknown; agent?: unknown; device?: unknown };
    let topic: string;
    try {
      topic = topics.telemetry(String(o.site), String(o.agent), String(o.device));
    } catch {
      return { kind: 'invalid', failure: { code: 'DCIM_E_MQTT_PAYLOAD_INVALID', reason: `site ${JSON.stringify(o.site)} / agent ${JSON.stringify(o.agent)} / device ${JSON.stringify(o.device)} are not valid ids` } };
    }
    return this.check(topic, payload, now_ms);
  }
}
