import dgram from 'node:dgram';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DcimError,
  ManualClock,
  SiteInventorySchema,
  loadProfiles,
  loadYamlFile,
  memoryLogger,
  type DeviceProfile,
  type SiteInventory,
} from '../../contract/index.js';
import { startSimSite, type SimSite } from '../../simulators/index.js';
import { missingTools, parseMbpoll, parseSnmpOutput, run, snmpInt } from './external-tools.js';

const DEMO = loadYamlFile(SiteInventorySchema, new URL('../../seeds/demo.yaml', import.meta.url).pathname);
const POWER = '1.3.6.1.4.1.318.1.1.26.4.3.1.5.1';
const ENERGY = '1.3.6.1.4.1.318.1.1.26.4.3.1.9.1';

const missing = missingTools(['snmpget', 'mbpoll']);
const suite = missing.length > 0 ? describe.skip : describe;
const skipNote = missing.length > 0 ? ` (skipped: ${missing.join(', ')} not on PATH)` : '';

const snmpget = (port: number, community: string, oids: string[]) =>
  run('snmpget', ['-v2c', '-c', community, '-On', '-t', '2', '-r', '1', `127.0.0.1:${port}`, ...oids]);
const mbpollFloat = (port: number, unit: number, ref: number) =>
  run('mbpoll', ['-m', 'tcp', '-1', '-o', '2', '-p', String(port), '-a', String(unit), '-t', '3:float', '-B', '-r', String(ref), '-c', '1', '127.0.0.1']);

function withDevices(devices: unknown[]): SiteInventory {
  return SiteInventorySchema.parse({ ...DEMO, devices });
}

suite(`a demo site read from outside${skipNote}`, () => {
  let site: SimSite;
  beforeAll(async () => {
    site = await startSimSite({ inventory: DEMO, bind: 'ephemeral', rngSeed: 3, logger: memoryLogger() });
  });
  afterAll(async () => site?.stop());

  it('reports the ports it bound, in the inventory and the endpoint list', () => {
    const inv = site.inventory();
    const eps = site.endpoints();
    expect(eps.map((e) => [e.device, e.protocol, e.host])).toEqual([
      ['pdu-r01-a', 'snmp', '127.0.0.1'],
      ['meter-incomer-1', 'modbus', '127.0.0.1'],
    ]);
    expect(eps[0]?.community).toBe('public');
    expect(eps[1]?.unit_id).toBe(1);
    for (const e of eps) {
      expect(e.port).toBeGreaterThan(1024);
      expect(inv.devices.find((d) => d.id === e.device)?.address.port).toBe(e.port);
    }
    expect(inv.devices[0]?.address.port).not.toBe(16161);
    expect(DEMO.devices[0]?.address.port).toBe(16161); // the caller's inventory is untouched
  });

  it('PUE from readings polled milliseconds apart matches the truth within 0.5 %', async () => {
    const snmp = site.endpoints().find((e) => e.protocol === 'snmp')!;
    const modbus = site.endpoints().find((e) => e.protocol === 'modbus')!;
    const [it, fac] = await Promise.all([snmpget(snmp.port, 'public', [POWER]), mbpollFloat(modbus.port, 1, 53)]);
    const now = Date.now();
    const itW = snmpInt(parseSnmpOutput(it.stdout).get(POWER)) * 10;
    const facilityW = parseMbpoll(fac.stdout).get(53)!;
    const truth = site.truth(now);
    expect(truth.pue).toBeGreaterThanOrEqual(1.15);
    expect(truth.pue).toBeLessThanOrEqual(1.35);
    expect(Math.abs(facilityW / itW / truth.pue - 1)).toBeLessThan(0.005);
    expect(truth.it_power_w).toBeCloseTo(truth.devices['pdu-r01-a']!.power_w, 6);
    expect(truth.facility_power_w).toBeCloseTo(truth.devices['meter-incomer-1']!.power_w, 6);
  });

  it('has no truth before it started', () => {
    expect(() => site.truth(Date.now() - 3_600_000)).toThrow(RangeError);
  });
});

