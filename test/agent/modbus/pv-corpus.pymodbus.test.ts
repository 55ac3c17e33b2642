import { describe, expect, it } from 'vitest';
import { loadProfiles, SystemClock, type ModbusProfile, type Reading } from '../../../contract/index.js';
import { ModbusReader } from '../../../agent/modbus/modbus-reader.js';
import { createModbusSerialTransport } from '../../../agent/modbus/modbus-serial-transport.js';
import { inProcessDcim } from '../../cli/support/run-dcim.js';
import { useService } from '../support/services.js';
import { modbusFixtures, startModbusCorpus, type ModbusFixture } from './device-corpus.js';

/**
 * The PV inverters of the device corpus that speak a vendor register map rather than SunSpec
 * (test/fixtures/devices/pv-*): served by pymodbus, read by the agent's reader and `dcim poll` to
 * the values worked out by hand from the vendor's interface definitions, found by
 * `dcim poll --detect` through the profile's identification registers, and a register the
 * inverter marks "not available" never comes out `good`.
 */
const profiles = loadProfiles();
const fixtures = modbusFixtures().filter((f) => f.name.startsWith('pv-'));

function expectHandValues(readings: readonly Pick<Reading, 'point' | 'value' | 'quality' | 'error'>[], fx: ModbusFixture) {
  expect(readings.map((r) => r.point).sort()).toEqual(Object.keys(fx.readings).sort());
  for (const r of readings) {
    const want = fx.readings[r.point];
    if (want === null) expect([r.point, r.quality === 'good', r.value ?? null, r.error]).toEqual([r.point, false, null, 'DCIM_E_VALUE_UNAVAILABLE']);
    else if (typeof want === 'number') {
      expect([r.point, r.quality, r.error]).toEqual([r.point, 'good', undefined]);
      expect(Math.abs((r.value as number) - want), `${r.point}: ${String(r.value)} vs ${want}`).toBeLessThanOrEqual(Math.abs(want) * 1e-9);
    } else expect([r.point, r.quality, r.value]).toEqual([r.point, 'good', want]);
  }
}

describe('PV inverter corpus (vendor register maps)', () => {
  const server = useService('pymodbus', () => startModbusCorpus());

  it('holds the Huawei SUN2000 fixture, with a KPI power and energy and one value marked not available', () => {
    const sun = fixtures.find((f) => f.name === 'pv-huawei-sun2000');
    expect(sun?.profile).toBe('huawei-sun2000');
    expect(Object.entries(sun?.readings ?? {}).filter(([, v]) => v === null).length).toBeGreaterThanOrEqual(1);
    expect(typeof sun?.readings.active_power_w).toBe('number');
    expect(typeof sun?.readings.energy_kwh).toBe('number');
  });

  describe.each(fixtures.map((f) => [f.name, f] as const))('%s', (_name, fx) => {
    it('the agent reads the hand-worked values', async () => {
      const transport = createModbusSerialTransport({ host: '127.0.0.1', port: server().port, framing: 'tcp', timeoutMs: 1000 });
      const reader = new ModbusReader({ profile: profiles.get(fx.profile) as ModbusProfile, transport, unitId: fx.unit_id, policy: { timeoutMs: 1000, retries: 0 }, clock: new SystemClock() });
      try {
        expectHandValues((await reader.read()).readings, fx);
      } finally {
        await reader.close();
      }
    });

    it('dcim poll prints them, and dcim poll --detect names this profile by its identification registers', async () => {
      const at = ['--host', '127.0.0.1', '--port', String(server().port), '--unit-id', String(fx.unit_id)];
      const polled = await inProcessDcim(['poll', '--profile', fx.profile, ...at]);
      expect([polled.code, polled.stderr]).toEqual([0, '']);
      expectHandValues((JSON.parse(polled.stdout) as { readings: Reading[] }).readings, fx);
      const detected = await inProcessDcim(['poll', '--detect', ...at]);
      expect(detected.code, detected.stderr).toBe(0);
      const json = JSON.parse(detected.stdout) as { suggestion?: { profile: string }; next?: string };
      expect(json.suggestion?.profile).toBe(fx.profile);
      expect(json.next).toContain(`--profile ${fx.profile}`);
    });
  });
});
