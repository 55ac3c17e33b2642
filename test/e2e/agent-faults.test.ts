import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReadingSchema, SiteInventorySchema, SystemClock, type DeviceStatus, type SiteInventory } from '../../contract/index.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { loadYamlFile } from '../../shared/config/load.js';
import { memoryLogger } from '../../shared/log.js';
import type { DeviceReader, PollResult, RequestPolicy } from '../../agent/device-reader.js';
import { judgePoll } from '../../agent/device-status.js';
import { selectDevices, type AgentDevice } from '../../agent/devices.js';
import type { ModbusTransport } from '../../agent/modbus/modbus-transport.js';
import { createDeviceReader } from '../../agent/reader-factory.js';
import { Scheduler } from '../../agent/scheduler.js';
import { SnmpSocketPool } from '../../agent/snmp/snmp-socket-pool.js';
import { ControlServer } from '../../simulators/control/control-server.js';
import { noiseAmplitude } from '../../simulators/encode/measurement-noise.js';
import { startSimSite, type SimSite } from '../../simulators/index.js';
import { offsetFromSlot } from '../support/slot-offset.js';
import { repoPath } from '../support/repo-path.js';
import { until } from '../support/until.js';

/**
 * The readers and the scheduler against the simulator while faults are switched on and off
 * through its control API (HTTP): offline, slow and lossy devices, Modbus exceptions on a
 * meter and on one unit behind an RTU gateway, garbage values, and an SNMPv3 engine whose
 * clock jumps (the agent must resynchronise). Real time, real sockets.
 */
const DEMO = loadYamlFile(SiteInventorySchema, repoPath('seeds', 'demo.yaml'));
const KEEP = ['pdu-r01-a', 'pdu-r03-a', 'pdu-r02-a', 'ups-1a', 'meter-incomer-1', 'meter-cooling', 'th-r01', 'th-r02', 'gpu-r11-1'];
/** Two SNMPv3 devices behind one engine, told apart by context (RFC 3411 contextName). */
const v3 = (context: string, auth: 'sha256' | 'sha512', priv: 'aes' | 'aes256b') =>
  ({ version: '3', user: `dcim-${auth}`, auth_protocol: auth, auth_key: 'fault-test-auth-1', priv_protocol: priv, priv_key: 'fault-test-priv-1', context }) as const;

function inventory(): SiteInventory {
  return SiteInventorySchema.parse({
    ...DEMO,
    devices: DEMO.devices
      .filter((d) => KEEP.includes(d.id))
      .map((d) => {
        if (d.address.protocol !== 'snmp' || (d.id !== 'pdu-r02-a' && d.id !== 'ups-1a')) return d;
        const sec = d.id === 'pdu-r02-a' ? v3('pdu-r02-a', 'sha256', 'aes') : v3('ups-1a', 'sha512', 'aes256b');
        return { ...d, address: { protocol: 'snmp', host: d.address.host, port: d.address.port, ...sec } };
      }),
  });
}

let site: SimSite;
let control: ControlServer;
let pool: SnmpSocketPool;
let devices: AgentDevice[];
const modbusLinks = new Map<string, ModbusTransport>();
const readers = new Map<string, DeviceReader>();

const fault = async (method: 'PUT' | 'DELETE', device: string, kind: string, body: object = {}) => {
  const r = await fetch(`${control.url()}/sites/demo/devices/${device}/faults/${kind}`, { method, ...(method === 'PUT' ? { body: JSON.stringify(body) } : {}) });
  expect(r.status, `${method} ${kind} on ${device}: ${await r.clone().text()}`).toBe(200);
};

function reader(id: string, policy: { snmp?: RequestPolicy; modbus?: RequestPolicy } = {}): DeviceReader {
  const key = `${id}|${JSON.stringify(policy)}`;
  let r = readers.get(key);
  if (!r) {
    const d = devices.find((x) => x.device.id === id) as AgentDevice;
    r = createDeviceReader(d, { clock: new SystemClock(), logger: memoryLogger('error'), snmpPool: pool, modbusLinks, ...policy });
    readers.set(key, r);
  }
  return r;
}
const poll = (id: string, policy: { snmp?: RequestPolicy; modbus?: RequestPolicy } = {}) => reader(id, policy).read({ deadlineAt: Date.now() + 8000 });
const value = (r: PollResult, point: string, index?: string) => r.readings.find((x) => x.point === point && (index === undefined ? !x.index : Object.values(x.index ?? {})[0] === index));

