import { describe, expect, it } from 'vitest';
import { SystemClock, type ModbusProfile, type Reading } from '../../contract/index.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { ModbusReader } from '../../agent/modbus/modbus-reader.js';
import { createModbusSerialTransport } from '../../agent/modbus/modbus-serial-transport.js';
import { DEFAULT_STUCK_POLLS } from '../../agent/plausibility/plausibility.js';
import { withPlausibility } from '../../agent/plausibility/plausible-reader.js';
import { useService } from '../agent/support/services.js';
import { modbusFixtures, startModbusCorpus } from '../agent/modbus/device-corpus.js';

/**
 * The meter profiles' live points (docs/plausibility.md, stuck values): a meter's current and
 * power move with every poll on a working load, so the same value `stuck_polls` polls in a row
 * means the meter or its gateway froze. The corpus fixtures are exactly that, a register image that
 * never changes: polled through the agent's plausibility, each live point stays good up to its
 * count and turns uncertain (DCIM_E_VALUE_STUCK, value kept) at it, while the points that may
 * repeat honestly (voltage, frequency, energy, power factor) stay good.
 */
const profiles = loadProfiles();
const meters = modbusFixtures().filter((f) => profiles.get(f.profile)?.class === 'meter');

/** The meter profiles whose live points this test holds to currents and powers. */
const CHECKED = ['siemens-pac3200', 'socomec-diris-a10', 'schneider-pm5000', 'schneider-iem3000', 'abb-eq-b2x', 'janitza-umg96rm', 'acrel-adw300', 'acrel-dtsd1352'];

function modbusProfile(id: string): ModbusProfile {
  const p = profiles.get(id);
  if (p?.protocol !== 'modbus') throw new Error(`${id}: not a Modbus profile`);
  return p;
}

const liveStuck = (p: ModbusProfile) => new Map(p.points.filter((x) => x.live).map((x) => [x.name, x.stuck_polls ?? DEFAULT_STUCK_POLLS]));

describe('meter live points', () => {
  it('marks the currents or the active power of each checked meter live, and nothing but currents and powers', () => {
    for (const id of CHECKED) {
      const p = modbusProfile(id);
      const live = p.points.filter((x) => x.live);
      expect(live.length, id).toBeGreaterThan(0);
      for (const x of live) expect(['A', 'W'], `${id} ${x.name}`).toContain(x.unit);
      const power = p.points.find((x) => x.kpi === 'active_power_w');
      const currents = p.points.filter((x) => x.unit === 'A');
      expect(power?.live === true || (currents.length > 0 && currents.every((x) => x.live)), id).toBe(true);
    }
  });

  it('never marks a meter counter live: an idle meter holds its energy for hours', () => {
    for (const p of profiles.values()) {
      if (p.class !== 'meter' || p.protocol !== 'modbus') continue;
      for (const x of p.points.filter((pt) => pt.live)) expect(x.unit === 'kWh' || x.unit === 'Wh' || x.kpi === 'energy_kwh' || x.counter_max !== undefined, `${p.id} ${x.name}`).toBe(false);
    }
  });

  describe('a meter that never changes, polled through the agent', () => {
    const server = useService('pymodbus', () => startModbusCorpus());
    const withLive = meters.filter((f) => liveStuck(modbusProfile(f.profile)).size > 0);

    it('covers the checked meters that have a corpus fixture', () => {
      expect(withLive.map((f) => f.profile)).toEqual(expect.arrayContaining(CHECKED));
    });

    it.each(withLive.map((f) => [f.name, f] as const))('%s: each live point is good until its stuck_polls-th identical poll, then uncertain with its value', async (_name, fx) => {
      const profile = modbusProfile(fx.profile);
      const stuck = liveStuck(profile);
      const transport = createModbusSerialTransport({ host: '127.0.0.1', port: server().port, framing: 'tcp', timeoutMs: 3000 });
      const reader = withPlausibility(new ModbusReader({ profile, transport, unitId: fx.unit_id, policy: { timeoutMs: 3000, retries: 1 }, clock: new SystemClock() }), profile);
      try {
        const first = (await reader.read()).readings;
        // A live point judged here: good and not zero in the image (zero never counts as stuck).
        const judged = first.filter((r) => stuck.has(r.point) && r.quality === 'good' && r.value !== 0).map((r) => r.point);
        expect(judged.length, fx.name).toBeGreaterThan(0);
        const quality = (rs: readonly Reading[]) => Object.fromEntries(rs.map((r) => [r.point, [r.quality, r.error ?? null]]));
        const honest = Object.fromEntries(Object.entries(quality(first)).filter(([point]) => !stuck.has(point)));
        const last = Math.max(...judged.map((p) => stuck.get(p) ?? 0));
        for (let poll = 2; poll <= last; poll++) {
          const rs = (await reader.read()).readings;
          const q = quality(rs);
          for (const point of judged) {
            const limit = stuck.get(point) ?? 0;
            const want = poll < limit ? ['good', null] : ['uncertain', 'DCIM_E_VALUE_STUCK'];
            expect([poll, point, ...(q[point] ?? [])]).toEqual([poll, point, ...want]);
            expect(rs.find((r) => r.point === point)?.value, `${point} keeps its value`).toEqual(first.find((r) => r.point === point)?.value);
          }
          // Voltage, frequency, energy, power factor: repeating is what they do.
          expect(Object.fromEntries(Object.entries(q).filter(([point]) => point in honest)), `poll ${poll}`).toEqual(honest);
        }
      } finally {
        await reader.close();
      }
    });
  });
});
