import { describe, expect, it } from 'vitest';
import { ManualClock, SnmpProfileSchema, type SnmpProfile } from '../../../contract/index.js';
import { SnmpType as T } from '../../../agent/snmp/asn1-types.js';
import { SnmpReader } from '../../../agent/snmp/snmp-reader.js';
import { fakeTransport, type FakeOptions } from './fake-snmp-transport.js';

const E = '1.3.6.1.4.1.99.2.1'; // table entry
const profile = (over: Record<string, unknown> = {}): SnmpProfile =>
  SnmpProfileSchema.parse({
    id: 't',
    class: 'pdu',
    vendor: 'x',
    model: 'y',
    protocol: 'snmp',
    points: [
      { name: 'a_w', oid: '1.3.6.1.4.1.99.1.1.0', type: 'integer', unit: 'W' },
      { name: 'b_w', oid: '1.3.6.1.4.1.99.1.2.0', type: 'integer', unit: 'W' },
      { name: 'c_w', oid: '1.3.6.1.4.1.99.1.3.0', type: 'integer', unit: 'W' },
      { name: 'd_w', oid: '1.3.6.1.4.1.99.1.4.0', type: 'integer', unit: 'W' },
      { name: 'e_w', oid: '1.3.6.1.4.1.99.1.5.0', type: 'integer', unit: 'W' },
    ],
    tables: [{ entry: E, index_tag: 'outlet', columns: [{ name: 'outlet_power_w', column: 2, type: 'gauge', unit: 'W' }, { name: 'outlet_current_a', column: 3, type: 'gauge', scale: 0.1, unit: 'A' }] }],
    test_vectors: [{ point: 'a_w', raw: 1, expected: 1 }],
    ...over,
  });

const data: Record<string, [number, unknown]> = {
  '1.3.6.1.4.1.99.1.1.0': [T.Integer, 1],
  '1.3.6.1.4.1.99.1.2.0': [T.Integer, 2],
  // 1.3 missing
  '1.3.6.1.4.1.99.1.4.0': [T.Integer, 4],
  '1.3.6.1.4.1.99.1.5.0': [T.Integer, 5],
  [`${E}.1.1`]: [T.Integer, 1],
  [`${E}.2.1`]: [T.Gauge32, 100],
  [`${E}.2.2`]: [T.Gauge32, 200],
  [`${E}.2.10`]: [T.Gauge32, 1000],
  [`${E}.3.1`]: [T.Gauge32, 11],
  [`${E}.3.2`]: [T.Gauge32, 22],
  [`${E}.3.10`]: [T.Gauge32, 33],
  [`${E}.4.1`]: [T.Integer, 9],
};

async function run(o: FakeOptions, p: SnmpProfile = profile(), retries = 1) {
  const { transport, log } = fakeTransport(data, o);
  const reader = new SnmpReader({ profile: p, transport, policy: { timeoutMs: 100, retries }, clock: new ManualClock() });
  const r = await reader.read();
  const value = (point: string, index?: string) => r.readings.find((x) => x.point === point && (index === undefined ? !x.index : x.index?.outlet === index));
  return { r, log, value };
}

