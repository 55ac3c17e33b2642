import { describe, expect, it } from 'vitest';
import { ManualClock, type SnmpProfile } from '../../../contract/index.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { SnmpType } from '../../../agent/snmp/asn1-types.js';
import { probeAnswers } from '../../../agent/snmp/snmp-probe.js';
import { SnmpReader } from '../../../agent/snmp/snmp-reader.js';
import { fakeTransport, type FakeOptions } from './fake-snmp-transport.js';

/** Detection probes through the reader: GETNEXT once per subtree, with the reader's policies. */
const generic = loadProfiles().get('generic-snmp') as SnmpProfile;
const UPS = '1.3.6.1.2.1.33.1.1.1';
const XUPS = '1.3.6.1.4.1.534.1.1.1';
const ENTITY = '1.3.6.1.2.1.99.1.1.1.1';
const data: Record<string, [number, unknown]> = {
  '1.3.6.1.2.1.1.2.0': [SnmpType.OID, '1.3.6.1.2.1.33'],
  [`${UPS}.0`]: [SnmpType.OctetString, Buffer.from('ACME')],
  '1.3.6.1.2.1.33.1.2.1.0': [SnmpType.Integer, 2],
};

function reader(o: FakeOptions = {}) {
  const { transport, log } = fakeTransport(data, o);
  return { r: new SnmpReader({ profile: generic, transport, policy: { timeoutMs: 100, retries: 1 }, clock: new ManualClock(0) }), log };
}

describe('SnmpReader.getNextEach', () => {
  it('sends the probes in one request and keeps what follows each', async () => {
    const { r, log } = reader();
    const run = await r.getNextEach([UPS, ENTITY, XUPS]);
    expect(log).toEqual([{ op: 'getnext', oids: [UPS, ENTITY, XUPS] }]);
    expect([...probeAnswers(run.next).keys()]).toEqual([UPS]);
    expect(run.failed.size).toBe(0);
    expect(run.poll).toMatchObject({ requests: 1, retries: 0 });
  });

  it('SNMPv1: noSuchName past the end of the MIB fails the whole request; the batch is split and the end is no answer, not a failure', async () => {
    const { r, log } = reader({ version: '1' });
    const run = await r.getNextEach([UPS, XUPS]);
    expect(log.map((l) => l.oids)).toEqual([[UPS, XUPS], [UPS], [XUPS]]);
    expect(probeAnswers(run.next).get(UPS)).toEqual({ oid: `${UPS}.0`, text: 'ACME' });
    expect(run.failed.size).toBe(0);
  });

  it('a silent device: every probe fails with the timeout code after the retries', async () => {
    const { r, log } = reader({ dead: true });
    const run = await r.getNextEach([UPS, XUPS]);
    expect(log).toHaveLength(2);
    expect(Object.fromEntries(run.failed)).toEqual({ [UPS]: 'DCIM_E_SNMP_TIMEOUT', [XUPS]: 'DCIM_E_SNMP_TIMEOUT' });
    expect(run.poll).toMatchObject({ requests: 2, retries: 1, timeouts: 2 });
  });

  it('a genErr on one probe costs only that probe', async () => {
    const { r } = reader({ genErr: [XUPS] });
    const run = await r.getNextEach([UPS, XUPS]);
    expect(probeAnswers(run.next).has(UPS)).toBe(true);
    expect(Object.fromEntries(run.failed)).toEqual({ [XUPS]: 'DCIM_E_SNMP_ERROR' });
  });
});
