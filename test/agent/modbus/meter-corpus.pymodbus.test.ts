import { describe, expect, it } from 'vitest';
import { loadProfiles, SystemClock, type ModbusProfile, type Reading } from '../../../contract/index.js';
import { ModbusReader } from '../../../agent/modbus/modbus-reader.js';
import { createModbusSerialTransport } from '../../../agent/modbus/modbus-serial-transport.js';
import { inProcessDcim } from '../../cli/support/run-dcim.js';
import { useService } from '../support/services.js';
import { modbusFixtures, startModbusCorpus } from './device-corpus.js';
import { expectHandValues } from './support/corpus-assertions.js';

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
    for (const f of meters) {
      expect(profiles.get(f.profile)?.protocol, f.name).toBe('modbus');
      expect(profiles.get(f.profile)?.class, f.name).toBe('meter');
      expect(typeof f.detect, `${f.name}: expected.yaml says whether detection can name it`).toBe('boolean');
    }
  });

  describe.each(meters.map((f) => [f.name, f] as const))('%s', (_name, fx) => {
    it('the agent reads the hand-worked values', async () => {
      const transport = createModbusSerialTransport({ host: '127.0.0.1', port: server().port, framing: 'tcp', timeoutMs: 1000 });
      const reader = new ModbusReader({ profile: profiles.get(fx.profile) as ModbusProfile, transport, unitId: fx.unit_id, policy: { timeoutMs: 1000, retries: 0 }, clock: new SystemClock() });
      try {
        expectHandValues((await reader.read()).readings, fx);
      } finally {
        await reader.close();
      }
    });

    it(fx.detect ? 'dcim poll prints them, and dcim poll --detect names this profile' : 'dcim poll prints them; dcim poll --detect names no profile (no identification registers)', async () => {
      const at = ['--host', '127.0.0.1', '--port', String(server().port), '--unit-id', String(fx.unit_id)];
      const polled = await inProcessDcim(['poll', '--profile', fx.profile, ...at]);
      expect([polled.code, polled.stderr]).toEqual([0, '']);
      expectHandValues((JSON.parse(polled.stdout) as { readings: Reading[] }).readings, fx);
      const detected = await inProcessDcim(['poll', '--detect', ...at]);
      if (fx.detect) {
        expect(detected.code).toBe(0);
        expect((JSON.parse(detected.stdout) as { suggestion?: { profile: string } }).suggestion?.profile).toBe(fx.profile);
      } else {
        // Nothing to recognise it by: detection must not guess another meter's profile.
        const suggested = detected.code === 0 ? (JSON.parse(detected.stdout) as { suggestion?: { profile: string } }).suggestion?.profile : undefined;
        expect(suggested).toBeUndefined();
      }
    });
  });
});
