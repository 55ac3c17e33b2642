import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SiteInventorySchema, SystemClock, type Reading } from '../../contract/index.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { memoryLogger } from '../../shared/log.js';
import { selectDevices } from '../../agent/devices.js';
import { createDeviceReader } from '../../agent/reader-factory.js';
import { CORPUS_DIR, expectReadingsAsExpected, pollRedfishMockup, readExpected, redfishFixtures, useRedfishMockup, type RedfishExpected } from '../agent/support/device-corpus.js';

/**
 * The Redfish part of the device corpus: a BMC's resource tree written from the DMTF schemas with
 * our own values (test/fixtures/devices/<fixture>/redfish/v1/…/index.json), served from 127.0.0.1
 * with Basic authentication; `dcim poll` must read every value to the figure worked out by hand in
 * expected.yaml, and a Reading the BMC serves as null must not come out good.
 */
const fixtures = redfishFixtures();
const profiles = loadProfiles();

describe('Redfish device corpus', () => {
  it('has the H100 GPU server fixture, read by a Redfish profile', () => {
    expect(fixtures).toContain('gpu-redfish-h100');
    for (const f of fixtures) expect(profiles.get(readExpected<RedfishExpected>(f).profile)?.protocol, f).toBe('redfish');
  });

  describe.each(fixtures)('%s', (fixture) => {
    const exp = readExpected<RedfishExpected>(fixture);
    const bmc = useRedfishMockup(fixture);

    it('dcim poll reads every value to the hand-worked figure, each resource once, none missing from the tree', async () => {
      bmc().requests.length = 0;
      const r = await pollRedfishMockup(bmc(), exp.profile);
      expect(r.code, r.stderr).toBe(0);
      expectReadingsAsExpected(r.readings, exp.readings);
      // What the BMC says is not available comes out without a value and says why.
      for (const w of exp.readings.filter((x) => x.value === null)) {
        expect(r.readings.find((g) => g.point === w.point && JSON.stringify(g.index) === JSON.stringify(w.index))?.error).toBe('DCIM_E_VALUE_UNAVAILABLE');
      }
      const asked = bmc().requests.map((p) => p.replace(/\/+$/, ''));
      expect(new Set(asked).size).toBe(asked.length);
      for (const p of asked) expect(existsSync(join(CORPUS_DIR, fixture, ...p.split('/'), 'index.json')), `${p} is in the tree`).toBe(true);
    });
  });

  describe('gpu-redfish-h100 when the BMC misbehaves', () => {
    const bmc = useRedfishMockup('gpu-redfish-h100');

    it('a BMC that keeps serving the same power Reading: the live points turn uncertain (DCIM_E_VALUE_STUCK) at stuck_polls, the rest stays good', async () => {
      const m = bmc();
      const profile = profiles.get('redfish-gpu-server');
      const stuck = profile?.protocol === 'redfish' ? profile.resources[0]?.points.find((p) => p.name === 'active_power_w')?.stuck_polls : undefined;
      expect(stuck).toBeGreaterThanOrEqual(2);
      const inv = SiteInventorySchema.parse({
        site: { id: 'corpus', name: 'corpus' },
        halls: [{ id: 'h1', name: 'Hall 1' }],
        racks: [{ id: 'r01', hall: 'h1', rated_kw: 12 }],
        devices: [{ id: 'gpu-node-12', profile: 'redfish-gpu-server', rack: 'r01', address: { protocol: 'redfish', host: '127.0.0.1', port: m.port, scheme: 'http', username: m.username, password: m.password } }],
      });
      const device = selectDevices(inv, profiles, ['gpu-node-12']).devices[0];
      if (!device) throw new Error('device not selected');
      const reader = createDeviceReader(device, { clock: new SystemClock(), logger: memoryLogger('error'), redfish: { timeoutMs: 2000, retries: 0 } });
      try {
        const polls: Reading[][] = [];
        for (let i = 0; i < (stuck as number); i++) polls.push((await reader.read()).readings);
        const at = (n: number, point: string, gpu?: string) => polls[n]?.find((x) => x.point === point && x.index?.gpu === gpu);
        expect(at((stuck as number) - 2, 'active_power_w')).toMatchObject({ quality: 'good', value: 3842.6 });
        expect(at((stuck as number) - 1, 'active_power_w')).toMatchObject({ quality: 'uncertain', value: 3842.6, error: 'DCIM_E_VALUE_STUCK' });
        expect(at((stuck as number) - 1, 'gpu_power_w', 'GPU1')).toMatchObject({ quality: 'uncertain', error: 'DCIM_E_VALUE_STUCK' });
        // Not live: a model name, a utilisation that may sit at 0 and an energy counter repeat honestly.
        expect(at((stuck as number) - 1, 'gpu_utilisation_pct', 'GPU2')).toMatchObject({ quality: 'good', value: 0 });
        expect(at((stuck as number) - 1, 'energy_kwh')).toMatchObject({ quality: 'good' });
      } finally {
        await reader.close();
      }
    });

    it('a wrong password: exit 3, DCIM_E_REDFISH_AUTH and its hint', async () => {
      const r = await pollRedfishMockup({ ...bmc(), password: 'not-the-password' }, 'redfish-gpu-server');
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('DCIM_E_REDFISH_AUTH');
      expect(r.stderr).toContain('the BMC refused --username and the password');
    });

    it('a reading served as text, a GPU whose metrics are gone: those points are bad, the rest of the poll is read', async () => {
      const m = bmc();
      m.override.set('/redfish/v1/Systems/1/Processors/GPU1/EnvironmentMetrics', {
        status: 200,
        body: JSON.stringify({ '@odata.id': '/redfish/v1/Systems/1/Processors/GPU1/EnvironmentMetrics', PowerWatts: { Reading: '612.4 W' }, TemperatureCelsius: { Reading: 61 } }),
      });
      m.override.set('/redfish/v1/Systems/1/Processors/GPU2/ProcessorMetrics', { status: 404, body: '{"error":{"code":"Base.1.15.0.ResourceMissingAtURI"}}' });
      try {
        const r = await pollRedfishMockup(m, 'redfish-gpu-server');
        expect(r.code, r.stderr).toBe(0);
        const get = (point: string, gpu: string) => r.readings.find((x) => x.point === point && x.index?.gpu === gpu);
        expect(get('gpu_power_w', 'GPU1')).toMatchObject({ quality: 'bad', value: null, error: 'DCIM_E_DECODE_VALUE' });
        expect(get('gpu_utilisation_pct', 'GPU2')).toMatchObject({ quality: 'bad', value: null, error: 'DCIM_E_REDFISH_HTTP' });
        expect(get('gpu_temp_c', 'GPU1')).toMatchObject({ quality: 'good', value: 61 });
        expect(get('gpu_power_w', 'GPU2')).toMatchObject({ quality: 'good', value: 88.25 });
        expect(r.readings.find((x) => x.point === 'active_power_w')).toMatchObject({ quality: 'good', value: 3842.6 });
      } finally {
        m.override.clear();
      }
    });
  });
});
