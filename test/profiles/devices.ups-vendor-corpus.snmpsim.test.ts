import { describe, expect, it } from 'vitest';
import { describeSnmpFixtures, snmprec, useSnmpCorpus } from '../agent/support/device-corpus.js';

/**
 * The vendor-MIB UPS fixtures of the device corpus: APC Smart-UPS and Galaxy (PowerNet-MIB) and a
 * Megatec NetAgent card (PPC-MIB), each written from the vendor's MIB with values worked out by
 * hand. snmpsimd serves each recording (community = folder name); `dcim poll --detect` must name
 * the fixture's profile with its reason, and `dcim poll` must read every value to the hand figure
 * (a value the MIB marks "not available" comes out not good), nothing more and nothing less.
 */
const FIXTURES = ['apc-smart-ups', 'apc-galaxy', 'megatec-netagent'];
/** A NetAgent card that reports a generic Linux agent's sysObjectID: only the PPC-MIB probe can find it. */
const ppcOemSysoid = snmprec(
  { descr: 'Linux netagent 2.6 (recording written for dcim-pulse)', objectId: '1.3.6.1.4.1.8072.3.2.10', name: 'ups-oem' },
  '1.3.6.1.4.1.935.1.1.1.1.1.1.0|4|OEM 6KVA',
  '1.3.6.1.4.1.935.1.1.1.2.1.1.0|2|2',
);

describe('vendor-MIB UPS corpus (PowerNet-MIB, PPC-MIB) through snmpsimd', () => {
  const corpus = useSnmpCorpus(FIXTURES, { 'ppc-oem-sysoid': ppcOemSysoid });

  it('finds a NetAgent card under an OEM sysObjectID by its PPC-MIB probe alone, and says so', async () => {
    const json = await corpus.detect('ppc-oem-sysoid', ['--timeout-ms', '1000', '--retries', '1']);
    expect(json.suggestion).toMatchObject({ profile: 'megatec-netagent', how: 'probe' });
    expect(json.suggestion.reason).toContain('upsBaseIdentModel = "OEM 6KVA" under PPC-MIB');
  });

  describeSnmpFixtures(FIXTURES, corpus);
});
