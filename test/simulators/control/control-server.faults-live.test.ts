import dgram from 'node:dgram';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SiteInventorySchema, type SiteInventory } from '../../../contract/index.js';
import { loadYamlFile } from '../../../shared/config/load.js';
import { memoryLogger } from '../../../shared/log.js';
import { ControlServer } from '../../../simulators/control/control-server.js';
import { noiseAmplitude } from '../../../simulators/encode/measurement-noise.js';
import { startSimSite, type SimSite } from '../../../simulators/index.js';
import { missingTools, parseMbpoll, parseSnmpOutput, run, snmpInt } from '../external-tools.js';
import { pymodbusOrSkip, pymodbusRtuRead } from '../modbus-wire.js';
import { v2cGet } from '../snmp-wire.js';
import { repoPath } from '../../support/repo-path.js';
import { until } from '../../support/until.js';

/**
 * Every fault switched on and off at run time through the control API, and seen from outside
 * with the clients an operator uses. The site runs at 600× so counters and temperatures move
 * within a test.
 */
const missing = missingTools(['snmpget', 'mbpoll']);
const suite = missing.length > 0 ? describe.skip : describe;
const skipNote = missing.length > 0 ? ` (skipped: ${missing.join(', ')} not on PATH)` : '';
const python = await pymodbusOrSkip();
const netSnmp = createRequire(import.meta.url)('net-snmp') as {
  createV3Session(host: string, user: object, options: object): { get(oids: string[], cb: (e: Error | null) => void): void; close(): void };
  SecurityLevel: Record<string, number>;
  AuthProtocols: Record<string, number>;
  PrivProtocols: Record<string, number>;
};
const withPymodbus = python ? it : it.skip;

const DEMO = loadYamlFile(SiteInventorySchema, repoPath('seeds', 'demo.yaml'));
const APC = '1.3.6.1.4.1.318.1.1.26.4.3.1';
const ENGINE_TIME = '1.3.6.1.6.3.10.2.1.3.0';
const V3 = { version: '3', user: 'dcim-ops', auth_protocol: 'sha256', auth_key: 'demo-auth-key-1', priv_protocol: 'aes', priv_key: 'demo-priv-key-1', context: 'ups-1a' } as const;

function demoWithV3(): SiteInventory {
  return SiteInventorySchema.parse({
    ...DEMO,
    devices: DEMO.devices.map((d) => (d.id === 'ups-1a' && d.address.protocol === 'snmp' ? { ...d, address: { protocol: 'snmp', host: d.address.host, port: d.address.port, ...V3 } } : d)),
  });
}

