import { describe, expect, it } from 'vitest';
import { SystemClock, type ModbusProfile, type Reading } from '../../contract/index.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { ModbusReader } from '../../agent/modbus/modbus-reader.js';
import { createModbusSerialTransport } from '../../agent/modbus/modbus-serial-transport.js';
import { withPlausibility } from '../../agent/plausibility/plausible-reader.js';
import { useService } from '../agent/support/services.js';
import { describeModbusFixtures, expectDetectedAsFixture } from '../agent/support/device-corpus.js';
import { modbusFixtures, startModbusCorpus } from '../agent/modbus/device-corpus.js';

/**
 * The cooling units of the device corpus read over Modbus (expected.yaml `suite: cooling`),
 * served by pymodbus: the agent's reader and `dcim poll` read the values worked out by hand from
 * each unit's documents (coils and holding registers); a value the documents rule out is not
 * good; `dcim poll --detect` names the profile where the unit identifies itself and names no
 * profile where it cannot (a pCO's registers mean whatever its program says).
 */
const profiles = loadProfiles();
const units = modbusFixtures().filter((f) => f.suite === 'cooling');

describe('Modbus cooling corpus', () => {
  const server = useService('pymodbus', () => startModbusCorpus());

  it('holds the Carel pCO (UG40 program) fixture, each a known cooling profile', () => {
    expect(units.map((f) => f.profile)).toEqual(expect.arrayContaining(['carel-pco-modbus-ug40']));
    for (const f of units) {
      expect(profiles.get(f.profile)?.protocol, f.name).toBe('modbus');
      expect(['crah', 'chiller']).toContain(profiles.get(f.profile)?.class);
      expect(typeof f.detect, `${f.name}: expected.yaml says whether detection can name it`).toBe('boolean');
    }
  });

  describeModbusFixtures(units, server, {
    title: (fx) => (fx.detect ? 'dcim poll prints them, and dcim poll --detect names this profile' : 'dcim poll prints them; dcim poll --detect names no profile (nothing identifies the unit)'),
    expectDetected: expectDetectedAsFixture,
  });

  it('a pCO whose probes never move is flagged stuck after its stuck_polls, its set points and states are not', async () => {
    const fx = units.find((f) => f.profile === 'carel-pco-modbus-ug40');
    const profile = profiles.get('carel-pco-modbus-ug40') as ModbusProfile;
    const polls = Math.max(...profile.points.filter((p) => p.live).map((p) => p.stuck_polls ?? 30));
    const transport = createModbusSerialTransport({ host: '127.0.0.1', port: server().port, framing: 'tcp', timeoutMs: 1000 });
    const reader = withPlausibility(
      new ModbusReader({ profile, transport, unitId: fx?.unit_id ?? 0, policy: { timeoutMs: 1000, retries: 0 }, clock: new SystemClock() }),
      profile,
    );
    try {
      let readings: Reading[] = [];
      for (let i = 1; i < polls; i++) readings = (await reader.read()).readings;
      // One poll short of the limit an unchanged probe is still good.
      expect(readings.filter((r) => r.error === 'DCIM_E_VALUE_STUCK')).toEqual([]);
      readings = (await reader.read()).readings;
      const stuck = readings.filter((r) => r.error === 'DCIM_E_VALUE_STUCK');
      expect(stuck.map((r) => [r.point, r.quality, r.value])).toEqual([
        ['room_temp_c', 'uncertain', 23.8],
        ['outdoor_temp_c', 'uncertain', -4.5],
        ['supply_air_temp_c', 'uncertain', 16.9],
        ['chilled_water_temp_c', 'uncertain', 8.2],
        ['room_humidity_pct', 'uncertain', 51.6],
        ['chilled_water_outlet_temp_c', 'uncertain', 13.4],
      ]);
      const byName = new Map(readings.map((r) => [r.point, r]));
      for (const steady of ['cooling_setpoint_c', 'room_high_temp_threshold_c', 'high_humidity_threshold_pct', 'cooling_valve_pct', 'fan_speed_pct', 'system_on']) {
        expect(byName.get(steady)?.quality, steady).toBe('good');
      }
    } finally {
      await reader.close();
    }
  });
});
