import { describe, expect, it } from 'vitest';
import { SystemClock, type ModbusProfile, type Reading } from '../../../contract/index.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { ModbusReader } from '../../../agent/modbus/modbus-reader.js';
import { createModbusSerialTransport } from '../../../agent/modbus/modbus-serial-transport.js';
import { inProcessDcim } from '../../cli/support/run-dcim.js';
import { modbusFixtures, startModbusCorpus, type ModbusFixture } from '../modbus/device-corpus.js';
import { expectHandValues } from '../support/device-corpus.js';
import { useService } from '../support/services.js';

/**
 * The agent's SunSpec client against the device corpus (test/fixtures/devices/, served by
 * pymodbus): each fixture reads to the values worked out by hand from the SunSpec documents,
 * whatever the length of its common model or where its inverter model sits; chains that lie get
 * their code, counted in the poll's faults, and the valid readings of the same poll still arrive.
 */
const profiles = loadProfiles();
const fixtures = modbusFixtures().filter((f) => f.name.startsWith('sunspec'));

function reader(port: number, unitId: number, profile: ModbusProfile) {
  const transport = createModbusSerialTransport({ host: '127.0.0.1', port, framing: 'tcp', timeoutMs: 1000 });
  return new ModbusReader({ profile, transport, unitId, policy: { timeoutMs: 1000, retries: 0 }, clock: new SystemClock() });
}

async function pollOnce(port: number, unitId: number, profile: ModbusProfile) {
  const r = reader(port, unitId, profile);
  try {
    return await r.read();
  } finally {
    await r.close();
  }
}

const byPoint = (rs: readonly Reading[]) => Object.fromEntries(rs.map((r) => [r.point, r.quality === 'good' ? r.value : r.error]));

