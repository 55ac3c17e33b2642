import dgram from 'node:dgram';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DcimError, ManualClock, SiteInventorySchema, type DeviceProfile, type SiteInventory } from '../../contract/index.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { loadYamlFile } from '../../shared/config/load.js';
import { memoryLogger } from '../../shared/log.js';
import { noiseAmplitude } from '../../simulators/encode/measurement-noise.js';
import { startSimSite, type SimSite } from '../../simulators/index.js';
import { missingTools, parseMbpoll, parseSnmpOutput, run, snmpInt } from './external-tools.js';
import { pymodbusOrSkip, pymodbusRtuRead } from './modbus-wire.js';

/**
 * The demo seed served from its profiles, read from outside with the tools an operator uses:
 * snmpget (v2c and v3 authPriv), mbpoll in both word orders and as a scaled int32, pymodbus
 * over RTU framing. Every number is checked against the ground truth (or the served values)
 * of the instant it was read.
 */
const DEMO_FILE = new URL('../../seeds/demo.yaml', import.meta.url).pathname;
const DEMO = loadYamlFile(SiteInventorySchema, DEMO_FILE);
const MINIMAL = loadYamlFile(SiteInventorySchema, new URL('../../seeds/minimal.yaml', import.meta.url).pathname);
const APC = '1.3.6.1.4.1.318.1.1.26';
const UPS_OUTPUT = '1.3.6.1.2.1.33.1.4.4.1';

const missing = missingTools(['snmpget', 'snmpwalk', 'mbpoll', 'curl']);
const suite = missing.length > 0 ? describe.skip : describe;
const skipNote = missing.length > 0 ? ` (skipped: ${missing.join(', ')} not on PATH)` : '';
const python = await pymodbusOrSkip();
const withPymodbus = python ? it : it.skip;

const V3_UPS = { version: '3', user: 'dcim-ops', auth_protocol: 'sha256', auth_key: 'demo-auth-key-1', priv_protocol: 'aes', priv_key: 'demo-priv-key-1', context: 'ups-1a' } as const;

/** The demo with UPS 1a reached over SNMPv3 authPriv, by context, on the same port. */
function demoWithV3(): SiteInventory {
  return SiteInventorySchema.parse({
    ...DEMO,
    devices: DEMO.devices.map((d) => (d.id === 'ups-1a' && d.address.protocol === 'snmp' ? { ...d, address: { protocol: 'snmp', host: d.address.host, port: d.address.port, ...V3_UPS } } : d)),
  });
}

const snmpget = (port: number, community: string, oids: string[]) => run('snmpget', ['-v2c', '-c', community, '-On', '-t', '2', '-r', '1', `127.0.0.1:${port}`, ...oids]);
const mbpoll = (port: number, args: string[]) => run('mbpoll', ['-m', 'tcp', '-1', '-o', '2', '-p', String(port), ...args, '127.0.0.1']);

/**
 * A value read between `before` and `after` lies between the truths of those instants (± slack).
 * Power is a live point: the served reading carries measurement noise of at most
 * noiseAmplitude(truth, one step of its register) on top; counters carry none.
 */
function between(site: SimSite, device: string, before: number, after: number, field: 'power_w' | 'energy_kwh', value: number, slack: number, lsb = 0): void {
  const a = site.truth(before).devices[device]![field];
  const b = site.truth(after).devices[device]![field];
  const noise = field === 'power_w' ? noiseAmplitude(Math.max(Math.abs(a), Math.abs(b)), lsb) : 0;
  expect(value, `${device} ${field}`).toBeGreaterThanOrEqual(Math.min(a, b) - slack - noise);
  expect(value, `${device} ${field}`).toBeLessThanOrEqual(Math.max(a, b) + slack + noise);
}

