import type { TelemetryMessage } from '../../contract/messages.js';
import { topics } from '../../contract/topics.js';
import type { SeqDedup } from '../state/seq-dedup.js';
import type { SiteDevice, SiteEntry } from '../state/site-registry.js';
import type { DecodeFailure } from './decode-failure.js';
import { decodeTelemetry, type DroppedReading } from './decode-telemetry.js';

/**
 * Everything a telemetry message passes before it counts, in one place so the live collector
 * and `dcim kpi --readings` (a file of the same messages) accept exactly the same data:
 * decode and validate (decode-telemetry.ts), site and device in the inventory, class as the
 * device's profile says, then (agent, seq) dedup — last, so a refused message never marks its
 * seq as seen.
 */
export type GateVerdict =
  | { kind: 'accepted'; message: TelemetryMessage; device: SiteDevice; dropped: DroppedReading[] }
  | { kind: 'invalid'; failure: DecodeFailure }
  | { kind: 'unknown'; site: string; what: string }
  | { kind: 'duplicate'; too_old: boolean; agent: string; seq: number };

export class TelemetryGate {
  /** `maxAgeMs`: with a clock given to `check`, polls stamped longer ago than this are refused. */
  constructor(
    private readonly sites: ReadonlyMap<string, SiteEntry>,
    private readonly dedup: SeqDedup,
    private readonly maxAgeMs?: number,
  ) {}

  /** One message from `topic`; `now_ms` refuses polls stamped in the future or too long ago. */
  check(topic: string, payload: Uint8Array, now_ms?: number): GateVerdict {
    const r = decodeTelemetry(topic, payload, now_ms, this.maxAgeMs);
    if (!r.ok) return { kind: 'invalid', failure: r.reason };
    const { message: m, dropped } = r.value;
    const device = this.sites.get(m.site)?.devices.get(m.device);
    if (!device) return { kind: 'unknown', site: m.site, what: this.sites.has(m.site) ? `device ${m.device}` : `site ${m.site}` };
    if (device.class !== undefined && device.class !== m.class) {
      // The class is the measurement: a wrong one would file the readings under another table.
      return { kind: 'invalid', failure: { code: 'DCIM_E_MQTT_PAYLOAD_INVALID', reason: `class ${m.class} but profile ${device.device.profile} is a ${device.class}` } };
    }
    const verdict = this.dedup.check(`${m.site}/${m.agent}`, m.seq);
    if (verdict !== 'new') return { kind: 'duplicate', too_old: verdict === 'too_old', agent: m.agent, seq: m.seq };
    return { kind: 'accepted', message: m, device, dropped };
  }

  /**
   * A message given without its topic (a line of a readings file): checked as if it had been
   * published on its own telemetry topic. Ids that cannot form a topic are invalid.
   */
  checkMessage(payload: Uint8Array, parsed: unknown, now_ms?: number): GateVerdict {
    const o = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { site?: unknown; device?: unknown };
    let topic: string;
    try {
      topic = topics.telemetry(String(o.site), String(o.device));
    } catch {
      return { kind: 'invalid', failure: { code: 'DCIM_E_MQTT_PAYLOAD_INVALID', reason: `site ${JSON.stringify(o.site)} / device ${JSON.stringify(o.device)} are not valid ids` } };
    }
    return this.check(topic, payload, now_ms);
  }
}
