import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent } from '../../../agent/agent.js';
import type { DeviceReader } from '../../../agent/device-reader.js';
import { SiteInventorySchema } from '../../../contract/index.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { memoryLogger } from '../../../shared/log.js';
import { LOOPBACK } from '../../support/local-service.js';
import { useService } from '../../support/require-service.js';
import { startScrapingVictoriaMetrics } from '../../support/victoria-metrics.js';
import { parseExposition } from './parse-exposition.js';

/**
 * A third-party scraper reads the agent's /metrics: VictoriaMetrics scrapes it every second over
 * HTTP (gzip, Prometheus scrape semantics) and must accept every sample: its own
 * `scrape_samples_scraped` equals the number of samples the strict parser counts, and the values
 * it stored are the agent's.
 */

const profiles = loadProfiles();
const inventory = SiteInventorySchema.parse({
  site: { id: 'demo', name: 'Demo' },
  halls: [{ id: 'h1' }],
  racks: [{ id: 'r01', hall: 'h1', rated_kw: 12 }],
  devices: [
    { id: 'pdu-r01-a', profile: 'apc-rpdu2', rack: 'r01', interval_s: 1, address: { protocol: 'snmp', host: '127.0.0.1', port: 1 } },
    { id: 'meter-incomer-1', profile: 'eastron-sdm630', hall: 'h1', interval_s: 1, address: { protocol: 'modbus', host: '127.0.0.1', port: 1 } },
  ],
});

/** The PDU answers; the meter times out. No device sockets: the subject is the endpoint. */
const reader = (answering: boolean): DeviceReader => ({
  read: async () => ({
    readings: [answering ? { point: 'active_power_w', value: 1140, unit: 'W', quality: 'good' } : { point: 'active_power_w', value: null, unit: 'W', quality: 'bad', error: 'DCIM_E_MODBUS_TIMEOUT' }],
    poll: { ms: answering ? 12 : 300, requests: 1, retries: answering ? 0 : 1, timeouts: answering ? 0 : 2 },
  }),
  close: async () => undefined,
});

describe('VictoriaMetrics scraping the agent', () => {
  const vm = useService('victoria-metrics', () => startScrapingVictoriaMetrics('dcim-agent'));
  const dirs: string[] = [];
  const agents: Agent[] = [];
  afterAll(async () => {
    for (const a of agents) await a.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('stores every sample the agent serves, with the agent\'s labels and values', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'dcim-agent-vm-'));
    dirs.push(stateDir);
    const agent = new Agent({
      id: 'edge1',
      inventory,
      profiles,
      mqtt: { url: 'mqtt://127.0.0.1:1' }, // no broker: mqtt_connected 0, spool filling
      stateDir,
      logger: memoryLogger('error'),
      reconnectPeriodMs: 60_000,
      metrics: { host: LOOPBACK, port: vm().target },
      readerFor: (d) => reader(d.device.id === 'pdu-r01-a'),
    });
    agents.push(agent);
    await agent.start();

    // Once both devices have a state, the set of series is stable.
    const served = async () => parseExposition(await (await fetch(agent.metricsUrl() as string)).text());
    for (let i = 0; ; i++) {
      const m = await served();
      if (m.get('dcim_agent_device_state')?.samples.length === 6) break;
      if (i > 50) throw new Error('devices never polled');
      await new Promise((r) => setTimeout(r, 100));
    }
    const expected = [...(await served()).values()].reduce((n, f) => n + f.samples.length, 0);

    const scraped = await vm().waitForSeries('scrape_samples_scraped{job="dcim-agent"}', (s) => (s[0]?.values.at(-1) ?? 0) === expected, 10_000);
    expect(scraped[0]?.values.at(-1)).toBe(expected);
    const up = await vm().exportSeries('up{job="dcim-agent"}');
    expect(up[0]?.values.at(-1)).toBe(1);

    const series = await vm().exportSeries('{__name__=~"dcim_agent_.*", job="dcim-agent"}');
    const one = (name: string, labels: Record<string, string>) => series.filter((s) => s.metric.__name__ === name && Object.entries(labels).every(([k, v]) => s.metric[k] === v));
    expect(one('dcim_agent_info', { site: 'demo', agent: 'edge1', version: '0.1.0' })[0]?.values.at(-1)).toBe(1);
    expect(one('dcim_agent_device_state', { device: 'pdu-r01-a', profile: 'apc-rpdu2', state: 'up' })[0]?.values.at(-1)).toBe(1);
    expect(one('dcim_agent_device_state', { device: 'meter-incomer-1', profile: 'eastron-sdm630', state: 'down' })[0]?.values.at(-1)).toBe(1);
    expect(one('dcim_agent_device_timeouts_total', { device: 'meter-incomer-1' })[0]?.values.at(-1)).toBeGreaterThanOrEqual(2);
    expect(one('dcim_agent_device_poll_duration_seconds', { device: 'pdu-r01-a' })[0]?.values.at(-1)).toBe(0.012);
    expect(one('dcim_agent_mqtt_connected', {})[0]?.values.at(-1)).toBe(0);
    expect(one('dcim_agent_spool_records', {})[0]?.values.at(-1)).toBeGreaterThanOrEqual(1);
  });
});
