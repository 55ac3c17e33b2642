import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Collector } from '../../../collector/collector.js';
import { Ownership } from '../../../collector/ingest/ownership.js';
import { buildSiteRegistry } from '../../../collector/state/site-registry.js';
import { ManualClock } from '../../../contract/clock.js';
import { SiteInventorySchema, type SiteInventory } from '../../../contract/inventory.js';
import { loadYamlFile } from '../../../shared/config/load.js';
import { memoryLogger } from '../../../shared/log.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { topics } from '../../../contract/topics.js';
import { RecordingSink } from '../support/recording-sink.js';

/**
 * Who may speak for a device: the topic's agent must be the payload's and own the device; a
 * status only on its owner's branch; an agent state only from an agent the site names; the old
 * device topics only while the migration switch is on. Checked through Collector.ingest, the path
 * every broker message takes.
 */
const ROOT = path.resolve(import.meta.dirname, '../../..');
const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);
const PROFILES = loadProfiles();
const MINIMAL = loadYamlFile(SiteInventorySchema, path.join(ROOT, 'seeds/minimal.yaml'));
/** The PDU belongs to edge-1 (the site's default), the incomer to edge-2. */
const SITE: SiteInventory = SiteInventorySchema.parse({ ...MINIMAL, devices: MINIMAL.devices.map((d) => (d.id === 'meter-incomer-1' ? { ...d, agent: 'edge-2' } : d)) });
const OPEN: SiteInventory = SiteInventorySchema.parse({ ...MINIMAL, site: { ...MINIMAL.site, agent: undefined } });

const poll = (agent: string, device: string, seq: number) =>
  Buffer.from(
    JSON.stringify({ schema: 1, agent, site: 'demo', device, class: device.startsWith('pdu') ? 'pdu' : 'meter', seq, ts: T0, readings: [{ point: 'active_power_w', value: 1000, unit: 'W', quality: 'good' }], poll: { ms: 5, requests: 1, retries: 0 } }),
  );
const status = Buffer.from(JSON.stringify({ state: 'down', code: 'DCIM_E_SNMP_TIMEOUT', since: T0, last_ok: T0 - 60_000 }));
const state = Buffer.from(JSON.stringify({ online: false, ts: T0, version: '0.1.0', devices: 1, bd_seq: 3 }));

function collector(inv: SiteInventory, accept_legacy_topics = false) {
  const logger = memoryLogger();
  const c = new Collector({ id: 't', inventories: [inv], mqtt: { url: 'mqtt://127.0.0.1:1', accept_legacy_topics }, sink: new RecordingSink(), profiles: PROFILES, logger, clock: new ManualClock(T0 + 1000) });
  return { c, logger };
}