suite(`energy counters advance with power × time (1 simulated hour per second)${skipNote}`, () => {
  let site: SimSite;
  beforeAll(async () => {
    site = await startSimSite({ inventory: DEMO, bind: 'ephemeral', speed: 3600, rngSeed: 8, logger: memoryLogger() });
  });
  afterAll(async () => site?.stop());

  it('over SNMP (tenths of kWh) and Modbus (float32 kWh), within the truth at read time', async () => {
    const snmp = site.endpoints().find((e) => e.protocol === 'snmp')!;
    const modbus = site.endpoints().find((e) => e.protocol === 'modbus')!;
    const read = async () => {
      const before = Date.now();
      const [s, m] = await Promise.all([snmpget(snmp.port, 'public', [ENERGY]), mbpollFloat(modbus.port, 1, 343)]);
      const after = Date.now();
      return { before, after, pdu_kwh: snmpInt(parseSnmpOutput(s.stdout).get(ENERGY)) / 10, meter_kwh: parseMbpoll(m.stdout).get(343)! };
    };
    const first = await read();
    await new Promise((r) => setTimeout(r, 1200));
    const second = await read();
    for (const [reading, device] of [['pdu_kwh', 'pdu-r01-a'], ['meter_kwh', 'meter-incomer-1']] as const) {
      for (const r of [first, second]) {
        // Served values sit between the truth before and after the read (counters only grow);
        // tolerance: half the APC's 0.1 kWh step, and mbpoll printing 6 significant digits.
        const tolerance = (kwh: number) => 0.05 + kwh * 5e-6;
        const lo = site.truth(r.before).devices[device]!.energy_kwh;
        const hi = site.truth(r.after).devices[device]!.energy_kwh;
        expect(r[reading]).toBeGreaterThanOrEqual(lo - tolerance(lo));
        expect(r[reading]).toBeLessThanOrEqual(hi + tolerance(hi));
      }
      const energy = (ts: number) => site.truth(ts).devices[device]!.energy_kwh;
      const delta = second[reading] - first[reading];
      const slack = 2 * (0.05 + second[reading] * 5e-6);
      expect(delta).toBeGreaterThan(0);
      expect(delta).toBeLessThanOrEqual(energy(second.after) - energy(first.before) + slack);
      expect(delta).toBeGreaterThanOrEqual(energy(second.before) - energy(first.after) - slack);
      // And the truth itself grows by power × time.
      const t0 = site.truth(first.before);
      const t1 = site.truth(second.after);
      const hours = (t1.sim_ts - t0.sim_ts) / 3_600_000;
      expect(hours).toBeGreaterThan(1);
      const meanKw = (t0.devices[device]!.power_w + t1.devices[device]!.power_w) / 2000;
      expect((energy(second.after) - energy(first.before)) / (meanKw * hours)).toBeCloseTo(1, 1);
    }
  });
});

suite(`devices sharing one address${skipNote}`, () => {
  let site: SimSite;
  beforeAll(async () => {
    process.env.DCIM_TEST_SIM_COMMUNITY = 'pdu-b-secret';
    const inv = withDevices([
      ...DEMO.devices,
      { id: 'pdu-r01-b', profile: 'apc-rpdu2', rack: 'r01', address: { protocol: 'snmp', host: '127.0.0.1', port: 16161, community: { env: 'DCIM_TEST_SIM_COMMUNITY' } }, meter: { role: 'it', level: 'pdu_out', rated_kw: 12 }, sim: { load_kw: 3 } },
      { id: 'meter-incomer-2', profile: 'eastron-sdm630', hall: 'h1', address: { protocol: 'modbus', host: '127.0.0.1', port: 15020, unit_id: 2 }, meter: { role: 'facility_in', rated_kw: 40 } },
    ]);
    site = await startSimSite({ inventory: inv, bind: 'ephemeral', rngSeed: 2, logger: memoryLogger() });
  });
  afterAll(async () => {
    delete process.env.DCIM_TEST_SIM_COMMUNITY;
    await site?.stop();
  });

  it('share one SNMP agent by community and one Modbus server by unit id', async () => {
    const eps = site.endpoints();
    const port = (device: string) => eps.find((e) => e.device === device)!.port;
    expect(port('pdu-r01-b')).toBe(port('pdu-r01-a'));
    expect(port('meter-incomer-2')).toBe(port('meter-incomer-1'));
    expect(eps.find((e) => e.device === 'pdu-r01-b')?.community).toBe('pdu-b-secret');

    const [a, b, m1, m2] = await Promise.all([
      snmpget(port('pdu-r01-a'), 'public', [POWER]),
      snmpget(port('pdu-r01-b'), 'pdu-b-secret', [POWER]),
      mbpollFloat(port('meter-incomer-1'), 1, 53),
      mbpollFloat(port('meter-incomer-1'), 2, 53),
    ]);
    const truth = site.truth();
    expect(snmpInt(parseSnmpOutput(a.stdout).get(POWER)) * 10).toBeCloseTo(truth.devices['pdu-r01-a']!.power_w, -2);
    expect(snmpInt(parseSnmpOutput(b.stdout).get(POWER)) * 10).toBeCloseTo(truth.devices['pdu-r01-b']!.power_w, -2);
    // The facility draw is split evenly between the two incomers.
    expect(parseMbpoll(m1.stdout).get(53)).toBeCloseTo(truth.facility_power_w / 2, -1);
    expect(parseMbpoll(m2.stdout).get(53)).toBeCloseTo(truth.facility_power_w / 2, -1);
  });
});