describe('SnmpReader (scripted agent)', () => {
  it('batches scalars, walks the table with one multi-column GETBULK, decodes everything', async () => {
    const { r, log, value } = await run({});
    expect(log.map((l) => l.op)).toEqual(['get', 'getbulk']);
    expect(log[1]?.oids).toEqual([`${E}.2`, `${E}.3`]);
    expect(value('a_w')).toEqual({ point: 'a_w', unit: 'W', value: 1, quality: 'good' });
    expect(value('c_w')).toMatchObject({ quality: 'bad', value: null, error: 'DCIM_E_SNMP_NO_SUCH_OBJECT' });
    // Rows in numeric OID order (10 after 2), index from the OID suffix.
    expect(r.readings.filter((x) => x.index).map((x) => [x.point, x.index?.outlet, x.value])).toEqual([
      ['outlet_power_w', '1', 100], ['outlet_current_a', '1', 1.1],
      ['outlet_power_w', '2', 200], ['outlet_current_a', '2', 2.2],
      ['outlet_power_w', '10', 1000], ['outlet_current_a', '10', 3.3],
    ]);
    expect(r.poll).toMatchObject({ requests: 2, retries: 0, timeouts: 0 });
  });

  it('splits GET batches at max_oids_per_request', async () => {
    const { log } = await run({}, profile({ quirks: { max_oids_per_request: 2 } }));
    expect(log.filter((l) => l.op === 'get').map((l) => l.oids.length)).toEqual([2, 2, 1]);
  });

  it('splits a GET on tooBig until it fits', async () => {
    const { log, value } = await run({ maxVarbinds: 2 }, profile({ tables: [] }));
    expect(log.map((l) => l.oids.length)).toEqual([5, 3, 2, 1, 2]);
    expect(['a_w', 'b_w', 'd_w', 'e_w'].map((p) => value(p)?.value)).toEqual([1, 2, 4, 5]);
  });

  it('a single OID that is still tooBig becomes a bad reading, the rest survive', async () => {
    const { value } = await run({ maxVarbinds: 0 }, profile({ tables: [] }));
    expect(value('a_w')).toMatchObject({ quality: 'bad', error: 'DCIM_E_SNMP_ERROR' });
  });

  it('v1: a missing OID fails the whole PDU, bisection isolates it', async () => {
    const { value, r } = await run({ version: '1' }, profile({ tables: [] }));
    expect(['a_w', 'b_w', 'd_w', 'e_w'].map((p) => value(p)?.value)).toEqual([1, 2, 4, 5]);
    expect(value('c_w')).toMatchObject({ quality: 'bad', error: 'DCIM_E_SNMP_NO_SUCH_OBJECT' });
    expect(r.poll.requests).toBeGreaterThan(1);
  });

  it('genErr on one OID is isolated as DCIM_E_SNMP_ERROR', async () => {
    const { value } = await run({ genErr: ['1.3.6.1.4.1.99.1.4.0'] }, profile({ tables: [] }));
    expect(value('d_w')).toMatchObject({ quality: 'bad', error: 'DCIM_E_SNMP_ERROR' });
    expect(value('e_w')?.value).toBe(5);
  });

  it('v1 walks each column with GETNEXT and stops at noSuchName', async () => {
    const { r, log } = await run({ version: '1' }, profile({ points: [] }));
    expect(log.every((l) => l.op === 'getnext' && l.oids.length === 1)).toBe(true);
    expect(r.readings.filter((x) => x.quality === 'good')).toHaveLength(6);
  });

  it('halves max_repetitions on tooBig during a walk', async () => {
    const { log, r } = await run({ maxVarbinds: 10 }, profile({ points: [], quirks: { max_repetitions: 25 } }));
    // 2 columns × 3 rows fit in 10 varbinds; a second request finds the end of both columns.
    expect(log.map((l) => l.reps)).toEqual([25, 12, 6, 3, 3]);
    expect(r.readings.filter((x) => x.quality === 'good')).toHaveLength(6);
  });

  it('retries a lost request and counts it', async () => {
    const { r, value } = await run({ dropFirst: 1 }, profile({ tables: [] }));
    expect(r.poll).toMatchObject({ requests: 2, retries: 1, timeouts: 1 });
    expect(value('a_w')?.value).toBe(1);
  });

  it('a device that never answers ends the poll after one request and its retries', async () => {
    const { r, log } = await run({ dead: true }, profile({ quirks: { max_oids_per_request: 1 } }), 2);
    expect(log).toHaveLength(3);
    expect(r.poll).toMatchObject({ requests: 3, retries: 2, timeouts: 3 });
    expect(r.readings.every((x) => x.quality === 'bad' && x.error === 'DCIM_E_SNMP_TIMEOUT')).toBe(true);
    // Every scalar and one per table column, so the failure is visible per point.
    expect(r.readings.map((x) => x.point)).toEqual(['a_w', 'b_w', 'c_w', 'd_w', 'e_w', 'outlet_power_w', 'outlet_current_a']);
  });

  it('sends nothing once the deadline has passed', async () => {
    const { transport, log } = fakeTransport(data);
    const clock = new ManualClock();
    const reader = new SnmpReader({ profile: profile(), transport, policy: { timeoutMs: 100, retries: 1 }, clock });
    const r = await reader.read({ deadlineAt: clock.now() });
    expect(log).toHaveLength(0);
    expect(r.readings.every((x) => x.error === 'DCIM_E_SNMP_TIMEOUT')).toBe(true);
  });

  it('stops a walk whose OIDs go backwards, unless the profile allows it', async () => {
    const loop = { backwards: { [`${E}.2.2`]: `${E}.2.1` } };
    const strict = await run(loop, profile({ points: [], quirks: { max_repetitions: 1 } }));
    expect(strict.r.readings.filter((x) => x.point === 'outlet_power_w').map((x) => x.index?.outlet)).toEqual(['1', '2']);
    const lenient = await run(loop, profile({ points: [], quirks: { max_repetitions: 1, allow_nonincreasing_oids: true } }));
    // Following the backward step once meets an OID already seen: the walk still ends.
    expect(lenient.r.readings.filter((x) => x.point === 'outlet_power_w').map((x) => x.index?.outlet)).toEqual(['1', '2']);
    expect(lenient.log.length).toBeLessThan(10);
  });
});