describe('ownership: telemetry', () => {
  const cases: { name: string; topic: string; payload: Buffer; code?: string }[] = [
    { name: 'the owner on its own branch', topic: topics.telemetry('demo', 'edge-1', 'pdu-r01-a'), payload: poll('edge-1', 'pdu-r01-a', 1) },
    { name: 'another agent named in the payload of an owner topic', topic: topics.telemetry('demo', 'edge-1', 'pdu-r01-a'), payload: poll('edge-2', 'pdu-r01-a', 1), code: 'DCIM_E_MQTT_AGENT_MISMATCH' },
    { name: "an agent speaking for another agent's device", topic: topics.telemetry('demo', 'edge-2', 'pdu-r01-a'), payload: poll('edge-2', 'pdu-r01-a', 1), code: 'DCIM_E_MQTT_NOT_OWNER' },
    { name: 'an agent the site does not name', topic: topics.telemetry('demo', 'mallory', 'pdu-r01-a'), payload: poll('mallory', 'pdu-r01-a', 1), code: 'DCIM_E_MQTT_NOT_OWNER' },
    { name: 'the old device topic', topic: topics.legacy.telemetry('demo', 'pdu-r01-a'), payload: poll('edge-1', 'pdu-r01-a', 1), code: 'DCIM_E_MQTT_LEGACY_TOPIC' },
  ];
  it.each(cases)('$name', ({ topic, payload, code }) => {
    const { c, logger } = collector(SITE);
    c.ingest(topic, payload);
    const s = c.stats();
    if (code === undefined) {
      expect(s).toMatchObject({ messages_invalid: 0, readings_accepted: 1 });
    } else {
      expect(s).toMatchObject({ messages_invalid: 1, readings_accepted: 0, invalid_by_code: { [code]: 1 } });
      expect(logger.lines.find((l) => l.code === code)).toBeDefined();
    }
  });

  it('a refused message does not move the dedup floor of the agent it names', () => {
    const { c } = collector(SITE);
    // A forger on its own (allowed) branch claims edge-1 with a huge seq: refused before dedup.
    c.ingest(topics.telemetry('demo', 'edge-2', 'pdu-r01-a'), poll('edge-2', 'pdu-r01-a', 1_000_000));
    c.ingest(topics.telemetry('demo', 'edge-2', 'pdu-r01-a'), poll('edge-1', 'pdu-r01-a', 1_000_000));
    c.ingest(topics.telemetry('demo', 'edge-1', 'pdu-r01-a'), poll('edge-1', 'pdu-r01-a', 5));
    expect(c.stats()).toMatchObject({ messages_invalid: 2, duplicates: 0, readings_accepted: 1 });
  });

  it('reads the old device topic while mqtt.accept_legacy_topics is on, still only for the owner', () => {
    const { c } = collector(SITE, true);
    c.ingest(topics.legacy.telemetry('demo', 'pdu-r01-a'), poll('edge-1', 'pdu-r01-a', 1));
    c.ingest(topics.legacy.telemetry('demo', 'pdu-r01-a'), poll('edge-2', 'pdu-r01-a', 2));
    expect(c.stats()).toMatchObject({ readings_accepted: 1, messages_invalid: 1, invalid_by_code: { DCIM_E_MQTT_NOT_OWNER: 1 } });
  });

  it('an open site (no owner named) takes any agent, but only as itself', () => {
    const { c } = collector(OPEN);
    c.ingest(topics.telemetry('demo', 'edge-9', 'pdu-r01-a'), poll('edge-9', 'pdu-r01-a', 1));
    c.ingest(topics.telemetry('demo', 'edge-9', 'pdu-r01-a'), poll('edge-1', 'pdu-r01-a', 2));
    expect(c.stats()).toMatchObject({ readings_accepted: 1, invalid_by_code: { DCIM_E_MQTT_AGENT_MISMATCH: 1 } });
    expect(new Ownership(buildSiteRegistry([OPEN])).openSites()).toEqual(['demo']);
    expect(new Ownership(buildSiteRegistry([SITE])).openSites()).toEqual([]);
  });
});

describe('ownership: retained device status and agent state', () => {
  it("a forged status on another agent's branch raises nothing; the owner's is kept", () => {
    const { c } = collector(SITE);
    c.ingest(topics.deviceStatus('demo', 'edge-2', 'pdu-r01-a'), status);
    c.ingest(topics.legacy.deviceStatus('demo', 'pdu-r01-a'), status);
    expect(c.deviceStatuses('demo').size).toBe(0);
    expect(c.stats().invalid_by_code).toMatchObject({ DCIM_E_MQTT_NOT_OWNER: 1, DCIM_E_MQTT_LEGACY_TOPIC: 1 });
    c.ingest(topics.deviceStatus('demo', 'edge-1', 'pdu-r01-a'), status);
    expect(c.deviceStatuses('demo').get('pdu-r01-a')?.state).toBe('down');
  });

  it('an agent state from an agent the site does not name is refused and kept nowhere', () => {
    const { c } = collector(SITE);
    for (let i = 0; i < 50; i++) c.ingest(topics.agentState('demo', `forged-${i}`), state);
    c.ingest(topics.agentState('demo', 'edge-2'), state);
    expect([...c.agentStates('demo').keys()]).toEqual(['edge-2']);
    expect(c.stats().invalid_by_code).toMatchObject({ DCIM_E_MQTT_NOT_OWNER: 50 });
  });
});