suite(`faults switched at run time, seen by clients${skipNote}`, () => {
  let site: SimSite;
  let control: ControlServer;
  const port = (device: string) => site.endpoints().find((e) => e.device === device)!.port;
  const unit = (device: string) => site.endpoints().find((e) => e.device === device)!.unit_id!;
  const fault = async (method: 'PUT' | 'DELETE', device: string, kind: string, body: object = {}) => {
    const r = await fetch(`${control.url()}/sites/demo/devices/${device}/faults/${kind}`, { method, ...(method === 'PUT' ? { body: JSON.stringify(body) } : {}) });
    expect(r.status, `${method} ${kind} on ${device}: ${await r.clone().text()}`).toBe(200);
  };
  const snmp = (device: string, oid: string, timeout = '1') => run('snmpget', ['-v2c', '-c', device === 'pdu-r01-a' ? 'public' : device, '-On', '-t', timeout, '-r', '0', `127.0.0.1:${port(device)}`, oid]);
  const snmpValue = async (device: string, oid: string) => snmpInt(parseSnmpOutput((await snmp(device, oid)).stdout).get(oid));
  const mbpoll = (device: string, args: string[]) => run('mbpoll', ['-m', 'tcp', '-1', '-o', '2', '-p', String(port(device)), '-a', String(unit(device)), ...args, '127.0.0.1']);
  const mbValue = async (device: string, args: string[], ref: number) => {
    const r = await mbpoll(device, [...args, '-r', String(ref), '-c', '1']);
    const v = parseMbpoll(r.stdout).get(ref);
    if (v === undefined) throw new Error(`mbpoll read nothing: ${r.stdout} ${r.stderr}`);
    return v;
  };
  const truthAround = async <T>(device: string, read: () => Promise<T>) => {
    const before = site.truth().devices[device]!;
    const value = await read();
    const after = site.truth().devices[device]!;
    return { value, before, after };
  };

  beforeAll(async () => {
    site = await startSimSite({ inventory: demoWithV3(), bind: 'ephemeral', speed: 600, rngSeed: 6, logger: memoryLogger() });
    control = new ControlServer({ port: 0, target: { sites: [site], uptimeMs: () => 0 }, logger: memoryLogger() });
    await control.start();
  });
  afterAll(async () => {
    await control?.stop();
    await site?.stop();
  });

  it('offline: no answer at all, then answers again', async () => {
    await fault('PUT', 'pdu-r02-a', 'offline');
    const r = await snmp('pdu-r02-a', `${APC}.5.1`, '0.5');
    expect(r.stdout + r.stderr).toMatch(/Timeout/);
    await fault('DELETE', 'pdu-r02-a', 'offline');
    expect((await snmp('pdu-r02-a', '1.3.6.1.2.1.1.5.0')).stdout).toMatch(/pdu-r02-a/);
  });

  it('timeout: a share of requests goes unanswered', async () => {
    await fault('PUT', 'pdu-r01-a', 'timeout', { probability: 0.5 });
    const c = dgram.createSocket('udp4');
    let answers = 0;
    c.on('message', () => answers++);
    const probe = v2cGet('public');
    for (let i = 0; i < 40; i++) c.send(probe, port('pdu-r01-a'), '127.0.0.1');
    await new Promise((r) => setTimeout(r, 400));
    c.close();
    expect(answers).toBeGreaterThan(5);
    expect(answers).toBeLessThan(35);
    await fault('DELETE', 'pdu-r01-a', 'timeout');
  });

  it('slow: answers come late, then on time', async () => {
    // A delay well above what starting mbpoll can take on a busy machine, so "on time" is clear.
    await fault('PUT', 'meter-incomer-1', 'slow', { delay_ms: 1500 });
    let t = Date.now();
    await mbValue('meter-incomer-1', ['-t', '3:float', '-B'], 53);
    expect(Date.now() - t).toBeGreaterThanOrEqual(1500);
    await fault('DELETE', 'meter-incomer-1', 'slow');
    t = Date.now();
    await mbValue('meter-incomer-1', ['-t', '3:float', '-B'], 53);
    expect(Date.now() - t).toBeLessThan(1200);
  });

  it.each([
    ['illegal_data_address', /Illegal data address/],
    ['server_device_busy', /Slave device or server is busy/],
  ])('modbus_exception %s: answered instead of the data, then data again', async (code, message) => {
    await fault('PUT', 'meter-incomer-1', 'modbus_exception', { code });
    const r = await mbpoll('meter-incomer-1', ['-t', '3:float', '-B', '-r', '53', '-c', '1']);
    expect(r.stdout + r.stderr).toMatch(message);
    await fault('DELETE', 'meter-incomer-1', 'modbus_exception');
    expect(await mbValue('meter-incomer-1', ['-t', '3:float', '-B'], 53)).toBeGreaterThan(0);
  });

  it('garbage: the power read is nonsense, then true again', async () => {
    await fault('PUT', 'meter-incomer-1', 'garbage');
    const bad = await truthAround('meter-incomer-1', () => mbValue('meter-incomer-1', ['-t', '3:float', '-B'], 53));
    expect(Math.abs(bad.value / bad.before.power_w - 1)).toBeGreaterThan(0.4);
    await fault('DELETE', 'meter-incomer-1', 'garbage');
    const good = await truthAround('meter-incomer-1', () => mbValue('meter-incomer-1', ['-t', '3:float', '-B'], 53));
    // True again: the truth of the instant, plus the measurement noise every live point is served with.
    const noise = noiseAmplitude(Math.max(good.before.power_w, good.after.power_w), 0);
    expect(good.value).toBeGreaterThanOrEqual(Math.min(good.before.power_w, good.after.power_w) * 0.999 - noise);
    expect(good.value).toBeLessThanOrEqual(Math.max(good.before.power_w, good.after.power_w) * 1.001 + noise);
  });

  it('stuck: the counter stops while the truth moves on, then catches up', async () => {
    await fault('PUT', 'pdu-r01-a', 'stuck');
    const a = await snmpValue('pdu-r01-a', `${APC}.9.1`);
    const truthA = site.truth().devices['pdu-r01-a']!.energy_kwh;
    // Until the truth has moved on by more than the counter's 0.1 kWh step, however late the simulator runs.
    await until('the truth moving on', () => site.truth().devices['pdu-r01-a']!.energy_kwh - truthA > 0.3, 30_000, () => String(site.truth().devices['pdu-r01-a']!.energy_kwh - truthA));
    expect(await snmpValue('pdu-r01-a', `${APC}.9.1`)).toBe(a);
    await fault('DELETE', 'pdu-r01-a', 'stuck');
    const after = await truthAround('pdu-r01-a', () => snmpValue('pdu-r01-a', `${APC}.9.1`));
    expect(after.value / 10).toBeGreaterThanOrEqual(after.before.energy_kwh - 0.1);
    expect(after.value / 10).toBeLessThanOrEqual(after.after.energy_kwh + 0.1);
  });

  it('counter_reset: the PDU energy counter restarts from 0 while the truth keeps the true energy', async () => {
    const trueBefore = site.truth().devices['pdu-r01-a']!.energy_kwh;
    await fault('PUT', 'pdu-r01-a', 'counter_reset');
    const reset = (await snmpValue('pdu-r01-a', `${APC}.9.1`)) / 10;
    expect(reset).toBeGreaterThanOrEqual(0);
    expect(reset).toBeLessThan(5);
    expect(site.truth().devices['pdu-r01-a']!.energy_kwh).toBeGreaterThanOrEqual(trueBefore);
    await fault('DELETE', 'pdu-r01-a', 'counter_reset');
    expect((await snmpValue('pdu-r01-a', `${APC}.9.1`)) / 10).toBeGreaterThan(trueBefore - 0.1);
  });

  it('meter_swap: a new meter counts from its start value', async () => {
    await fault('PUT', 'meter-incomer-1', 'meter_swap', { start_kwh: 12.5 });
    const swapped = await mbValue('meter-incomer-1', ['-t', '3:float', '-B'], 73);
    expect(swapped).toBeGreaterThanOrEqual(12.5);
    expect(swapped).toBeLessThan(40);
    await fault('DELETE', 'meter-incomer-1', 'meter_swap');
    expect(await mbValue('meter-incomer-1', ['-t', '3:float', '-B'], 73)).toBeGreaterThan(1000);
  });

  it('counter_rollover: an int32 counter sits just below its maximum, then wraps through 0', async () => {
    await fault('PUT', 'meter-cooling', 'counter_rollover', { headroom_kwh: 20 });
    // Carlo Gavazzi EM24: tenths of kWh in an int32 (CDAB), counter_max 214748364.7 kWh.
    const high = (await mbValue('meter-cooling', ['-t', '3:int'], 53)) / 10;
    expect(high).toBeGreaterThanOrEqual(214_748_364.7 - 20);
    await fault('PUT', 'meter-cooling', 'counter_rollover', { headroom_kwh: 0.5 });
    // 0.5 kWh of headroom is used up within a few simulated seconds: read until the counter has wrapped.
    let wrapped = Number.NaN;
    await until('the counter wrapped through 0', async () => {
      wrapped = (await mbValue('meter-cooling', ['-t', '3:int'], 53)) / 10;
      return wrapped < 214_748_364.7 - 20;
    }, 30_000, () => `last read ${wrapped} kWh`, 200);
    expect(wrapped).toBeGreaterThanOrEqual(0);
    expect(wrapped).toBeLessThan(100);
    await fault('DELETE', 'meter-cooling', 'counter_rollover');
    const back = await truthAround('meter-cooling', async () => (await mbValue('meter-cooling', ['-t', '3:int'], 53)) / 10);
    expect(back.value).toBeGreaterThanOrEqual(back.before.energy_kwh - 0.1);
  });

  it('clock_skew: a long-lived SNMPv3 manager is refused once (authenticated notInTimeWindow report), re-synchronises and reads on', async () => {
    const session = netSnmp.createV3Session(
      '127.0.0.1',
      { name: V3.user, level: netSnmp.SecurityLevel.authPriv, authProtocol: netSnmp.AuthProtocols.sha256, authKey: V3.auth_key, privProtocol: netSnmp.PrivProtocols.aes, privKey: V3.priv_key },
      { port: port('ups-1a'), context: 'ups-1a', timeout: 1000, retries: 0 },
    );
    const get = () => new Promise<string>((resolve) => session.get([ENGINE_TIME], (e) => resolve(e ? e.message : 'ok')));
    const reports = () => {
      const l = site.listeners().find((x) => x.protocol === 'snmp')!;
      return (l.stats as { reports: Record<string, number> }).reports.not_in_time_window ?? 0;
    };
    try {
      expect(await get()).toBe('ok');
      const before = reports();
      await fault('PUT', 'ups-1a', 'clock_skew', { skew_s: 3600 });
      expect(await get()).toBe('ok');
      expect(reports()).toBe(before + 1);
      expect(await get()).toBe('ok');
      expect(reports()).toBe(before + 1);
    } finally {
      await fault('DELETE', 'ups-1a', 'clock_skew');
      session.close();
    }
  });

  it('clock_skew: the SNMPv3 engine time jumps, then returns', async () => {
    const v3 = ['-v3', '-l', 'authPriv', '-u', V3.user, '-a', 'SHA-256', '-A', V3.auth_key, '-x', 'AES', '-X', V3.priv_key, '-n', 'ups-1a', '-On', '-t', '1', '-r', '1', `127.0.0.1:${port('ups-1a')}`, ENGINE_TIME];
    const time = async () => snmpInt(parseSnmpOutput((await run('snmpget', v3)).stdout).get(ENGINE_TIME));
    const t0 = await time();
    await fault('PUT', 'ups-1a', 'clock_skew', { skew_s: 7200 });
    expect((await time()) - t0).toBeGreaterThanOrEqual(7200);
    await fault('DELETE', 'ups-1a', 'clock_skew');
    expect((await time()) - t0).toBeLessThan(60);
  });

  it('clock_skew: a BMC\'s Redfish DateTime and Date header are off, then right', async () => {
    const bmc = site.endpoints().find((e) => e.device === 'gpu-r11-1')!;
    const read = async () => {
      const r = await fetch(`http://127.0.0.1:${bmc.port}/redfish/v1/Managers/1`, { headers: { authorization: `Basic ${Buffer.from('admin:sim').toString('base64')}` } });
      const body = (await r.json()) as { DateTime: string };
      return { dateTime: Date.parse(body.DateTime), header: Date.parse(r.headers.get('date')!) };
    };
    await fault('PUT', 'gpu-r11-1', 'clock_skew', { skew_s: -86_400 });
    const skewed = await read();
    expect(Date.now() - skewed.dateTime).toBeGreaterThan(86_000_000);
    expect(Date.now() - skewed.header).toBeGreaterThan(86_000_000);
    await fault('DELETE', 'gpu-r11-1', 'clock_skew');
    const right = await read();
    expect(Math.abs(Date.now() - right.dateTime)).toBeLessThan(5_000);
  });

  withPymodbus('equipment_failure: the chiller stops, its alarm is set, and the racks it cools warm up', async () => {
    const inlet = async (device: string) => {
      const [r] = await pymodbusRtuRead(python!, port(device), [['input', unit(device), 1, 1]]);
      return (r as { registers: number[] }).registers[0]! / 10;
    };
    // Holding 768 carries the alarm bits; discrete 0 is `running` (off anyway in free cooling).
    expect(await mbValue('chiller-1', ['-t', '4'], 769)).toBe(0);
    // chiller-1 serves pod-a (racks r01-r10); pod-b has its own chiller.
    const [hot0, cool0] = [await inlet('th-r03'), await inlet('th-r13')];
    await fault('PUT', 'chiller-1', 'equipment_failure');
    expect(await mbValue('chiller-1', ['-t', '1'], 1)).toBe(0);
    expect(await mbValue('chiller-1', ['-t', '4'], 769)).not.toBe(0);
    // 600×: two seconds are 20 simulated minutes, several thermal time constants. Read until pod-a has
    // warmed by more than 2 °C beyond pod-b (bounded: a loaded machine runs the simulator late).
    let [hot1, cool1] = [hot0, cool0];
    await until('pod-a warmer without its chiller', async () => {
      [hot1, cool1] = [await inlet('th-r03'), await inlet('th-r13')];
      return hot1 - hot0 > cool1 - cool0 + 2;
    }, 30_000, () => JSON.stringify({ hot0, hot1, cool0, cool1 }), 200);
    expect(hot1 - hot0).toBeGreaterThan(2);
    expect(hot1 - hot0).toBeGreaterThan(cool1 - cool0 + 2);
    await fault('DELETE', 'chiller-1', 'equipment_failure');
    expect(await mbValue('chiller-1', ['-t', '4'], 769)).toBe(0);
  });
});
