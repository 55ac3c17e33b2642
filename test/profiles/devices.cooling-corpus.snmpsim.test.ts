import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SystemClock, type Reading, type SnmpProfile } from '../../contract/index.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { withPlausibility } from '../../agent/plausibility/plausible-reader.js';
import { createNetSnmpTransport } from '../../agent/snmp/net-snmp-transport.js';
import { SnmpReader } from '../../agent/snmp/snmp-reader.js';
import { startSnmpsim, useService } from '../agent/support/services.js';
import { CORPUS_DIR, corpusFolders, describeSnmpFixtures, readExpected, readRecording, snmprec, useSnmpCorpus, type SnmpExpected } from '../agent/support/device-corpus.js';

/**
 * The cooling fixtures of the device corpus (test/fixtures/devices/cooling-*): recordings written
 * from the vendors' MIBs (PowerNet-MIB airIRRC, LIEBERT-GP-ENVIRONMENTAL-MIB …), each with the
 * values a person worked out from the documents. snmpsimd serves each recording (community =
 * folder name); `dcim poll --detect` must name the fixture's profile with its reason, and
 * `dcim poll` with that profile must read every value to the hand-worked figure, nothing more and
 * nothing less. A value the document marks unavailable, or that breaks a physical bound, must not
 * come out `good`.
 */
// The SNMP recordings only: a cooling unit read over Modbus has its own test (test/profiles/devices.cooling-corpus.pymodbus.test.ts).
const fixtures = corpusFolders('cooling-').filter((f) => existsSync(join(CORPUS_DIR, f, 'device.snmprec')));
/**
 * A Liebert UPS card that also serves the environmental temperature table (its battery-room
 * sensor) but no air-conditioner state: the same sysObjectID prefix as the air conditioners.
 */
const liebertUpsEnv = snmprec(
  { descr: 'Liebert UPS, IS-UNITY card (recording written for dcim-pulse)', objectId: '1.3.6.1.4.1.476.1.42', name: 'ups-b' },
  '1.3.6.1.2.1.33.1.1.1.0|4|Liebert',
  '1.3.6.1.4.1.476.1.42.3.4.1.3.3.1.3.1|2|26',
);

describe('cooling device corpus through snmpsimd', () => {
  const corpus = useSnmpCorpus(fixtures, { 'liebert-ups-env': liebertUpsEnv });
  const detect = async (community: string) => (await corpus.detect(community, ['--timeout-ms', '1000', '--retries', '0'])).suggestion;

  it('has the cooling fixtures the detection rules need', () => {
    expect(fixtures).toEqual(expect.arrayContaining(['cooling-apc-inrow-rc', 'cooling-carel-pcoweb-ug40', 'cooling-liebert-pac', 'cooling-stulz-wib8000']));
  });

  it('the Liebert air conditioner is not claimed by the Liebert UPS profile, and the report says why', async () => {
    const s = await detect('cooling-liebert-pac');
    expect(s).toMatchObject({ profile: 'vertiv-liebert-pac', how: 'match' });
    expect(s.rejected).toEqual(['vertiv-liebert-ups: sysObjectID 1.3.6.1.4.1.476.1.42 is under 1.3.6.1.4.1.476.1.42, but no answer under UPS-MIB (upsIdentManufacturer, 1.3.6.1.2.1.33.1.1.1)']);
  });

  it('a Liebert UPS card serving a temperature table is not taken for an air conditioner: that claim needs the system state too', async () => {
    const s = await detect('liebert-ups-env');
    expect(s).toMatchObject({ profile: 'vertiv-liebert-ups', how: 'match' });
    expect(s.rejected).toEqual([expect.stringMatching(/^vertiv-liebert-pac: .*no answer under LIEBERT-GP-ENVIRONMENTAL-MIB \(lgpEnvStateSystem, 1\.3\.6\.1\.4\.1\.476\.1\.42\.3\.4\.3\.1\)/)]);
  });

  describeSnmpFixtures(fixtures, corpus);
});

/**
 * Which points of each cooling profile are live (a frozen value is flagged stuck): the measured
 * temperatures and humidities in tenths, and InRow's cooling output. Set points, thresholds, states
 * and controller outputs must never be. The recordings never change, so every live point with a
 * good, non-zero value must come out `uncertain` / DCIM_E_VALUE_STUCK once its stuck_polls are
 * reached, and nothing else; the profiles' own stuck_polls (60) are shortened to 3 here so the
 * test polls three times, not sixty.
 */
const LIVE: Record<string, string[]> = {
  'apc-inrow-rc': ['cooling_output_kw', 'rack_inlet_temp_c', 'supply_air_temp_c', 'return_air_temp_c', 'entering_fluid_temp_c', 'leaving_fluid_temp_c'],
  'vertiv-liebert-pac': ['temp_tenths_c', 'humidity_tenths_pct'],
  'carel-pcoweb-ug40': ['room_temp_c', 'outdoor_temp_c', 'supply_air_temp_c', 'chilled_water_temp_c', 'room_humidity_pct', 'chilled_water_outlet_temp_c'],
  'stulz-wib8000': ['unit_temp_c', 'return_air_temp_c', 'supply_air_temp_c', 'outside_air_temp_c', 'unit_humidity_pct', 'return_air_humidity_pct', 'supply_air_humidity_pct', 'water_in_temp_c', 'water_out_temp_c'],
};

describe('cooling profiles: live points go stuck on a frozen unit, nothing else does', () => {
  const sim = useService('snmpsimd', () => startSnmpsim(Object.fromEntries(fixtures.map((f) => [f, readRecording(f)]))));
  const profiles = loadProfiles();
  const tag = (r: { point: string; index?: Record<string, string> | undefined }) => (r.index ? `${r.point}${JSON.stringify(r.index)}` : r.point);

  it.each(fixtures)('%s', async (fixture) => {
    const exp = readExpected<SnmpExpected>(fixture);
    const live = LIVE[exp.poll_profile];
    expect(live, `${exp.poll_profile}: say which of its points are live`).toBeDefined();
    const profile = structuredClone(profiles.get(exp.poll_profile)) as SnmpProfile;
    for (const p of [...profile.points, ...profile.tables.flatMap((t) => t.columns)]) {
      expect(p.live === true, `${p.name} live`).toBe(live?.includes(p.name));
      if (p.live) {
        expect(p.stuck_polls, `${p.name}: an hour at the default interval`).toBe(60);
        p.stuck_polls = 3;
      }
    }
    const transport = createNetSnmpTransport({ protocol: 'snmp', host: '127.0.0.1', port: sim().port, version: '2c', community: fixture }, { timeoutMs: 3000 });
    const reader = withPlausibility(new SnmpReader({ profile, transport, policy: { timeoutMs: 3000, retries: 2 }, clock: new SystemClock() }), profile);
    try {
      let readings: Reading[] = [];
      for (let i = 0; i < 3; i++) readings = (await reader.read()).readings;
      const want = exp.readings.filter((r) => live?.includes(r.point) && typeof r.value === 'number' && r.value !== 0);
      const stuck = readings.filter((r) => r.error === 'DCIM_E_VALUE_STUCK');
      expect(stuck.map(tag).sort()).toEqual(want.map(tag).sort());
      for (const r of stuck) expect(r.quality).toBe('uncertain');
    } finally {
      await reader.close();
    }
  });
});
