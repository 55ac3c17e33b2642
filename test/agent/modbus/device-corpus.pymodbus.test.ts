import { describe, expect, it } from 'vitest';
import { loadProfiles, SystemClock, type ModbusProfile, type Reading } from '../../../contract/index.js';
import { ModbusReader } from '../../../agent/modbus/modbus-reader.js';
import { createModbusSerialTransport } from '../../../agent/modbus/modbus-serial-transport.js';
import { inProcessDcim } from '../../cli/support/run-dcim.js';
import { useService } from '../support/services.js';
import { modbusFixtures, startModbusCorpus } from './device-corpus.js';
import { expectHandValues } from './support/corpus-assertions.js';

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

    it('dcim poll prints them, and dcim poll --detect names this profile', async () => {
      const at = ['--host', '127.0.0.1', '--port', String(server().port), '--unit-id', String(fx.unit_id)];
      const polled = await inProcessDcim(['poll', '--profile', fx.profile, ...at]);
      expect([polled.code, polled.stderr]).toEqual([0, '']);
      expectHandValues((JSON.parse(polled.stdout) as { readings: Reading[] }).readings, fx);
      const detected = await inProcessDcim(['poll', '--detect', ...at]);
      expect(detected.code).toBe(0);
      expect((JSON.parse(detected.stdout) as { suggestion?: { profile: string } }).suggestion?.profile).toBe(fx.profile);
    });
  });
});