suite(`the demo site read from outside${skipNote}`, () => {
  let site: SimSite;
  const port = (device: string) => site.endpoints().find((e) => e.device === device)!.port;

  beforeAll(async () => {
    site = await startSimSite({ inventory: demoWithV3(), file: DEMO_FILE, bind: 'ephemeral', rngSeed: 3, logger: memoryLogger() });
  });
  afterAll(async () => site?.stop());

  it('reports every device where it listens, and the bound ports in its inventory', () => {
    const eps = site.endpoints();
    const modelled = eps.map((e) => e.device);
    expect(modelled).toContain('pdu-r01-a');
    expect(modelled).toContain('th-r01');
    const inv = site.inventory();
    for (const e of eps) {
      expect(e.host).toBe('127.0.0.1');
      expect(inv.devices.find((d) => d.id === e.device)?.address.port).toBe(e.port);
    }
    expect(eps.find((e) => e.device === 'ups-1a')).toMatchObject({ protocol: 'snmp', snmp_version: '3', user: 'dcim-ops', context: 'ups-1a' });
    expect(eps.find((e) => e.device === 'th-r01')).toMatchObject({ protocol: 'modbus', transport: 'rtu_over_tcp' });
    expect(DEMO.devices[0]?.address.port).toBe(16161); // the caller's inventory is untouched
    const listeners = site.listeners();
    expect(listeners.filter((l) => l.protocol === 'snmp')).toHaveLength(1);
    expect(listeners.find((l) => l.transport === 'rtu_over_tcp')?.devices).toBe(eps.filter((e) => e.transport === 'rtu_over_tcp').length);
  });

  it('snmpget v2c reads the APC PDU power and energy of the truth (PowerNet-MIB scalings)', async () => {
    const before = Date.now();
    const r = await snmpget(port('pdu-r01-a'), 'public', [`${APC}.4.3.1.5.1`, `${APC}.4.3.1.9.1`]);
    const after = Date.now();
    const got = parseSnmpOutput(r.stdout);
    // Hundredths of kW and tenths of kWh.
    between(site, 'pdu-r01-a', before, after, 'power_w', snmpInt(got.get(`${APC}.4.3.1.5.1`)) * 10, 5, 10);
    between(site, 'pdu-r01-a', before, after, 'energy_kwh', snmpInt(got.get(`${APC}.4.3.1.9.1`)) / 10, 0.05);
  });

  it('snmpwalk v3 authPriv (SHA-256 + AES-128) reads the UPS output lines by context, summing to its power', async () => {
    const before = Date.now();
    const r = await run('snmpwalk', ['-v3', '-l', 'authPriv', '-u', V3_UPS.user, '-a', 'SHA-256', '-A', V3_UPS.auth_key, '-x', 'AES', '-X', V3_UPS.priv_key, '-n', 'ups-1a', '-On', '-t', '2', '-r', '1', `127.0.0.1:${port('ups-1a')}`, `${UPS_OUTPUT}.4`]);
    const after = Date.now();
    expect(r.stderr).toBe('');
    const lines = [...parseSnmpOutput(r.stdout).values()].map(snmpInt);
    expect(lines.length).toBeGreaterThanOrEqual(1);
    // Each line's power is live: noise of up to 0.2 % of its share (one watt at least).
    between(site, 'ups-1a', before, after, 'power_w', lines.reduce((a, b) => a + b, 0), 3 * lines.length, lines.length);
  });

  it('mbpoll reads float32 ABCD (Eastron SDM630) and float32 CDAB (WattNode) power of the truth', async () => {
    const before = Date.now();
    const sdm = parseMbpoll((await mbpoll(port('meter-incomer-1'), ['-a', '1', '-t', '3:float', '-B', '-r', '53', '-c', '1'])).stdout).get(53)!;
    const wnd = parseMbpoll((await mbpoll(port('meter-green-feed'), ['-a', '3', '-t', '4:float', '-r', '1009', '-c', '1'])).stdout).get(1009)!;
    const after = Date.now();
    // mbpoll prints 6 significant digits.
    between(site, 'meter-incomer-1', before, after, 'power_w', sdm, sdm * 1e-5);
    between(site, 'meter-green-feed', before, after, 'power_w', wnd, wnd * 1e-5);
  });

  it('mbpoll reads a scaled int32 CDAB energy counter (Carlo Gavazzi EM24, tenths of kWh)', async () => {
    const before = Date.now();
    const raw = parseMbpoll((await mbpoll(port('meter-cooling'), ['-a', '4', '-t', '3:int', '-r', '53', '-c', '1'])).stdout).get(53)!;
    const after = Date.now();
    between(site, 'meter-cooling', before, after, 'energy_kwh', raw / 10, 0.05);
  });

  withPymodbus('pymodbus reads a rack inlet sensor over RTU framing (XY-MD02, tenths of °C)', async () => {
    const served = site.servedQuantities('th-r03')!.values;
    const [r] = await pymodbusRtuRead(python!, port('th-r03'), [['input', 3, 1, 2]]);
    expect(r).toHaveProperty('registers');
    const [temp, rh] = (r as { registers: number[] }).registers;
    expect(temp! / 10).toBeCloseTo(Number(served.inlet_temp_c), 0);
    expect(temp! / 10).toBeGreaterThan(15);
    expect(temp! / 10).toBeLessThan(40);
    expect(rh! / 10).toBeCloseTo(Number(served.humidity_pct), 0);
  });

  it('curl reads a GPU server over Redfish: chassis power of the truth, one member per GPU', async () => {
    const bmc = site.endpoints().find((e) => e.device === 'gpu-r11-1')!;
    expect(bmc).toMatchObject({ protocol: 'redfish', scheme: 'http' });
    const base = `http://127.0.0.1:${bmc.port}`;
    const before = Date.now();
    const env = JSON.parse((await run('curl', ['-s', '--max-time', '2', '-u', 'admin:sim', `${base}/redfish/v1/Chassis/1/EnvironmentMetrics`])).stdout) as { PowerWatts: { Reading: number }; EnergykWh: { Reading: number } };
    const after = Date.now();
    between(site, 'gpu-r11-1', before, after, 'power_w', env.PowerWatts.Reading, 0.01);
    between(site, 'gpu-r11-1', before, after, 'energy_kwh', env.EnergykWh.Reading, 0.001);
    const procs = JSON.parse((await run('curl', ['-s', '--max-time', '2', '-u', 'admin:sim', `${base}/redfish/v1/Systems/1/Processors`])).stdout) as { Members: { '@odata.id': string }[] };
    const gpus = site.servedQuantities('gpu-r11-1')!.rows.gpu!;
    const first = JSON.parse((await run('curl', ['-s', '--max-time', '2', '-u', 'admin:sim', `${base}${procs.Members[0]!['@odata.id']}`])).stdout) as { Model: string; ProcessorType: string };
    expect(procs.Members.length).toBeGreaterThanOrEqual(gpus.size);
    expect(first).toMatchObject({ ProcessorType: 'GPU', Model: gpus.get(1)!.gpu_model });
    const denied = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '2', `${base}/redfish/v1/Chassis/1/EnvironmentMetrics`]);
    expect(denied.stdout).toBe('401');
  });

  it('keeps the truth of a site in a realistic PUE band, and none before it started', () => {
    const t = site.truth();
    expect(t.live.pue).toBeGreaterThan(1.05);
    expect(t.live.pue).toBeLessThan(1.6);
    expect(t.pue).toBe(t.live.pue);
    expect(() => site.truth(Date.now() - 3_600_000)).toThrow(RangeError);
  });
});

