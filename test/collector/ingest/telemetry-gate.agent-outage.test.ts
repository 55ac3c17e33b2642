import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from '../../../agent/index.js';
import { Collector } from '../../../collector/collector.js';
import { SqliteSink } from '../../../collector/store/sqlite-sink.js';
import { SystemClock } from '../../../contract/clock.js';
import { SiteInventorySchema } from '../../../contract/index.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { memoryLogger } from '../../../shared/log.js';
import { startBroker, type TestBroker } from '../../agent/support/broker.js';
import { startSnmpsim, useService } from '../../agent/support/services.js';
import { until } from '../../support/until.js';

/**
 * The real agent (snmpsimd's APC rPDU2 recording, polled every second) and the collector with
 * profiles, through one broker. The broker then refuses the agent for a while: it keeps polling
 * into its spool, and on reconnect (a new birth, `bd_seq`) replays that backlog, old seqs late and
 * in order, beside its live polls. Every poll the agent published must count once: no reading
 * refused by its profile, no seq refused as a leap or as too old.
 */
const profiles = loadProfiles();
const recording = readFileSync(join(import.meta.dirname, '../../agent/fixtures/snmprec/apc-rpdu2.snmprec'), 'utf8');

let broker: TestBroker;
let stateDir: string;
const stops: (() => Promise<void>)[] = [];
beforeEach(async () => {
  broker = await startBroker();
  stateDir = mkdtempSync(join(tmpdir(), 'dcim-outage-agent-'));
});
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
  await broker.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

describe('agent outage and spool replay through the telemetry gate', () => {
  const snmp = useService('snmpsimd', () => startSnmpsim({ 'apc-rpdu2': recording }));

  it('counts every published poll once, the late backlog included', { timeout: 60_000 }, async () => {
    const inventory = SiteInventorySchema.parse({
      site: { id: 'demo', name: 'Demo', agent: 'edge1' },
      halls: [{ id: 'h1' }],
      racks: [{ id: 'r01', hall: 'h1', rated_kw: 12 }],
      devices: [{ id: 'pdu-r01-a', profile: 'apc-rpdu2', rack: 'r01', interval_s: 1, address: { protocol: 'snmp', host: '127.0.0.1', port: snmp().port, community: 'apc-rpdu2' } }],
    });
    const clock = new SystemClock();
    const collector = new Collector({ id: 'outage', inventories: [inventory], profiles, mqtt: { url: broker.url }, sink: new SqliteSink({ path: ':memory:', clock, logger: memoryLogger() }), clock, logger: memoryLogger() });
    await collector.start();
    stops.push(() => collector.stop());

    let refuseAgent = false;
    broker.broker.authenticate = (client, _user, _password, done) => done(null, !(refuseAgent && client.id.startsWith('dcim-agent-')));
    const agent = new Agent({ id: 'edge1', inventory, profiles, mqtt: { url: broker.url }, stateDir, logger: memoryLogger('error'), snmp: { timeoutMs: 500, retries: 0 }, reconnectPeriodMs: 100 });
    await agent.start();
    stops.push(() => agent.stop());

    await until('live polls counted', () => collector.stats().readings_accepted > 0 && agent.stats().telemetry.published >= 3, 60_000);
    refuseAgent = true;
    broker.cut('dcim-agent-');
    const publishedBefore = agent.stats().telemetry.published;
    await until('a backlog in the spool', () => agent.stats().telemetry.backlog + agent.stats().telemetry.in_flight >= 5 || agent.stats().telemetry.submitted - publishedBefore >= 5, 60_000);
    refuseAgent = false;
    await until('backlog replayed', () => agent.stats().telemetry.replayed >= 4 && agent.stats().telemetry.backlog === 0, 30_000);
    await until('every published poll reached the collector', () => {
      const s = collector.stats();
      return s.readings_accepted > 0 && s.messages_received - s.states_received - s.duplicates >= agent.stats().telemetry.published;
    }, 15_000);

    const s = collector.stats();
    expect(agent.stats().mqtt.bd_seq).toBeGreaterThanOrEqual(1);
    expect(s).toMatchObject({ seq_implausible: 0, replays_too_old: 0, messages_invalid: 0, readings_invalid: 0, series_refused: 0 });
    expect(s.invalid_by_code).toEqual({});
    // Every accepted poll is one the agent published (redeliveries are duplicates, not counted).
    expect(s.messages_received - s.states_received - s.duplicates).toBe(agent.stats().telemetry.published);
  });
});
