import { describe, expect, it } from 'vitest';
import { loadProfiles } from '../../profiles/catalogue.js';
import { useService } from '../agent/support/services.js';
import { describeModbusFixtures, expectDetectedAsFixture } from '../agent/support/device-corpus.js';
import { modbusFixtures, startModbusCorpus } from '../agent/modbus/device-corpus.js';

/**
 * The power meters of the device corpus (expected.yaml `suite: meters`), served by pymodbus: the
 * agent's reader and `dcim poll` read the values worked out by hand from each meter's register
 * map; a value the map marks "not available" is not good; `dcim poll --detect` names the profile
 * where the meter has identification registers, and names no profile where it has none.
 */
const profiles = loadProfiles();
const meters = modbusFixtures().filter((f) => f.suite === 'meters');

describe('Modbus meter corpus', () => {
  const server = useService('pymodbus', () => startModbusCorpus());

  it('holds the Acrel ADW300 and DTSD1352, Schneider iEM3000, ABB B2x and Janitza UMG 96RM fixtures, each a known meter profile', () => {
    expect(meters.map((f) => f.profile)).toEqual(expect.arrayContaining(['acrel-adw300', 'acrel-dtsd1352', 'schneider-iem3000', 'abb-eq-b2x', 'janitza-umg96rm']));
    expect(meters.map((f) => f.profile)).toEqual(expect.arrayContaining(['eastron-sdm630', 'eastron-sdm120', 'wattnode-wnd', 'carlo-gavazzi-em24-e1']));
    for (const f of meters) {
      expect(profiles.get(f.profile)?.protocol, f.name).toBe('modbus');
      expect(profiles.get(f.profile)?.class, f.name).toBe('meter');
      expect(typeof f.detect, `${f.name}: expected.yaml says whether detection can name it`).toBe('boolean');
    }
  });

  describeModbusFixtures(meters, server, {
    title: (fx) => (fx.detect ? 'dcim poll prints them, and dcim poll --detect names this profile' : 'dcim poll prints them; dcim poll --detect names no profile (no identification registers)'),
    expectDetected: expectDetectedAsFixture,
  });
});