suite(`energy counters advance with power × time (1 simulated hour per second)${skipNote}`, () => {
  let site: SimSite;
  beforeAll(async () => {
    site = await startSimSite({ inventory: MINIMAL, bind: 'ephemeral', speed: 3600, rngSeed: 8, logger: memoryLogger() });
  });
  afterAll(async () => site?.stop());

  it('over SNMP (tenths of kWh) and Modbus (float32 kWh), within the truth at read time', async () => {
    const snmp = site.endpoints().find((e) => e.device === 'pdu-r01-a')!;
    const modbus = site.endpoints().find((e) => e.device === 'meter-incomer-1')!;
    const read = async () => {
      const before = Date.now();
      const e1 = snmpInt(parseSnmpOutput((await snmpget(snmp.port, 'public', [`${APC}.4.3.1.9.1`])).stdout).get(`${APC}.4.3.1.9.1`)) / 10;
      const e2 = parseMbpoll((await mbpoll(modbus.port, ['-a', '1', '-t', '3:float', '-B', '-r', '73', '-c', '1'])).stdout).get(73)!;
      return { before, after: Date.now(), e1, e2 };
    };
    const a = await read();
    await new Promise((r) => setTimeout(r, 1200));
    const b = await read();
    for (const x of [a, b]) {
      between(site, 'pdu-r01-a', x.before, x.after, 'energy_kwh', x.e1, 0.05);
      between(site, 'meter-incomer-1', x.before, x.after, 'energy_kwh', x.e2, x.e2 * 1e-5);
    }
    // More than an hour of a ~8 kW load passed between the reads.
    expect(b.e1 - a.e1).toBeGreaterThan(5);
  });
});