beforeAll(async () => {
  site = await startSimSite({ inventory: inventory(), bind: 'ephemeral', rngSeed: 11, logger: memoryLogger('error') });
  control = new ControlServer({ port: 0, target: { sites: [site], uptimeMs: () => 0 }, logger: memoryLogger('error') });
  await control.start();
  pool = new SnmpSocketPool({ clock: new SystemClock() });
  const sel = selectDevices(site.inventory(), loadProfiles());
  expect(sel.problems).toEqual([]);
  devices = sel.devices;
}, 30_000);

afterAll(async () => {
  await Promise.all([...readers.values()].map((r) => r.close()));
  pool?.close();
  await control?.stop();
  await site?.stop();
});

const fast: RequestPolicy = { timeoutMs: 250, retries: 1 };

describe('faults through the simulator control API, seen by the readers', () => {
  it('every device answers before any fault, SNMPv3 ones included', async () => {
    for (const id of KEEP) expect(judgePoll((await poll(id)).readings), id).toEqual({ state: 'up' });
  });

  it('offline: an SNMP PDU times out after one retry, the others on its port keep answering; back up once removed', async () => {
    await fault('PUT', 'pdu-r01-a', 'offline');
    try {
      const [dead, alive] = await Promise.all([poll('pdu-r01-a', { snmp: fast }), poll('pdu-r03-a', { snmp: fast })]);
      expect(judgePoll(dead.readings)).toEqual({ state: 'down', code: 'DCIM_E_SNMP_TIMEOUT' });
      expect(dead.poll).toMatchObject({ requests: 2, retries: 1, timeouts: 2 });
      expect(judgePoll(alive.readings).state).toBe('up');
    } finally {
      await fault('DELETE', 'pdu-r01-a', 'offline');
    }
    expect(judgePoll((await poll('pdu-r01-a', { snmp: fast })).readings).state).toBe('up');
  });

  it('slow: answers later than the timeout are timeouts; within it, a slow poll', async () => {
    await fault('PUT', 'meter-incomer-1', 'slow', { delay_ms: 200 });
    try {
      const late = await poll('meter-incomer-1', { modbus: { timeoutMs: 100, retries: 0 } });
      expect(judgePoll(late.readings)).toEqual({ state: 'down', code: 'DCIM_E_MODBUS_TIMEOUT' });
      const patient = await poll('meter-incomer-1', { modbus: { timeoutMs: 1000, retries: 0 } });
      expect(judgePoll(patient.readings).state).toBe('up');
      expect(patient.poll.ms).toBeGreaterThanOrEqual(200);
    } finally {
      await fault('DELETE', 'meter-incomer-1', 'slow');
    }
  });

  it('timeout (lost requests): retries recover most polls and are counted', async () => {
    await fault('PUT', 'pdu-r03-a', 'timeout', { probability: 0.4 });
    try {
      const polls = [];
      for (let i = 0; i < 6; i++) polls.push(await poll('pdu-r03-a', { snmp: { timeoutMs: 100, retries: 3 } }));
      expect(polls.reduce((n, p) => n + p.poll.timeouts, 0)).toBeGreaterThan(0);
      expect(polls.reduce((n, p) => n + p.poll.retries, 0)).toBeGreaterThan(0);
      expect(polls.filter((p) => judgePoll(p.readings).state === 'up').length).toBeGreaterThanOrEqual(3);
    } finally {
      await fault('DELETE', 'pdu-r03-a', 'timeout');
    }
  });

  it('Modbus busy (exception 6) is retried then reported; illegal address is reported per point', async () => {
    await fault('PUT', 'meter-cooling', 'modbus_exception', { code: 'server_device_busy' });
    try {
      const r = await poll('meter-cooling', { modbus: { timeoutMs: 500, retries: 1 } });
      expect(judgePoll(r.readings)).toEqual({ state: 'down', code: 'DCIM_E_MODBUS_EXCEPTION' });
      expect(r.poll.retries).toBeGreaterThan(0);
    } finally {
      await fault('DELETE', 'meter-cooling', 'modbus_exception');
    }
    await fault('PUT', 'meter-cooling', 'modbus_exception', { code: 'illegal_data_address' });
    try {
      const r = await poll('meter-cooling');
      expect(r.readings.every((x) => x.error === 'DCIM_E_MODBUS_EXCEPTION')).toBe(true);
    } finally {
      await fault('DELETE', 'meter-cooling', 'modbus_exception');
    }
    expect(judgePoll((await poll('meter-cooling')).readings).state).toBe('up');
  });

  it('one unit failing behind an RTU gateway does not cost its neighbours on the same line', async () => {
    await fault('PUT', 'th-r01', 'modbus_exception', { code: 'gateway_target_failed' });
    await fault('PUT', 'th-r02', 'slow', { delay_ms: 50 });
    try {
      const [bad, good] = await Promise.all([poll('th-r01'), poll('th-r02')]);
      expect(judgePoll(bad.readings)).toEqual({ state: 'down', code: 'DCIM_E_MODBUS_EXCEPTION' });
      expect(judgePoll(good.readings).state).toBe('up');
      const t = good.readings.find((x) => x.point === 'inlet_temp_c')?.value as number;
      expect(Math.abs(t - (site.servedQuantities('th-r02')?.values.inlet_temp_c as number))).toBeLessThan(0.2);
    } finally {
      await fault('DELETE', 'th-r01', 'modbus_exception');
      await fault('DELETE', 'th-r02', 'slow');
    }
  });

  it('garbage values are read as the device sends them, every reading still valid for the contract', async () => {
    await fault('PUT', 'pdu-r03-a', 'garbage', { probability: 1 });
    try {
      // The model applies value faults at its next tick.
      await new Promise((r) => setTimeout(r, 1100));
      const r = await poll('pdu-r03-a');
      for (const x of r.readings) expect(ReadingSchema.safeParse(x).success, JSON.stringify(x)).toBe(true);
      expect(judgePoll(r.readings).state).not.toBe('down');
      const served = site.servedQuantities('pdu-r03-a')?.values.active_power_w as number;
      const read = value(r, 'active_power_w');
      // Served power carries measurement noise drawn per model tick (APC: one 10 W step at least): a poll that straddles a tick differs by up to twice its bound.
      if (read?.quality === 'good') expect(Math.abs((read.value as number) - served)).toBeLessThanOrEqual(10 + 2 * noiseAmplitude(served, 10));
    } finally {
      await fault('DELETE', 'pdu-r03-a', 'garbage');
    }
  });

  it('SNMPv3 engine clock jumps ahead, then back: the reader follows ahead and resynchronises back', async () => {
    expect(judgePoll((await poll('pdu-r02-a')).readings).state).toBe('up');
    // Ahead by a day: the agent adopts the engine time from the authenticated notInTimeWindow report.
    await fault('PUT', 'pdu-r02-a', 'clock_skew', { skew_s: 86_400 });
    try {
      const ahead = await poll('pdu-r02-a');
      expect(judgePoll(ahead.readings)).toEqual({ state: 'up' });
      // Back by 20 hours (the engine rebooted with a wrong clock, an admin set it): net-snmp never
      // moves its notion back, so only the reader's resync gets the device read again.
      await fault('PUT', 'pdu-r02-a', 'clock_skew', { skew_s: 14_400 });
      const back = await poll('pdu-r02-a');
      expect(judgePoll(back.readings)).toEqual({ state: 'up' });
      expect(back.poll.retries).toBe(1);
      // The other v3 device behind the same engine, with its own session, recovers the same way.
      const other = await poll('ups-1a');
      expect(judgePoll(other.readings)).toEqual({ state: 'up' });
    } finally {
      await fault('DELETE', 'pdu-r02-a', 'clock_skew');
    }
    // The fault removed: the clock goes back 4 hours more, and is followed again.
    const after = await poll('pdu-r02-a');
    expect(judgePoll(after.readings)).toEqual({ state: 'up' });
    expect(after.poll.retries).toBe(1);
  });
});

