import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SiteInventorySchema, SystemClock, type SiteInventory } from '../../../contract/index.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { loadYamlFile } from '../../../shared/config/load.js';
import { memoryLogger } from '../../../shared/log.js';
import { judgePoll } from '../../../agent/device-status.js';
import { selectDevices } from '../../../agent/devices.js';
import { createDeviceReader } from '../../../agent/reader-factory.js';
import { noiseAmplitude } from '../../../simulators/encode/measurement-noise.js';
import { startSimSite, type SimSite } from '../../../simulators/index.js';
import { repoPath } from '../../support/repo-path.js';

/**
 * The Redfish reader through the reader factory against the simulator's BMCs over HTTPS with a
 * self-signed certificate (made by openssl at the simulator's start): `verify_tls: false`
 * reads it, the default refuses it, and a wrong password is refused by the BMC.
 */
const demo = loadYamlFile(SiteInventorySchema, repoPath('seeds', 'demo.yaml'));
const inventory: SiteInventory = {
  ...demo,
  devices: demo.devices
    .filter((d) => d.id === 'gpu-r11-1' || d.id === 'gpu-r11-2' || d.id === 'gpu-r11-3')
    .map((d) => (d.address.protocol === 'redfish' ? { ...d, address: { ...d.address, scheme: 'https' as const, verify_tls: d.id !== 'gpu-r11-2' ? false : true } } : d)),
};

let site: SimSite;
beforeAll(async () => {
  site = await startSimSite({ inventory, bind: 'ephemeral', rngSeed: 3, logger: memoryLogger('error') });
}, 30_000);
afterAll(() => site?.stop());

async function pollDevice(id: string, password?: string) {
  const inv = site.inventory();
  const devices = inv.devices.map((d) => (d.id === id && password !== undefined && d.address.protocol === 'redfish' ? { ...d, address: { ...d.address, password } } : d));
  const sel = selectDevices({ ...inv, devices }, loadProfiles(), [id]);
  const reader = createDeviceReader(sel.devices[0]!, { clock: new SystemClock(), logger: memoryLogger('error'), redfish: { timeoutMs: 2000, retries: 0 } });
  try {
    return await reader.read();
  } finally {
    await reader.close();
  }
}

describe('Redfish over HTTPS against the simulator', () => {
  it('verify_tls: false reads a BMC with a self-signed certificate', async () => {
    const r = await pollDevice('gpu-r11-1');
    expect(judgePoll(r.readings)).toEqual({ state: 'up' });
    const power = r.readings.find((x) => x.point === 'active_power_w');
    expect(typeof power?.value).toBe('number');
    // Served power carries measurement noise drawn per model tick: a poll that straddles a tick differs by up to twice its bound.
    const served = site.servedQuantities('gpu-r11-1')?.values.active_power_w as number;
    expect(Math.abs((power?.value as number) - served)).toBeLessThan(1 + 2 * noiseAmplitude(served, 0));
    expect(r.readings.filter((x) => x.point === 'gpu_power_w' && x.quality === 'good')).toHaveLength(8);
  });

  it('verify_tls: true (the default) refuses the self-signed certificate: down, DCIM_E_REDFISH_HTTP', async () => {
    const r = await pollDevice('gpu-r11-2');
    expect(judgePoll(r.readings)).toEqual({ state: 'down', code: 'DCIM_E_REDFISH_HTTP' });
    // The first wave only (max_concurrent_requests = 2): the failure ends the poll.
    expect(r.poll.requests).toBeLessThanOrEqual(2);
  });

  it('a wrong password is refused by the BMC: down, DCIM_E_REDFISH_AUTH, after the first wave of requests', async () => {
    const r = await pollDevice('gpu-r11-3', 'not-the-password');
    expect(judgePoll(r.readings)).toEqual({ state: 'down', code: 'DCIM_E_REDFISH_AUTH' });
    expect(r.poll.requests).toBeLessThanOrEqual(2);
  });
});