describe('a site on a manual clock', () => {
  const opts = (clock: ManualClock) => ({ inventory: MINIMAL, bind: 'ephemeral' as const, clock, speed: 60, logger: memoryLogger() });

  it('is deterministic for a seed and moves at `speed` simulated seconds per second', async () => {
    const c1 = new ManualClock();
    const c2 = new ManualClock();
    const [a, b] = [await startSimSite({ ...opts(c1), rngSeed: 4 }), await startSimSite({ ...opts(c2), rngSeed: 4 })];
    try {
      const t0 = a.truth().sim_ts;
      c1.advance(10_000);
      c2.advance(10_000);
      expect(a.truth().sim_ts - t0).toBe(600_000);
      expect(a.truth().devices).toEqual(b.truth().devices);
      expect(a.servedQuantities('pdu-r01-a')).toEqual(b.servedQuantities('pdu-r01-a'));
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('differs between seeds', async () => {
    const clock = new ManualClock();
    const [a, b] = [await startSimSite({ ...opts(clock), rngSeed: 1 }), await startSimSite({ ...opts(clock), rngSeed: 2 })];
    try {
      clock.advance(5_000);
      expect(a.truth().devices['pdu-r01-a']!.power_w).not.toBe(b.truth().devices['pdu-r01-a']!.power_w);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('runs a fault scripted in the seed at its simulated time, for its simulated duration', async () => {
    const clock = new ManualClock();
    const inv = SiteInventorySchema.parse({
      ...MINIMAL,
      devices: MINIMAL.devices.map((d) => (d.id === 'pdu-r01-a' ? { ...d, sim: { ...d.sim, faults: [{ kind: 'counter_reset', at_s: 600, for_s: 600 }] } } : d)),
    });
    const site = await startSimSite({ ...opts(clock), inventory: inv, rngSeed: 1 });
    const energy = (): [number, number] => [Number(site.servedQuantities('pdu-r01-a')!.values.energy_kwh), site.truth().devices['pdu-r01-a']!.energy_kwh];
    try {
      expect(site.faults('pdu-r01-a')).toMatchObject({ ok: true, value: [{ kind: 'counter_reset', state: 'scheduled' }] });
      const [served0, true0] = energy();
      expect(served0).toBe(true0);
      clock.advance(10_000); // 600 simulated seconds
      expect(site.faults('pdu-r01-a')).toMatchObject({ ok: true, value: [{ state: 'active' }] });
      const [served1, true1] = energy();
      expect(served1).toBeLessThan(1);
      expect(true1).toBeGreaterThan(true0);
      clock.advance(10_000);
      expect(site.faults('pdu-r01-a')).toEqual({ ok: true, value: [] });
      const [served2, true2] = energy();
      expect(served2).toBe(true2);
    } finally {
      await site.stop();
    }
  });

  it('stops its timer on stop()', async () => {
    const clock = new ManualClock();
    const site = await startSimSite({ ...opts(clock), rngSeed: 1 });
    await site.stop();
    const before = site.truth().sim_ts;
    clock.advance(60_000);
    expect(site.truth(clock.now()).sim_ts).toBe(before);
  });
});

describe('start errors, all listed with file and path', () => {
  const logger = memoryLogger();
  const withDevices = (devices: unknown[]): SiteInventory => SiteInventorySchema.parse({ ...MINIMAL, devices });
  const [pdu, meter] = MINIMAL.devices as [SiteInventory['devices'][number], SiteInventory['devices'][number]];

  it.each([
    ['speed 0', { speed: 0 }, /speed must be a positive number/],
    ['a negative tick', { tickMs: -1 }, /tickMs must be/],
  ])('refuses %s', async (_label, extra, message) => {
    await expect(startSimSite({ inventory: MINIMAL, bind: 'ephemeral', logger, ...extra })).rejects.toThrow(message);
  });

  it('names every unknown profile', async () => {
    const inv = withDevices([{ ...pdu, profile: 'no-such-pdu' }, { ...meter, profile: 'no-such-meter' }]);
    const err = (await startSimSite({ inventory: inv, file: 'x.yaml', bind: 'ephemeral', logger }).catch((e: unknown) => e)) as DcimError;
    expect(err).toBeInstanceOf(DcimError);
    expect(err.code).toBe('DCIM_E_PROFILE_UNKNOWN');
    expect(err.details).toEqual(['x.yaml: devices[0] (pdu-r01-a): unknown profile no-such-pdu', 'x.yaml: devices[1] (meter-incomer-1): unknown profile no-such-meter']);
  });

  it('refuses a Modbus profile point the model has no value for', async () => {
    const profiles = new Map<string, DeviceProfile>(loadProfiles());
    const sdm = profiles.get('eastron-sdm630')!;
    if (sdm.protocol !== 'modbus') throw new Error('fixture');
    profiles.set('eastron-sdm630', { ...sdm, points: [...sdm.points, { ...sdm.points[0]!, name: 'thd_voltage_l1_pct', address: 234 }] });
    const err = (await startSimSite({ inventory: MINIMAL, profiles, bind: 'ephemeral', logger }).catch((e: unknown) => e)) as DcimError;
    expect(err.code).toBe('DCIM_E_CONFIG_INVALID');
    expect(err.details.join()).toMatch(/meter-incomer-1\): the model has no value for thd_voltage_l1_pct/);
  });

  it('reports a missing community secret', async () => {
    const inv = withDevices([{ ...pdu, address: { ...pdu.address, community: { env: 'DCIM_TEST_NO_SUCH_VAR' } } }, meter]);
    await expect(startSimSite({ inventory: inv, bind: 'ephemeral', logger })).rejects.toThrow(/DCIM_TEST_NO_SUCH_VAR is not set/);
  });

  it('lists every fault a seed scripts wrongly, with file and path', async () => {
    const inv = withDevices([
      { ...pdu, sim: { load_kw: 8, faults: [{ kind: 'modbus_exception', code: 'server_device_busy' }, { kind: 'clock_skew', skew_s: 60 }] } },
      { ...meter, sim: { faults: [{ kind: 'counter_rollover' }] } },
    ]);
    const err = (await startSimSite({ inventory: inv, file: 's.yaml', bind: 'ephemeral', logger }).catch((e: unknown) => e)) as DcimError;
    expect(err.code).toBe('DCIM_E_CONFIG_INVALID');
    expect(err.details).toEqual([
      's.yaml: devices[0].sim.faults[0]: a Modbus exception needs a Modbus device; this one speaks snmp',
      's.yaml: devices[0].sim.faults[1]: a clock skew shows only where time is on the wire (SNMPv3 engine time, Redfish DateTime); this device speaks snmp v2c',
      's.yaml: devices[1].sim.faults[0]: none of its counters (energy_kwh) wraps: floats and JSON numbers have no maximum; declare counter_max in the profile',
    ]);
  });

  it('refuses Modbus TCP and RTU devices on one port', async () => {
    const inv = withDevices([pdu, meter, { id: 'th-1', profile: 'xy-md02-th', rack: 'r01', address: { ...meter.address, unit_id: 2, transport: 'rtu_over_tcp' } }]);
    await expect(startSimSite({ inventory: inv, bind: 'ephemeral', logger })).rejects.toThrow(/must share a transport, found tcp and rtu_over_tcp/);
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
      { ...pdu, address: { ...pdu.address, port: udpPort } },
      { ...meter, address: { ...meter.address, port: busyPort } },
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
    // A meter without a role measures nothing the model knows.
    const inv = withDevices([...MINIMAL.devices, { id: 'spare-meter', profile: 'eastron-sdm630', hall: 'h1', address: { ...meter.address, unit_id: 9 } }]);
    const site = await startSimSite({ inventory: inv, bind: 'ephemeral', logger: log });
    await site.stop();
    expect(log.lines.find((l) => l.msg === 'device not simulated')).toMatchObject({ device: 'spare-meter', level: 'warn' });
    expect(site.endpoints().map((e) => e.device)).not.toContain('spare-meter');
  });
});
