import { describe, expect, it } from 'vitest';
import { corpusFolders, describeSnmpFixtures, snmprec, useSnmpCorpus } from './support/device-corpus.js';

/**
 * The UPS fixtures of the device corpus (test/fixtures/devices/ups-*): recordings written from
 * RFC 1628 and the vendors' MIBs, each with the values a person worked out from the documents.
 * snmpsimd serves each recording (community = folder name); `dcim poll --detect` must name the
 * fixture's profile with its reason, and `dcim poll` with that profile must read every value to
 * the hand-worked figure, nothing more and nothing less.
 */
const fixtures = corpusFolders('ups-');
/** A Liebert precision air conditioner's card: Liebert's sysObjectID prefix, no UPS-MIB; its environmental MIB (temperature table, system state). */
const liebertCrac = snmprec(
  { descr: 'Liebert precision cooling, IS-UNITY card (recording written for dcim-pulse)', objectId: '1.3.6.1.4.1.476.1.42', name: 'crac-3' },
  '1.3.6.1.4.1.476.1.42.3.4.1.3.3.1.3.1|2|22',
  '1.3.6.1.4.1.476.1.42.3.4.3.1.0|2|1',
);

describe('UPS device corpus through snmpsimd', () => {
  const corpus = useSnmpCorpus(fixtures, { 'liebert-crac': liebertCrac });

  it('has the UPS fixtures the detection rules need', () => {
    expect(fixtures).toEqual(expect.arrayContaining(['ups-eaton-xups', 'ups-upsmib-sysoid', 'ups-huawei-ups2000', 'ups-delta-rt', 'ups-vertiv-liebert-nx']));
  });

  it('detects over SNMPv1 too, where one probe past the end of the MIB fails the whole request (noSuchName): the batch is split', async () => {
    // The recording ends inside UPS-MIB, so the XUPS-MIB probe has nothing after it.
    const json = await corpus.detect('ups-upsmib-sysoid', ['--snmp-version', '1', '--timeout-ms', '1000', '--retries', '0']);
    expect(json.suggestion).toMatchObject({ profile: 'rfc1628-ups', how: 'probe' });
    expect(json.probes).toEqual(
      expect.arrayContaining([
        { oid: '1.3.6.1.2.1.33.1.1.1', answer: { oid: '1.3.6.1.2.1.33.1.1.1.0', value: 'Example Power Ltd' } },
        { oid: '1.3.6.1.4.1.534.1.1.1' },
      ]),
    );
  });

  it('a Liebert air conditioner is not taken for a Liebert UPS: the claim needs UPS-MIB, and the report says why (the air-conditioner profile takes it)', async () => {
    const json = await corpus.detect('liebert-crac', ['--timeout-ms', '1000', '--retries', '0']);
    expect(json.suggestion).toMatchObject({ profile: 'vertiv-liebert-pac', how: 'match' });
    expect(json.suggestion.rejected).toEqual([
      'vertiv-liebert-ups: sysObjectID 1.3.6.1.4.1.476.1.42 is under 1.3.6.1.4.1.476.1.42, but no answer under UPS-MIB (upsIdentManufacturer, 1.3.6.1.2.1.33.1.1.1); no answer under LIEBERT-GP-POWER-MIB (lgpPwrBatteryTimeRemaining, 1.3.6.1.4.1.476.1.42.3.5.1.18)',
    ]);
  });

  describeSnmpFixtures(fixtures, corpus);
});
