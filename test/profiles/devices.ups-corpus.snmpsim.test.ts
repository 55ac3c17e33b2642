import { describe, expect, it } from 'vitest';
import { corpusFolders, describeSnmpFixtures, snmprec, useSnmpCorpus } from '../agent/support/device-corpus.js';

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

/** A CyberPower card that reports the bare enterprise number as its sysObjectID (Network UPS Tools notes some do), serving CPS-MIB's ups group. */
const cyberpowerBare = snmprec(
  { descr: 'CyberPower UPS, RMCARD (recording written for dcim-pulse)', objectId: '1.3.6.1.4.1.3808', name: 'ups-cps-2' },
  '1.3.6.1.4.1.3808.1.1.1.1.1.1.0|4|OL1500ERTXL2U',
);
/** A CyberPower rack PDU under the same enterprise number: CPS-MIB's ePDU2 device table (ePDU2DeviceStatusPowerLoad, watts), no ups group. */
const cyberpowerPdu = snmprec(
  { descr: 'CyberPower switched PDU (recording written for dcim-pulse)', objectId: '1.3.6.1.4.1.3808.1.1.3', name: 'pdu-cps-1' },
  '1.3.6.1.4.1.3808.1.1.6.3.4.1.18.1|66|1840',
);

describe('UPS device corpus through snmpsimd', () => {
  const corpus = useSnmpCorpus(fixtures, { 'liebert-crac': liebertCrac, 'cyberpower-bare': cyberpowerBare, 'cyberpower-pdu': cyberpowerPdu });

  it('has the UPS fixtures the detection rules need', () => {
    expect(fixtures).toEqual(expect.arrayContaining(['ups-eaton-xups', 'ups-upsmib-sysoid', 'ups-huawei-ups2000', 'ups-delta-rt', 'ups-vertiv-liebert-nx', 'ups-cyberpower-ols']));
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
    expect(json.suggestion.rejected).toEqual(['vertiv-liebert-ups: sysObjectID 1.3.6.1.4.1.476.1.42 is under 1.3.6.1.4.1.476.1.42, but no answer under UPS-MIB (upsIdentManufacturer, 1.3.6.1.2.1.33.1.1.1)']);
  });

  it('a CyberPower card reporting the bare enterprise number is claimed by the CyberPower UPS profile once its ups group answers', async () => {
    const json = await corpus.detect('cyberpower-bare', ['--timeout-ms', '1000', '--retries', '0']);
    expect(json.suggestion).toMatchObject({ profile: 'cyberpower-ups', how: 'match' });
    expect(json.suggestion.reason).toContain('sysObjectID 1.3.6.1.4.1.3808 is under 1.3.6.1.4.1.3808, claimed by cyberpower-ups, and it answers upsBaseIdentModel = "OL1500ERTXL2U" under CPS-MIB');
  });

  it('a CyberPower PDU is not taken for a CyberPower UPS: the claim needs the ups group, and the report says why', async () => {
    const json = await corpus.detect('cyberpower-pdu', ['--timeout-ms', '1000', '--retries', '0']);
    expect(json.suggestion).toMatchObject({ profile: 'cyberpower-pdu', how: 'match' });
    expect(json.suggestion.rejected).toContain('cyberpower-ups: sysObjectID 1.3.6.1.4.1.3808.1.1.3 is under 1.3.6.1.4.1.3808, but no answer under CPS-MIB (upsBaseIdentModel, 1.3.6.1.4.1.3808.1.1.1.1.1.1)');
  });

  describeSnmpFixtures(fixtures, corpus);
});
