import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORPUS_DIR, corpusFolders, describeSnmpFixtures, snmprec, useSnmpCorpus } from './support/device-corpus.js';

/**
 * The cooling fixtures of the device corpus (test/fixtures/devices/cooling-*): recordings written
 * from the vendors' MIBs (PowerNet-MIB airIRRC, LIEBERT-GP-ENVIRONMENTAL-MIB …), each with the
 * values a person worked out from the documents. snmpsimd serves each recording (community =
 * folder name); `dcim poll --detect` must name the fixture's profile with its reason, and
 * `dcim poll` with that profile must read every value to the hand-worked figure, nothing more and
 * nothing less. A value the document marks unavailable, or that breaks a physical bound, must not
 * come out `good`.
 */
// The SNMP recordings only: a cooling unit read over Modbus has its own test (modbus/cooling-corpus.pymodbus.test.ts).
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
