import { describe, expect, it } from 'vitest';
import type { Reading } from '../../contract/index.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { PlausibilityChecker } from '../../agent/plausibility/plausibility.js';
import { readExpected, snmprec, useSnmpCorpus, type PolledReading, type SnmpExpected } from '../agent/support/device-corpus.js';

/**
 * Huawei devices beyond their corpus fixtures (ups-huawei-*): what detection says about a card that
 * answers only part of what the profile reads, and what the profiles' cross-checks refuse when a
 * card misreads one figure. Each case is a small recording written here from HUAWEI-UPS-MIB and
 * EMAP-MIB, served by snmpsimd and read with `dcim poll`.
 */
const HW_UPS = '1.3.6.1.4.1.2011.6.174.1';
const EMAP = '1.3.6.1.4.1.2011.6.164.1';

/** A UPS2000 card under Huawei's UPS sysObjectID that answers UPS-MIB but none of HUAWEI-UPS-MIB. */
const upsMibOnly = snmprec(
  { descr: 'UPS2000 card, UPS-MIB only (recording written for dcim-pulse)', objectId: '1.3.6.1.4.1.2011.6.174.4.1.2.4', name: 'ups-b2' },
  '1.3.6.1.2.1.33.1.1.1.0|4|HUAWEI',
  '1.3.6.1.2.1.33.1.1.2.0|4|UPS2000-A-1KTTS',
);

/**
 * A UPS5000 card whose phase A active power reads 0 kW while its own voltage and current make
 * 230.0 V × 112.0 A = 25.76 kVA: a power factor of 0 that no IT load has. Phase B is consistent:
 * 230.0 V × 98.5 A = 22.655 kVA, 21.7 kW (PF 0.96).
 */
const ups5000MisreadPower = snmprec(
  { descr: 'UPS5000-E card, phase A power misread (recording written for dcim-pulse)', objectId: '1.3.6.1.4.1.8072.3.2.10', name: 'ups-a2' },
  '1.3.6.1.2.1.33.1.1.1.0|4|HUAWEI',
  `${HW_UPS}.2.100.1.2.1|4|UPS5000-E`,
  `${HW_UPS}.4.100.1.1.1|66|2300`,
  `${HW_UPS}.4.100.1.2.1|66|2300`,
  `${HW_UPS}.4.100.1.4.1|66|1120`,
  `${HW_UPS}.4.100.1.5.1|66|985`,
  `${HW_UPS}.4.100.1.8.1|2|0`,
  `${HW_UPS}.4.100.1.9.1|2|217`,
);

/**
 * An ETP48 SMU whose DC bus power reads 333 W while 53.5 V × 62.3 A = 3333 W: a digit lost. EMAP-MIB
 * makes the DC group's power its V × I, so the power is refused and voltage and current stand.
 */
const etp48MisreadPower = snmprec(
  { descr: 'ETP48200 SMU, DC power misread (recording written for dcim-pulse)', objectId: '1.3.6.1.4.1.8072.3.2.10', name: 'dcpower-r4' },
  `${EMAP}.3.1.3.0|66|631`,
  `${EMAP}.6.1.3.0|66|535`,
  `${EMAP}.6.1.4.0|2|623`,
  `${EMAP}.6.1.5.0|66|333`,
);

const flags = ['--timeout-ms', '1000', '--retries', '0'];

/** Per fixture, each live point and the count of identical polls after which it is stuck. */
const LIVE: Record<string, Record<string, number>> = {
  'ups-huawei-ups5000': { hw_input_voltage_l1_v: 30, hw_input_voltage_l2_v: 30, hw_input_voltage_l3_v: 30, hw_input_frequency_hz: 60 },
  'ups-huawei-etp48': { rectifier_dc_power_w: 60, rectifier_ac_input_power_w: 60, dc_power_w: 60 },
};
const byPoint = (readings: readonly PolledReading[], point: string) => readings.find((r) => r.point === point && r.index === undefined);

