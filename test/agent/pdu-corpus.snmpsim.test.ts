import { describe, expect, it } from 'vitest';
import { corpusFolders, describeSnmpFixtures, readRecording, useSnmpCorpus } from './support/device-corpus.js';

/**
 * The PDU fixtures of the device corpus (test/fixtures/devices/pdu-*): recordings written from the
 * vendors' MIBs, each with the values a person worked out from the documents. snmpsimd serves each
 * recording (community = folder name); `dcim poll --detect` must name the fixture's profile with
 * its reason, and `dcim poll` with that profile must read every value to the hand-worked figure,
 * nothing more and nothing less; a value the MIB calls "not available" must not come out good.
 */
const fixtures = corpusFolders('pdu-');
/** The Sentry4 recording behind a card that reports a Net-SNMP sysObjectID: no profile claims it, so only the probes can find it. */
const sentry4ForeignSysoid = readRecording('pdu-sentry4').replace('1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.1718.4', '1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.8072.3.2.10');

describe('PDU device corpus through snmpsimd', () => {
  const corpus = useSnmpCorpus(fixtures, { 'sentry4-foreign-sysoid': sentry4ForeignSysoid });

  it('has the PDU fixtures', () => {
    expect(fixtures).toEqual(expect.arrayContaining(['pdu-sentry4', 'pdu-apc-rpdu2-banks', 'pdu-raritan-px2-inlet', 'pdu-geist-v5']));
  });

  it('finds a Sentry4 under a sysObjectID no profile claims, by its input cord table', async () => {
    const json = await corpus.detect('sentry4-foreign-sysoid', ['--timeout-ms', '1000', '--retries', '1']);
    expect(json.system.sys_object_id).toBe('1.3.6.1.4.1.8072.3.2.10');
    expect(json.suggestion).toMatchObject({ profile: 'sentry4', how: 'probe' });
    expect(json.suggestion.reason).toContain('st4InputCordActivePower');
  });

  describeSnmpFixtures(fixtures, corpus);
});
