import { describe, expect, it } from 'vitest';
import { loadProfiles } from '../../profiles/catalogue.js';
import { useService } from '../agent/support/services.js';
import { describeModbusFixtures } from '../agent/support/device-corpus.js';
import { modbusFixtures, startModbusCorpus } from '../agent/modbus/device-corpus.js';

/**
 * Every Modbus fixture of the device corpus (test/fixtures/devices/), served by pymodbus: the agent's
 * reader and `dcim poll` read the values worked out by hand from the device's document, and
 * `dcim poll --detect` names the profile the fixture was written for.
 */
const profiles = loadProfiles();
// Fixtures with a `suite` are read by that suite's own test file.
const fixtures = modbusFixtures().filter((f) => f.suite === undefined);

describe('Modbus device corpus', () => {
  const server = useService('pymodbus', () => startModbusCorpus());

  it('holds a fixture for every Modbus profile it names, each profile known', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(4);
    for (const f of fixtures) expect(profiles.get(f.profile)?.protocol, f.name).toBe('modbus');
  });

  describeModbusFixtures(fixtures, server, {
    title: () => 'dcim poll prints them, and dcim poll --detect names this profile',
    expectDetected(fx, detected) {
      expect(detected.code).toBe(0);
      expect((JSON.parse(detected.stdout) as { suggestion?: { profile: string } }).suggestion?.profile).toBe(fx.profile);
    },
  });
});