describe('Huawei devices through snmpsimd', () => {
  const frozen = ['ups-huawei-ups5000', 'ups-huawei-etp48'];
  const corpus = useSnmpCorpus(frozen, { 'ups-mib-only': upsMibOnly, 'ups5000-misread': ups5000MisreadPower, 'etp48-misread': etp48MisreadPower });

  it("a Huawei UPS card that answers only UPS-MIB is not claimed by huawei-ups: the report says HUAWEI-UPS-MIB is missing, and the plain UPS-MIB profile reads it", async () => {
    const json = await corpus.detect('ups-mib-only', flags);
    expect(json.suggestion).toMatchObject({ profile: 'rfc1628-ups', how: 'probe' });
    expect(json.suggestion.rejected).toContain(
      'huawei-ups: sysObjectID 1.3.6.1.4.1.2011.6.174.4.1.2.4 is under 1.3.6.1.4.1.2011.6.174, but no answer under HUAWEI-UPS-MIB (hwUpsDeviceType, 1.3.6.1.4.1.2011.6.174.1.2.100.1.2)',
    );
  });

  it('a UPS5000 phase reading 0 kW against 25.76 kVA of its own V × I is bad (inconsistent); the consistent phase and the voltages and currents stay good', async () => {
    const readings = await corpus.poll('ups5000-misread', 'huawei-ups', flags);
    expect(byPoint(readings, 'hw_output_power_l1_w')).toMatchObject({ quality: 'bad', error: 'DCIM_E_VALUE_INCONSISTENT' });
    expect(byPoint(readings, 'hw_output_power_l1_w')?.value ?? null).toBeNull();
    expect(byPoint(readings, 'hw_output_power_l2_w')).toMatchObject({ quality: 'good', value: 21700 });
    expect(byPoint(readings, 'hw_output_voltage_l1_v')).toMatchObject({ quality: 'good', value: 230 });
    expect(byPoint(readings, 'hw_output_current_l1_a')).toMatchObject({ quality: 'good', value: 112 });
  });

  it('an ETP48 whose DC power reads a tenth of its V × I is found by its EMAP-MIB answers, and the power is bad while voltage and current stay good', async () => {
    const json = await corpus.detect('etp48-misread', flags);
    expect(json.suggestion).toMatchObject({ profile: 'huawei-etp48', how: 'probe' });
    const readings = await corpus.poll('etp48-misread', 'huawei-etp48', flags);
    expect(byPoint(readings, 'dc_power_w')).toMatchObject({ quality: 'bad', error: 'DCIM_E_VALUE_INCONSISTENT' });
    expect(byPoint(readings, 'dc_voltage_v')).toMatchObject({ quality: 'good', value: 53.5 });
    expect(byPoint(readings, 'dc_current_a')).toMatchObject({ quality: 'good', value: 62.3 });
  });

  // The same poll again and again, as a frozen card would answer. Live are only what moves on a
  // working unit: mains voltage (0.1 V) after 30 identical polls; mains frequency (0.01 Hz) and the
  // DC power system's watts after 60. Every such non-zero reading turns uncertain
  // (DCIM_E_VALUE_STUCK) exactly at its count; ratings, states, currents in 0.1 A steps, the
  // regulated output voltage, the UPS's 0.1 kW steps and the energy counter never do. (The UPS-MIB
  // template's own live points are the UPS corpus test's business: only Huawei's are judged here.)
  it.each(frozen)('%s: only the moving measurements are flagged stuck when the card freezes, each at its own count', async (fixture) => {
    const exp = readExpected<SnmpExpected>(fixture);
    const profile = loadProfiles().get(exp.poll_profile);
    if (!profile) throw new Error(`no profile ${exp.poll_profile}`);
    const polled = (await corpus.poll(fixture, exp.poll_profile, ['--timeout-ms', '1000', '--retries', '1'])) as Reading[];
    const live = LIVE[fixture] ?? {};
    const moving = polled.filter((r) => live[r.point] !== undefined && r.quality === 'good' && typeof r.value === 'number' && r.value !== 0);
    expect(moving.map((r) => r.point).sort()).toEqual(Object.keys(live).sort());
    const checker = new PlausibilityChecker(profile);
    const longest = Math.max(...Object.values(live));
    for (let poll = 1; poll <= longest; poll++) {
      const stuck = checker.check(polled).readings.filter((r) => r.error === 'DCIM_E_VALUE_STUCK' && (fixture !== 'ups-huawei-ups5000' || r.point.startsWith('hw_')));
      expect(stuck.every((r) => r.quality === 'uncertain'), `poll ${poll}`).toBe(true);
      expect(stuck.map((r) => r.point).sort(), `poll ${poll}`).toEqual(moving.filter((r) => (live[r.point] as number) <= poll).map((r) => r.point).sort());
    }
  });
});
