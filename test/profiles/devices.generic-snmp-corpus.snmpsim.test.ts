import { describe, expect, it } from 'vitest';
import { corpusFolders, describeSnmpFixtures, snmprec, useSnmpCorpus } from '../agent/support/device-corpus.js';

/**
 * The generic SNMP profile against the device corpus (test/fixtures/devices/env-*): a device that
 * serves only the standard system group, ENTITY-MIB and ENTITY-SENSOR-MIB (RFC 3433), with values
 * worked out by hand from the RFC's scale and precision rules. `dcim poll --detect` names
 * generic-snmp because its ENTITY-SENSOR probe answers and nothing else does; a sensor whose
 * OperStatus is unavailable or nonoperational has no good value, whatever its Value column holds.
 */
const fixtures = corpusFolders('env-');
/** A device with the system group and nothing else: no probe answers at all. */
const bare = snmprec({ descr: 'Linux kvm-07 6.1.0-18-amd64 x86_64', objectId: '1.3.6.1.4.1.8072.3.2.10', name: 'kvm-07' });

describe('generic SNMP corpus through snmpsimd', () => {
  const corpus = useSnmpCorpus(fixtures, { 'system-group-only': bare });

  it('has the ENTITY-SENSOR-MIB fixture', () => {
    expect(fixtures).toContain('env-entity-sensor-tor');
  });

  it('a device that answers no probed MIB is still onboarded with generic-snmp, and says so', async () => {
    const json = await corpus.detect('system-group-only', ['--timeout-ms', '1000', '--retries', '1']);
    expect(json.suggestion).toMatchObject({ profile: 'generic-snmp', how: 'generic', ranking: [] });
    expect(json.suggestion.reason).toContain('no probed MIB answered');
    const readings = await corpus.poll('system-group-only', 'generic-snmp', ['--timeout-ms', '1000', '--retries', '1']);
    expect(readings.find((r) => r.point === 'sys_name')).toMatchObject({ value: 'kvm-07', quality: 'good' });
    expect(readings.filter((r) => r.index !== undefined)).toEqual([]);
  });

  describeSnmpFixtures(fixtures, corpus);
});