describe('a dead device under the real scheduler', () => {
  it('never delays the others: live devices start on their slots while two dead ones back off', async () => {
    await fault('PUT', 'pdu-r01-a', 'offline');
    await fault('PUT', 'meter-incomer-1', 'offline');
    const starts: { id: string; ts: number }[] = [];
    const statuses = new Map<string, DeviceStatus>();
    // Live devices on other links than the dead ones: devices behind one Modbus connection share
    // its one request in flight, so a dead unit's probe does cost its link neighbours one timeout.
    const ids = ['pdu-r01-a', 'meter-incomer-1', 'pdu-r03-a', 'th-r02', 'gpu-r11-1'];
    const dead = ['pdu-r01-a', 'meter-incomer-1'];
    const live = ['pdu-r03-a', 'th-r02', 'gpu-r11-1'];
    const scheduled = ids.map((id) => {
      // The dead ones time out after 400 ms; the live ones get all the time a loaded machine needs
      // to answer, since what is measured is when their polls start, not how long they take.
      const ms = dead.includes(id) ? 400 : 10_000;
      const r = reader(id, { snmp: { timeoutMs: ms, retries: 1 }, modbus: { timeoutMs: ms, retries: 1 } });
      return { id, intervalMs: 1000, read: (o: Parameters<DeviceReader['read']>[0]) => (starts.push({ id, ts: Date.now() }), r.read(o)) };
    });
    const s = new Scheduler({ devices: scheduled, sink: { poll: () => undefined, status: (d, st) => statuses.set(d, st) }, clock: new SystemClock(), logger: memoryLogger('error'), maxConcurrent: 4, maxJitterMs: 0, backoffMaxMs: 2000 });
    // How late this process's timers fire meanwhile (a peer measured in the same run): a loaded
    // machine delays every timer, the scheduler's included, by about as much.
    let timerLateMs = 0;
    let due = Date.now() + 20;
    const lateness = setInterval(() => {
      timerLateMs = Math.max(timerLateMs, Date.now() - due);
      due = Date.now() + 20;
    }, 20);
    let startedAt = 0;
    let seen = new Map<string, DeviceStatus>();
    try {
      s.start();
      startedAt = Date.now();
      // Each live device up at the same moment (a poll that overruns its one-second deadline on a
      // loaded machine is degraded for a cycle; a dead one never comes up).
      await until('4.3 s, four polls of each live device, and all of them up', () => Date.now() - startedAt >= 4300 && live.every((id) => starts.filter((x) => x.id === id).length >= 4) && live.every((id) => statuses.get(id)?.state === 'up'), 30_000, () => JSON.stringify([...statuses]));
      seen = new Map(statuses);
    } finally {
      clearInterval(lateness);
      await s.stop();
      await fault('DELETE', 'pdu-r01-a', 'offline');
      await fault('DELETE', 'meter-incomer-1', 'offline');
    }
    expect(seen.get('pdu-r01-a')?.state).toBe('down');
    expect(seen.get('meter-incomer-1')?.state).toBe('down');
    for (const id of live) {
      expect(seen.get(id)?.state, id).toBe('up');
      const mine = starts.filter((x) => x.id === id);
      // One poll per slot of a second, each (after the first, when nobody is known dead yet) started
      // well before a dead device's probe (400 ms) could have ended, allowing for how late any
      // timer fired meanwhile: nobody waited for one.
      expect(mine.length, id).toBeGreaterThanOrEqual(4);
      for (const x of mine.slice(1)) expect(offsetFromSlot(x.ts), `${id} started late (timers up to ${timerLateMs} ms late)`).toBeLessThan(300 + timerLateMs);
      const slots = mine.map((x) => Math.round((x.ts - offsetFromSlot(x.ts)) / 1000));
      expect(new Set(slots).size, `${id}: one poll per slot`).toBe(slots.length);
    }
    // Dead devices: a full poll, then probes at growing intervals: at most 3 in 4.3 s, not 4.
    for (const id of dead) expect(starts.filter((x) => x.id === id && x.ts < startedAt + 4300).length, id).toBeLessThanOrEqual(3);
    expect(s.stats().devices['pdu-r01-a']?.probes).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
