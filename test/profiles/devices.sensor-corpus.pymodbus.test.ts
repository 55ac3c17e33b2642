import { describe, expect, it } from 'vitest';
import type { Reading } from '../../contract/index.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { inProcessDcim } from '../cli/support/run-dcim.js';
import { useService } from '../agent/support/services.js';
import { describeModbusFixtures, expectDetectedAsFixture } from '../agent/support/device-corpus.js';
import { modbusFixtures, startModbusCorpus, type ModbusFixture } from '../agent/modbus/device-corpus.js';

/**
 * The rack sensors of the device corpus (expected.yaml `suite: sensors`), served by pymodbus: the
 * agent's reader and `dcim poll` read the values worked out by hand from the sensor's register map;
 * a sensor without identification registers is named by no detection guess; a value beyond what
 * the quantity can physically be (`out_of_range` in expected.yaml) comes out of `dcim poll`
 * without a value, not good, while the rest of the poll reads.
 */
type SensorFixture = ModbusFixture & { out_of_range?: string[] };
const profiles = loadProfiles();
const sensors = modbusFixtures().filter((f) => f.suite === 'sensors') as SensorFixture[];
const sound = sensors.filter((f) => f.out_of_range === undefined);
const misreading = sensors.filter((f) => f.out_of_range !== undefined);

describe('Modbus rack sensor corpus', () => {
  const server = useService('pymodbus', () => startModbusCorpus());

  it('holds the XY-MD02 fixtures, a sound one and one that misreads, each a known sensor profile', () => {
    expect(sound.map((f) => f.name)).toContain('sensor-xy-md02');
    expect(misreading.map((f) => f.name)).toContain('sensor-xy-md02-out-of-range');
    for (const f of sensors) {
      expect(profiles.get(f.profile)?.protocol, f.name).toBe('modbus');
      expect(profiles.get(f.profile)?.class, f.name).toBe('sensor');
      expect(typeof f.detect, `${f.name}: expected.yaml says whether detection can name it`).toBe('boolean');
    }
  });

  describeModbusFixtures(sound, server, {
    title: (fx) => (fx.detect ? 'dcim poll prints them, and dcim poll --detect names this profile' : 'dcim poll prints them; dcim poll --detect names no profile (no identification registers)'),
    expectDetected: expectDetectedAsFixture,
  });

  describe.each(misreading.map((f) => [f.name, f] as const))('%s', (_name, fx) => {
    it('dcim poll: the impossible value is bad without a value (DCIM_E_VALUE_OUT_OF_RANGE), the sound one reads', async () => {
      const r = await inProcessDcim(['poll', '--profile', fx.profile, '--host', '127.0.0.1', '--port', String(server().port), '--unit-id', String(fx.unit_id)]);
      expect([r.code, r.stderr]).toEqual([0, '']);
      const readings = (JSON.parse(r.stdout) as { readings: Reading[] }).readings;
      expect(readings.map((x) => x.point).sort()).toEqual(Object.keys(fx.readings).sort());
      for (const x of readings) {
        const want = fx.readings[x.point];
        if (fx.out_of_range?.includes(x.point)) expect([x.point, x.quality, x.value, x.error]).toEqual([x.point, 'bad', null, 'DCIM_E_VALUE_OUT_OF_RANGE']);
        else expect([x.point, x.quality, x.value]).toEqual([x.point, 'good', want]);
      }
    });
  });
});
