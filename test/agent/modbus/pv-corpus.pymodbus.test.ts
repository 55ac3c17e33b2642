import { describe, expect, it } from 'vitest';
import { useService } from '../support/services.js';
import { describeModbusFixtures } from '../support/device-corpus.js';
import { modbusFixtures, startModbusCorpus } from './device-corpus.js';

/**
 * The PV inverters of the device corpus that speak a vendor register map rather than SunSpec
 * (test/fixtures/devices/pv-*): served by pymodbus, read by the agent's reader and `dcim poll` to
 * the values worked out by hand from the vendor's interface definitions, found by
 * `dcim poll --detect` through the profile's identification registers, and a register the
 * inverter marks "not available" never comes out `good`.
 */
const fixtures = modbusFixtures().filter((f) => f.name.startsWith('pv-'));

describe('PV inverter corpus (vendor register maps)', () => {
  const server = useService('pymodbus', () => startModbusCorpus());

  it('holds the Huawei SUN2000 fixture, with a KPI power and energy and one value marked not available', () => {
    const sun = fixtures.find((f) => f.name === 'pv-huawei-sun2000');
    expect(sun?.profile).toBe('huawei-sun2000');
    expect(Object.entries(sun?.readings ?? {}).filter(([, v]) => v === null).length).toBeGreaterThanOrEqual(1);
    expect(typeof sun?.readings.active_power_w).toBe('number');
    expect(typeof sun?.readings.energy_kwh).toBe('number');
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
