import { describe, expect, it } from 'vitest';
import type { Reading } from '../../contract/index.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { PlausibilityChecker } from '../../agent/plausibility/plausibility.js';
import { scanModbus } from '../../agent/modbus/modbus-detect.js';
import type { ModbusOutcome, ModbusRegisters, ModbusTransport } from '../../agent/modbus/modbus-transport.js';
import { useService } from '../agent/support/services.js';
import { describeModbusFixtures } from '../agent/support/device-corpus.js';
import { modbusFixtures, startModbusCorpus } from '../agent/modbus/device-corpus.js';

/**
 * The PV inverters of the device corpus that speak a vendor register map rather than SunSpec
 * (test/fixtures/devices/pv-*): served by pymodbus, read by the agent's reader and `dcim poll` to
 * the values worked out by hand from the vendor's interface definitions, found by
 * `dcim poll --detect` through the profile's identification registers, and a register the
 * inverter marks "not available" never comes out `good`.
 */
const fixtures = modbusFixtures().filter((f) => f.name.startsWith('pv-'));
const profiles = loadProfiles();

/** A unit that serves input registers only (a Sungrow inverter's running information). */
function inputDevice(words: Map<number, number>): ModbusTransport {
  return {
    isOpen: true,
    connect: async (): Promise<ModbusOutcome<void>> => ({ ok: true, value: undefined }),
    close: async () => {},
    read: async (_u, kind, address, count): Promise<ModbusOutcome<ModbusRegisters>> => {
      const out: number[] = [];
      for (let a = address; a < address + count; a++) {
        const w = kind === 'input' ? words.get(a) : undefined;
        if (w === undefined) return { ok: false, kind: 'exception', code: 2, message: 'illegal data address' };
        out.push(w);
      }
      return { ok: true, value: { words: out } };
    },
  };
}

describe('PV inverter corpus (vendor register maps)', () => {
  const server = useService('pymodbus', () => startModbusCorpus());

  it('holds the Huawei SUN2000 and Sungrow SG fixtures, each with a KPI power and energy and values marked not available', () => {
    for (const [name, profile] of [
      ['pv-huawei-sun2000', 'huawei-sun2000'],
      ['pv-sungrow-sg', 'sungrow-sg'],
    ] as const) {
      const fx = fixtures.find((f) => f.name === name);
      expect(fx?.profile).toBe(profile);
      expect(Object.entries(fx?.readings ?? {}).filter(([, v]) => v === null).length).toBeGreaterThanOrEqual(1);
      expect(typeof fx?.readings.active_power_w).toBe('number');
      expect(typeof fx?.readings.energy_kwh).toBe('number');
    }
  });

  it('sungrow-sg claims a string inverter by its device type code (register 5000, address 4999), not a hybrid SH', async () => {
    const claimed = async (code: number) => (await scanModbus(inputDevice(new Map([[4999, code]])), 1, 200, profiles)).registers.map((r) => r.profile);
    expect(await claimed(0x2433)).toEqual(['sungrow-sg']); // SG10RT
    expect(await claimed(0x2c0c)).toEqual(['sungrow-sg']); // SG250HX
    expect(await claimed(0x0e02)).toEqual([]); // SH8.0RT: a hybrid, another register map
    expect(await claimed(0xffff)).toEqual([]);
  });

  it.each([
    ['sungrow-sg', { point: 'active_power_w' }],
    ['sungrow-sg', { point: 'dc_power_w' }],
    ['huawei-sun2000', { point: 'active_power_w' }],
    ['sunspec-inverter', { point: 'active_power_w' }],
    ['sunspec-inverter', { point: 'dc_module_power_w', index: { module: '2' } }],
  ] as const)('%s %o is live: frozen non-zero for 60 polls is uncertain (stuck); the 0 W of the night never is', (profile, at) => {
    const polls = (value: number, n: number) => {
      const checker = new PlausibilityChecker(profiles.get(profile)!);
      const reading: Reading = { ...at, value, unit: 'W', quality: 'good' };
      return Array.from({ length: n }, () => checker.check([reading]).readings[0]);
    };
    const day = polls(8540, 60);
    expect(day[58]?.quality).toBe('good');
    expect(day[59]).toMatchObject({ quality: 'uncertain', error: 'DCIM_E_VALUE_STUCK', value: 8540 });
    expect(new Set(polls(0, 600).map((r) => r?.quality))).toEqual(new Set(['good']));
  });

  describeModbusFixtures(fixtures, server, {
    title: () => 'dcim poll prints them, and dcim poll --detect names this profile by its identification registers',
    expectDetected(fx, detected) {
      expect(detected.code, detected.stderr).toBe(0);
      const json = JSON.parse(detected.stdout) as { suggestion?: { profile: string }; next?: string };
      expect(json.suggestion?.profile).toBe(fx.profile);
      expect(json.next).toContain(`--profile ${fx.profile}`);
    },
  });
});
