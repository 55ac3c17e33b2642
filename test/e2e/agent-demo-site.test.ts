import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, profilePoints, SiteInventorySchema, SystemClock, type IndexTag } from '../../contract/index.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { loadYamlFile } from '../../shared/config/load.js';
import { memoryLogger } from '../../shared/log.js';
import type { PollResult } from '../../agent/device-reader.js';
import { judgePoll } from '../../agent/device-status.js';
import { selectDevices, type AgentDevice } from '../../agent/devices.js';
import type { ModbusTransport } from '../../agent/modbus/modbus-transport.js';
import { createDeviceReader } from '../../agent/reader-factory.js';
import { SnmpSocketPool } from '../../agent/snmp/snmp-socket-pool.js';
import { noiseAmplitude } from '../../simulators/encode/measurement-noise.js';
import { startSimSite, type SimSite } from '../../simulators/index.js';
import { mismatches, pointSpec, resolution, rowNumber } from '../agent/e2e/sim-readers.js';
import { repoPath } from '../support/repo-path.js';

/**
 * Every device of the demo seed (53: APC and Raritan PDUs and UPSes over SNMP, five meter
 * families, chillers, CRAHs and a PV inverter over Modbus TCP, rack sensors over RTU behind a
 * gateway, GPU servers over Redfish) polled once by its profile over its real protocol against
 * the simulator, and every reading checked against what the simulator served and its ground
 * truth. The simulator's clock stands still (ManualClock), so served values cannot move during
 * the poll; the readers run on real time.
 */
const profiles = loadProfiles();
const inventory = loadYamlFile(SiteInventorySchema, repoPath('seeds', 'demo.yaml'));

let site: SimSite;
let devices: AgentDevice[];
const results = new Map<string, PollResult>();
let pool: SnmpSocketPool;

beforeAll(async () => {
  site = await startSimSite({ inventory, bind: 'ephemeral', rngSeed: 7, clock: new ManualClock(Date.UTC(2026, 5, 1, 6)), logger: memoryLogger('error') });
  const sel = selectDevices(site.inventory(), profiles);
  expect(sel.problems).toEqual([]);
  devices = sel.devices;
  pool = new SnmpSocketPool({ clock: new SystemClock() });
  const modbusLinks = new Map<string, ModbusTransport>();
  const ctx = { clock: new SystemClock(), logger: memoryLogger('error'), snmpPool: pool, modbusLinks };
  const readers = devices.map((d) => createDeviceReader(d, ctx));
  const polled = await Promise.all(readers.map((r) => r.read({ deadlineAt: Date.now() + 20_000 })));
  polled.forEach((p, i) => results.set((devices[i] as AgentDevice).device.id, p));
  await Promise.all(readers.map((r) => r.close()));
}, 60_000);

afterAll(async () => {
  pool?.close();
  await site?.stop();
});

describe('the demo site polled by profile over its real protocols', () => {
  it('covers all 53 devices and every protocol and transport of the seed', () => {
    expect(devices).toHaveLength(53);
    const kinds = new Set(devices.map((d) => `${d.device.address.protocol}${d.device.address.protocol === 'modbus' ? `/${d.device.address.transport}` : ''}`));
    expect(kinds).toEqual(new Set(['snmp', 'modbus/tcp', 'modbus/rtu_over_tcp', 'redfish']));
  });

  it.each(inventory.devices.map((d) => [d.id, d.profile]))('%s (%s): up, every reading what the simulator served, within the profile resolution', (id) => {
    const d = devices.find((x) => x.device.id === id) as AgentDevice;
    const r = results.get(id) as PollResult;
    const served = site.servedQuantities(id);
    expect(served).toBeDefined();
    expect(judgePoll(r.readings)).toEqual({ state: 'up' });
    expect(mismatches(d.profile, served!, r.readings)).toEqual([]);
    // Every served table row came back.
    const tags = new Set(profilePoints(d.profile).flatMap((p) => (p.index_tag ? [p.index_tag] : [])));
    for (const [tag, rows] of Object.entries(served!.rows)) {
      if (!tags.has(tag as IndexTag)) continue;
      const read = new Set(r.readings.flatMap((x) => (x.index?.[tag as IndexTag] !== undefined ? [rowNumber(x.index[tag as IndexTag] as string)] : [])));
      // Rows the profile reads something of (the model also serves columns no profile names).
      const expected = [...(rows?.keys() ?? [])].filter((i) => Object.keys(rows?.get(i) ?? {}).some((name) => r.readings.some((x) => x.point === name)));
      expect(expected.length, `${id} ${tag}`).toBeGreaterThan(0);
      for (const i of expected) expect(read.has(i), `${id} ${tag} ${i}`).toBe(true);
    }
    expect(r.poll).toMatchObject({ retries: 0, timeouts: 0 });
  });

  it('power and energy of every meter match the ground truth within the profile resolution', () => {
    const truth = site.truth().devices;
    let checked = 0;
    for (const d of devices) {
      const t = truth[d.device.id];
      if (!t) continue;
      for (const r of (results.get(d.device.id) as PollResult).readings) {
        if (r.index || r.quality !== 'good' || typeof r.value !== 'number') continue;
        const spec = pointSpec(d.profile, r.point);
        const point = [...(d.profile.protocol === 'snmp' ? d.profile.points : d.profile.protocol === 'modbus' || d.profile.protocol === 'prometheus' ? d.profile.points : d.profile.resources.flatMap((x) => x.points))].find((p) => p.name === r.point);
        const kpi = point?.kpi;
        const want = kpi === 'active_power_w' ? t.power_w : kpi === 'energy_kwh' ? t.energy_kwh : undefined;
        if (want === undefined || !spec) continue;
        // The truth records power as float32: allow its rounding on top of the profile's. A live
        // point is served with the simulator's measurement noise on top of the truth; counters carry none.
        const noise = point?.live ? noiseAmplitude(want, spec.float ? 0 : Math.abs(spec.scale)) : 0;
        expect(Math.abs(r.value - want), `${d.device.id} ${r.point}`).toBeLessThanOrEqual(resolution(spec, want) + Math.abs(want) * 1e-6 + noise);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(30);
  });
});
