import { describe, expect, it } from 'vitest';
import { snmprec, useSnmpCorpus, type PolledReading } from './support/device-corpus.js';

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
const byPoint = (readings: readonly PolledReading[], point: string) => readings.find((r) => r.point === point && r.index === undefined);

describe('Huawei devices through snmpsimd', () => {
  const corpus = useSnmpCorpus([], { 'ups-mib-only': upsMibOnly, 'ups5000-misread': ups5000MisreadPower, 'etp48-misread': etp48MisreadPower });

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
});