describe('simulated time with a ManualClock', () => {
  const startTwo = async (seedA: number, seedB: number) => {
    const clock = new ManualClock(Date.UTC(2026, 6, 1, 6));
    // One-minute model steps, one per real second.
    const opts = { inventory: DEMO, bind: 'ephemeral' as const, clock, logger: memoryLogger(), speed: 60, tickMs: 60_000 };
    const sites = [await startSimSite({ ...opts, rngSeed: seedA }), await startSimSite({ ...opts, rngSeed: seedB })];
    return { clock, sites };
  };

  it('is deterministic for a seed and moves at `speed` simulated seconds per second', async () => {
    const { clock, sites } = await startTwo(21, 21);
    const start = clock.now();
    for (let i = 0; i < 30; i++) clock.advance(1000);
    const [a, b] = sites.map((s) => s.truth());
    expect(a).toEqual(b);
    expect(a!.sim_ts - start).toBe(30 * 60_000);
    expect(a!.ts).toBe(start + 30_000);
    // What was served 10 s ago is still known, stamped when it began being served.
    expect(sites[0]!.truth(start + 20_500).ts).toBe(start + 20_000);
    await Promise.all(sites.map((s) => s.stop()));
  });

  it('differs between seeds', async () => {
    const { clock, sites } = await startTwo(21, 22);
    clock.advance(60_000);
    const [a, b] = sites.map((s) => s.truth());
    expect(a!.it_power_w).not.toBe(b!.it_power_w);
    await Promise.all(sites.map((s) => s.stop()));
  });

  it('stops its timer on stop()', async () => {
    const { clock, sites } = await startTwo(1, 1);
    await Promise.all(sites.map((s) => s.stop()));
    const before = sites[0]!.truth().sim_ts;
    clock.advance(60_000);
    expect(sites[0]!.truth(clock.now()).sim_ts).toBe(before);
  });
});

describe('start errors', () => {
  const logger = memoryLogger();

  it.each([
    ['speed 0', { speed: 0 }, /speed must be a positive number/],
    ['a negative tick', { tickMs: -1 }, /tickMs must be/],
  ])('refuses %s', async (_label, extra, message) => {
    await expect(startSimSite({ inventory: DEMO, bind: 'ephemeral', logger, ...extra })).rejects.toThrow(message);
  });

  it('names an unknown profile', async () => {
    const inv = withDevices([{ ...DEMO.devices[0], profile: 'no-such-pdu' }]);
    const err = await startSimSite({ inventory: inv, bind: 'ephemeral', logger }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DcimError);
    expect((err as DcimError).code).toBe('DCIM_E_PROFILE_UNKNOWN');
    expect((err as DcimError).message).toMatch(/devices\[0\] \(pdu-r01-a\): unknown profile no-such-pdu/);
  });

  it('refuses a Modbus profile point the model has no value for', async () => {
    const profiles = new Map<string, DeviceProfile>(loadProfiles());
    const sdm = profiles.get('eastron-sdm630')!;
    if (sdm.protocol !== 'modbus') throw new Error('fixture');
    profiles.set('eastron-sdm630', { ...sdm, points: [...sdm.points, { ...sdm.points[0]!, name: 'thd_voltage_l1_pct', address: 234 }] });
    const err = await startSimSite({ inventory: DEMO, profiles, bind: 'ephemeral', logger }).catch((e: unknown) => e);
    expect((err as DcimError).code).toBe('DCIM_E_CONFIG_INVALID');
    expect((err as DcimError).details.join()).toMatch(/meter-incomer-1\): the model has no value for thd_voltage_l1_pct/);
  });

  it('reports a missing community secret', async () => {
    const inv = withDevices([{ ...DEMO.devices[0], address: { ...DEMO.devices[0]!.address, community: { env: 'DCIM_TEST_NO_SUCH_VAR' } } }, DEMO.devices[1]]);
    await expect(startSimSite({ inventory: inv, bind: 'ephemeral', logger })).rejects.toThrow(/DCIM_TEST_NO_SUCH_VAR is not set/);
  });

  it('fails on a busy seed port and releases what it had bound', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const busyPort = (busy.address() as { port: number }).port;
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', () => r()));
    const udpPort = probe.address().port;
    await new Promise<void>((r) => probe.close(() => r()));

    const inv = withDevices([
      { ...DEMO.devices[0], address: { ...DEMO.devices[0]!.address, port: udpPort } },
      { ...DEMO.devices[1], address: { ...DEMO.devices[1]!.address, port: busyPort } },
    ]);
    await expect(startSimSite({ inventory: inv, bind: 'seed', logger })).rejects.toThrow(new RegExp(`cannot listen on 127.0.0.1:${busyPort}/tcp`));
    busy.close();
    // The SNMP agent that did start was stopped: its port binds again.
    const again = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.bind(udpPort, '127.0.0.1', () => resolve());
    });
    again.close();
  });

  it('logs devices it does not simulate', async () => {
    const log = memoryLogger();
    const inv = withDevices([...DEMO.devices, { id: 'sensor-1', profile: 'apc-rpdu2', address: { protocol: 'snmp', host: '127.0.0.1', port: 16162 } }]);
    const site = await startSimSite({ inventory: inv, bind: 'ephemeral', logger: log });
    await site.stop();
    expect(log.lines.find((l) => l.msg === 'device not simulated')).toMatchObject({ device: 'sensor-1', level: 'warn' });
    expect(site.endpoints().map((e) => e.device)).not.toContain('sensor-1');
  });
});