describe('SunSpec client against the device corpus', () => {
  const server = useService('pymodbus', () => startModbusCorpus());

  it('the corpus has the L 66, L 65, float and multiple-MPPT fixtures', () => {
    expect(fixtures.map((f) => f.name)).toEqual(['sunspec-float-113', 'sunspec-l65-solaredge', 'sunspec-l66', 'sunspec-l66-mppt']);
  });

  describe.each(fixtures.map((f) => [f.name, f] as const))('%s', (_name, fx) => {
    it('the agent reads the hand-worked values', async () => {
      const res = await pollOnce(server().port, fx.unit_id, profiles.get(fx.profile) as ModbusProfile);
      expectHandValues(res.readings, fx);
      expect(res.poll.faults).toBeUndefined();
    });

    it('dcim poll prints the hand-worked values', async () => {
      const ran = await inProcessDcim(['poll', '--profile', fx.profile, '--host', '127.0.0.1', '--port', String(server().port), '--unit-id', String(fx.unit_id)]);
      expect(ran.stderr).toBe('');
      expect(ran.code).toBe(0);
      expectHandValues((JSON.parse(ran.stdout) as { readings: Reading[] }).readings, fx);
    });
  });

  it('walks once: the next poll of the same reader reads the cached layout (fewer requests)', async () => {
    const r = reader(server().port, 2, profiles.get('sunspec-inverter') as ModbusProfile);
    try {
      const first = await r.read();
      const second = await r.read();
      expect(byPoint(second.readings)).toEqual(byPoint(first.readings));
      // The walk: SunS + model 1 header, model 103 header, end model; then the one data read.
      expect(first.poll.requests).toBe(4);
      expect(second.poll.requests).toBe(1);
    } finally {
      await r.close();
    }
  });

  it('model 160: one row per module, counted by the device N once at the walk, not at every poll', async () => {
    const r = reader(server().port, 5, profiles.get('sunspec-inverter') as ModbusProfile);
    try {
      const first = await r.read();
      const second = await r.read();
      const rows = (rs: readonly Reading[]) => rs.filter((x) => x.point === 'dc_module_power_w').map((x) => [x.index, x.value]);
      expect(rows(first.readings)).toEqual([
        [{ module: '1' }, 4051],
        [{ module: '2' }, 4069],
      ]);
      expect(rows(second.readings)).toEqual(rows(first.readings));
      // The walk (SunS + model 1, 103, 160, end) and N: five requests the second poll does not repeat.
      expect(first.poll.requests - second.poll.requests).toBe(5);
    } finally {
      await r.close();
    }
  });

  it('the fixed reference layout reads an L 65 device one register late: the bug the walk fixes', async () => {
    const inv = profiles.get('sunspec-inverter') as ModbusProfile;
    // The same points at the reference chain's absolute addresses (model 103 at 40070), no walk.
    const fixed: ModbusProfile = { ...inv, id: 'fixed', points: inv.points.map(({ model: _m, ...p }) => ({ ...p, ...(p.scale_factor ? { scale_factor: { register: p.scale_factor.register, address: p.scale_factor.address } } : {}) })) };
    const res = await pollOnce(server().port, 2, fixed);
    const v = byPoint(res.readings);
    expect(v.frequency_hz).not.toBe(49.987);
    expect(v.voltage_l1_v).not.toBe(229.05);
  });

  describe('chains that lie', () => {
    const inv = () => profiles.get('sunspec-inverter') as ModbusProfile;
    const l66 = () => fixtures.find((f) => f.name === 'sunspec-l66') as ModbusFixture;

    it.each([
      [21, 'DCIM_E_SUNSPEC_CHAIN_LOOP', 'a map that repeats itself'],
      [22, 'DCIM_E_SUNSPEC_CHAIN_TRUNCATED', 'no end model'],
      [23, 'DCIM_E_SUNSPEC_CHAIN_OVERRUN', 'a length past 65535'],
    ] as const)('unit %i (%s, %s): coded and counted, model 103 still reads right', async (unit, code, _why) => {
      const res = await pollOnce(server().port, unit, inv());
      expect(res.poll.faults).toEqual({ [code]: 1 });
      expectHandValues(res.readings, l66());
    });

    it('dcim poll shows the chain fault beside the readings it still got', async () => {
      const ran = await inProcessDcim(['poll', '--profile', 'sunspec-inverter', '--host', '127.0.0.1', '--port', String(server().port), '--unit-id', '22']);
      expect(ran.code).toBe(0);
      const out = JSON.parse(ran.stdout) as { poll: { faults?: Record<string, number> }; readings: Reading[] };
      expect(out.poll.faults).toEqual({ DCIM_E_SUNSPEC_CHAIN_TRUNCATED: 1 });
      expectHandValues(out.readings, l66());
    });

    it('a loop costs a bounded walk: at most 100 model headers', async () => {
      const res = await pollOnce(server().port, 21, inv());
      expect(res.poll.requests).toBeLessThanOrEqual(1 + 100 + 1);
    });

    it('a chain without an inverter model: every point DCIM_E_SUNSPEC_MODEL_MISSING, nothing good', async () => {
      const res = await pollOnce(server().port, 24, inv());
      expect(new Set(res.readings.map((r) => `${r.quality} ${r.error}`))).toEqual(new Set(['bad DCIM_E_SUNSPEC_MODEL_MISSING']));
    });

    it('not SunSpec at all: DCIM_E_SUNSPEC_NOT_FOUND after 40000, 50000 and 0, counted', async () => {
      const res = await pollOnce(server().port, 26, inv());
      expect(new Set(res.readings.map((r) => r.error))).toEqual(new Set(['DCIM_E_SUNSPEC_NOT_FOUND']));
      expect(res.poll.faults).toEqual({ DCIM_E_SUNSPEC_NOT_FOUND: 1 });
      expect(res.poll.requests).toBe(3);
    });

    it('the integer profile on a float inverter names the missing model instead of reading floats as integers', async () => {
      const res = await pollOnce(server().port, 3, inv());
      expect(new Set(res.readings.map((r) => r.error))).toEqual(new Set(['DCIM_E_SUNSPEC_MODEL_MISSING']));
    });
  });
});
