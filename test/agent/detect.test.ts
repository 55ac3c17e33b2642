import { describe, expect, it } from 'vitest';
import { SnmpProfileSchema, type DeviceProfile } from '../../contract/index.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { detectProfile, GENERIC_SNMP_PROFILE, probeOids, type ProbeAnswers } from '../../agent/detect.js';
import { probeAnswers, varbindText } from '../../agent/snmp/snmp-probe.js';
import { SnmpType } from '../../agent/snmp/asn1-types.js';

const builtin = loadProfiles();
const snmp = (id: string, claims: string[]): DeviceProfile =>
  SnmpProfileSchema.parse({
    id,
    class: 'pdu',
    vendor: 'v',
    model: 'm',
    protocol: 'snmp',
    match: { sys_object_id: claims },
    points: [{ name: 'x', oid: '1.3.6.1.2.1.1.5.0', type: 'string' }],
    test_vectors: [{ point: 'x', raw: 'a', expected: 'a' }],
  });

const APC_PROBE = '1.3.6.1.4.1.318.1.1.26.4.3.1.5';
const RARITAN_PROBE = '1.3.6.1.4.1.13742.6.5.2.3.1.4';

describe('detectProfile', () => {
  it.each([
    ['APC rPDU2 exactly', '1.3.6.1.4.1.318.1.3.4.6', 'apc-rpdu2', 'match'],
    ['APC rPDU2 sub-model', '1.3.6.1.4.1.318.1.3.4.6.2', 'apc-rpdu2', 'match'],
    ['leading dot and spaces', ' .1.3.6.1.4.1.13742.6 ', 'raritan-px2', 'match'],
    ['Raritan PX2', '1.3.6.1.4.1.13742.6', 'raritan-px2', 'match'],
    // Component-wise, not string prefix: …4.60 is not under …4.6.
    ['a longer last component is another branch', '1.3.6.1.4.1.318.1.3.4.60', GENERIC_SNMP_PROFILE, 'generic'],
    ['Raritan PX1 (PDU-MIB) is not a PX2', '1.3.6.1.4.1.13742.4', GENERIC_SNMP_PROFILE, 'generic'],
    ['Net-SNMP on Linux', '1.3.6.1.4.1.8072.3.2.10', GENERIC_SNMP_PROFILE, 'generic'],
  ])('%s: %s → %s', (_label, oid, id, how) => {
    // The PDUs answer their own MIB (their claims hold only then); the others answer nothing.
    const pdus = answers(how === 'match' ? { [APC_PROBE]: '114', [RARITAN_PROBE]: '3480' } : {});
    const r = detectProfile(oid, builtin, pdus);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.profile.id).toBe(id);
    expect(r.value.how).toBe(how);
    expect(r.value.reason).toContain(how === 'generic' ? 'no profile claims' : 'claimed by');
  });

  it('the longest claim wins, whatever the order; ties are named', () => {
    const profiles = new Map<string, DeviceProfile>([
      ['vendor-wide', snmp('vendor-wide', ['1.3.6.1.4.1.999'])],
      ['model-b', snmp('model-b', ['1.3.6.1.4.1.999.1.2'])],
      ['model-a', snmp('model-a', ['1.3.6.1.4.1.999.1.2', '1.3.6.1.4.1.999.7'])],
    ]);
    const r = detectProfile('1.3.6.1.4.1.999.1.2.3', profiles);
    expect(r).toMatchObject({ ok: true, value: { how: 'match', matched_prefix: '1.3.6.1.4.1.999.1.2', candidates: ['model-a', 'model-b', 'vendor-wide'] } });
    if (r.ok) {
      expect(r.value.profile.id).toBe('model-a');
      expect(r.value.reason).toContain('also claimed as long by model-b');
    }
    expect(detectProfile('1.3.6.1.4.1.999.5', profiles)).toMatchObject({ ok: true, value: { candidates: ['vendor-wide'] } });
  });

  it.each([['', 'empty'], ['iso.3.6.1', 'symbolic'], ['1.3.6.1.4.1.x', 'letters'], ['1..3', 'empty component'], ['1.3.6.1.4.1.318;rm -rf', 'shell text']])(
    'refuses a sysObjectID that is not a numeric OID (%j, %s)',
    (oid) => {
      const r = detectProfile(oid, builtin);
      expect(r.ok).toBe(false);
    },
  );

  it('without the generic profile an unknown device is an answer with a reason, not a throw', () => {
    const only = new Map<string, DeviceProfile>([['apc-rpdu2', builtin.get('apc-rpdu2') as DeviceProfile]]);
    const r = detectProfile('1.3.6.1.4.1.8072.3.2.10', only);
    expect(r).toEqual({ ok: false, reason: expect.stringContaining('generic-snmp is not loaded') });
  });

  it('never proposes a Modbus or Redfish profile', () => {
    for (const p of builtin.values()) {
      if (p.protocol === 'snmp') continue;
      const r = detectProfile('1.3.6.1.4.1.318.1.3.4.6', builtin);
      expect(r.ok && r.value.profile.id).not.toBe(p.id);
    }
  });
});

/** Answers as snmp-probe.ts builds them from GETNEXT varbinds. */
const answers = (xs: Record<string, string>): ProbeAnswers => new Map(Object.entries(xs).map(([probed, text]) => [probed, { oid: `${probed}.0`, text }]));
const UPS_IDENT = '1.3.6.1.2.1.33.1.1.1';
const XUPS_IDENT = '1.3.6.1.4.1.534.1.1.1';

describe('detectProfile with probes', () => {
  it('probes nothing when a claim without probes holds (it costs no extra request)', () => {
    const profiles = new Map<string, DeviceProfile>([['vendor-wide', snmp('vendor-wide', ['1.3.6.1.4.1.999'])], ['ups', builtin.get('rfc1628-ups') as DeviceProfile]]);
    expect(probeOids('1.3.6.1.4.1.999.1', profiles)).toEqual([]);
    expect(probeOids('1.3.6.1.4.1.998.1', profiles)).toEqual([UPS_IDENT]);
  });

  it('an APC rPDU2 claim does not hold without rPDU2, and an rPDU2 under another sysObjectID is found by it', () => {
    expect(detectProfile('1.3.6.1.4.1.318.1.3.4.6', builtin, answers({}))).toMatchObject({ ok: true, value: { how: 'generic', rejected: [expect.stringContaining('apc-rpdu2: sysObjectID')] } });
    const r = detectProfile('1.3.6.1.4.1.318.1.3.4.99', builtin, answers({ [APC_PROBE]: '114' }));
    expect(r).toMatchObject({ ok: true, value: { how: 'probe', candidates: ['apc-rpdu2'] } });
    if (r.ok) expect(r.value.reason).toContain('rPDU2DeviceStatusPower = "114" under PowerNet-MIB');
  });

  it('the generic profile ranks last even when its deeper ENTITY-SENSOR-MIB probe answers', () => {
    const r = detectProfile('1.3.6.1.2.1.33', builtin, answers({ [UPS_IDENT]: 'X', '1.3.6.1.2.1.99.1.1.1.1': '8' }));
    expect(r.ok && r.value.candidates.at(-1)).toBe(GENERIC_SNMP_PROFILE);
    expect(r.ok && r.value.profile.id).toBe('rfc1628-ups');
    const only = detectProfile('1.3.6.1.4.1.8072.3.2.10', builtin, answers({ '1.3.6.1.2.1.99.1.1.1.1': '8' }));
    expect(only).toMatchObject({ ok: true, value: { how: 'probe', candidates: [GENERIC_SNMP_PROFILE], reason: expect.stringContaining('entPhySensorType = "8" under ENTITY-SENSOR-MIB') } });
  });

  it('otherwise probes every declared subtree once, in OID order', () => {
    const oids = probeOids('1.3.6.1.2.1.33', builtin);
    expect(oids).toEqual(expect.arrayContaining([UPS_IDENT, XUPS_IDENT]));
    expect(new Set(oids).size).toBe(oids.length);
    expect(oids.indexOf(UPS_IDENT)).toBeLessThan(oids.indexOf(XUPS_IDENT));
  });

  it('a card whose sysObjectID is the UPS-MIB OID itself is found by its UPS-MIB answer', () => {
    const r = detectProfile('1.3.6.1.2.1.33', builtin, answers({ [UPS_IDENT]: 'Example Power Ltd' }));
    expect(r).toMatchObject({ ok: true, value: { how: 'probe', candidates: ['rfc1628-ups', 'delta-ups', 'vertiv-liebert-ups'] } });
    if (!r.ok) return;
    expect(r.value.profile.id).toBe('rfc1628-ups');
    expect(r.value.reason).toBe('no profile claims sysObjectID 1.3.6.1.2.1.33; rfc1628-ups: it answers upsIdentManufacturer = "Example Power Ltd" under UPS-MIB');
    expect(r.value.ranking[0]).toEqual({ profile: 'rfc1628-ups', how: 'probe', reason: 'it answers upsIdentManufacturer = "Example Power Ltd" under UPS-MIB' });
    expect(r.value.ranking[1]).toEqual({ profile: 'delta-ups', how: 'probe', reason: 'it answers upsIdentManufacturer = "Example Power Ltd" under UPS-MIB; its vendor prefix 1.3.6.1.4.1.2254.2.4 does not cover the sysObjectID' });
  });

  it('a UPS-MIB card under an unknown vendor number is a standard UPS, not generic', () => {
    const r = detectProfile('1.3.6.1.4.1.99999.1', builtin, answers({ [UPS_IDENT]: 'ACME' }));
    expect(r.ok && r.value.profile.id).toBe('rfc1628-ups');
  });

  it('a vendor MIB on top of the standard one ranks first, even under another sysObjectID', () => {
    // An Eaton card of the MGE lineage (1.3.6.1.4.1.705.1) that serves XUPS-MIB too.
    const r = detectProfile('1.3.6.1.4.1.705.1', builtin, answers({ [UPS_IDENT]: 'EATON', [XUPS_IDENT]: 'EATON' }));
    expect(r).toMatchObject({ ok: true, value: { how: 'probe', candidates: ['eaton-ups', 'rfc1628-ups', 'delta-ups', 'vertiv-liebert-ups'] } });
    if (r.ok) expect(r.value.reason).toContain('xupsIdentManufacturer = "EATON" under XUPS-MIB');
  });

  it('a vendor claim holds when its probes answer, and says both', () => {
    const r = detectProfile('1.3.6.1.4.1.534.1', builtin, answers({ [UPS_IDENT]: 'EATON', [XUPS_IDENT]: 'EATON' }));
    expect(r).toMatchObject({ ok: true, value: { how: 'match', matched_prefix: '1.3.6.1.4.1.534' } });
    if (!r.ok) return;
    expect(r.value.profile.id).toBe('eaton-ups');
    expect(r.value.reason).toBe('sysObjectID 1.3.6.1.4.1.534.1 is under 1.3.6.1.4.1.534, claimed by eaton-ups, and it answers upsIdentManufacturer = "EATON" under UPS-MIB, xupsIdentManufacturer = "EATON" under XUPS-MIB');
    expect(r.value.candidates[0]).toBe('eaton-ups');
  });

  it('a vendor claim whose probe goes unanswered does not hold: a Liebert air conditioner is no UPS', () => {
    const r = detectProfile('1.3.6.1.4.1.476.1.42', builtin, answers({}));
    expect(r).toMatchObject({ ok: true, value: { how: 'generic', candidates: [] } });
    if (!r.ok) return;
    expect(r.value.rejected).toEqual([
      'vertiv-liebert-pac: sysObjectID 1.3.6.1.4.1.476.1.42 is under 1.3.6.1.4.1.476.1.42, but no answer under LIEBERT-GP-ENVIRONMENTAL-MIB (lgpEnvTemperatureEntryDegC, 1.3.6.1.4.1.476.1.42.3.4.1.3.3.1); no answer under LIEBERT-GP-ENVIRONMENTAL-MIB (lgpEnvStateSystem, 1.3.6.1.4.1.476.1.42.3.4.3.1)',
      'vertiv-liebert-ups: sysObjectID 1.3.6.1.4.1.476.1.42 is under 1.3.6.1.4.1.476.1.42, but no answer under UPS-MIB (upsIdentManufacturer, 1.3.6.1.2.1.33.1.1.1)',
    ]);
    expect(r.value.reason).toContain('vertiv-liebert-ups: sysObjectID');
  });

  it('the same Liebert card answering UPS-MIB is claimed by its vendor profile', () => {
    const r = detectProfile('1.3.6.1.4.1.476.1.42', builtin, answers({ [UPS_IDENT]: 'Liebert' }));
    expect(r).toMatchObject({ ok: true, value: { how: 'match', candidates: ['vertiv-liebert-ups', 'rfc1628-ups', 'delta-ups'] } });
  });

  it('a probe with `matches` needs the value to fit', () => {
    const withRule = (id: string, rule?: string): DeviceProfile =>
      SnmpProfileSchema.parse({
        id, class: 'ups', vendor: 'v', model: 'm', protocol: 'snmp',
        match: { probe: [{ oid: UPS_IDENT, object: 'upsIdentManufacturer', mib: 'UPS-MIB', ...(rule ? { matches: rule } : {}) }] },
        points: [{ name: 'x', oid: '1.3.6.1.2.1.1.5.0', type: 'string' }],
        test_vectors: [{ point: 'x', raw: 'a', expected: 'a' }],
      });
    const profiles = new Map<string, DeviceProfile>([['kehua', withRule('kehua', '^kehua')], ['any', withRule('any')]]);
    expect(detectProfile('1.3.6.1.2.1.33', profiles, answers({ [UPS_IDENT]: 'KEHUA TECH' }))).toMatchObject({ ok: true, value: { candidates: ['any', 'kehua'] } });
    const other = detectProfile('1.3.6.1.2.1.33', profiles, answers({ [UPS_IDENT]: 'EATON' }));
    expect(other).toMatchObject({ ok: true, value: { candidates: ['any'] } });
  });

  it('the schema refuses a match with neither claim nor probe, and a probe with a bad regular expression', () => {
    const base = { id: 'x', class: 'ups', vendor: 'v', model: 'm', protocol: 'snmp', points: [{ name: 'x', oid: '1.3.6.1.2.1.1.5.0', type: 'string' }], test_vectors: [{ point: 'x', raw: 'a', expected: 'a' }] };
    expect(SnmpProfileSchema.safeParse({ ...base, match: {} }).success).toBe(false);
    expect(SnmpProfileSchema.safeParse({ ...base, match: { probe: [{ oid: UPS_IDENT, object: 'o', mib: 'M', matches: '([' }] } }).success).toBe(false);
    expect(SnmpProfileSchema.safeParse({ ...base, match: { probe: [{ oid: 'iso.3', object: 'o', mib: 'M' }] } }).success).toBe(false);
  });
});

describe('probeAnswers', () => {
  const vb = (oid: string, type: number, value: unknown) => ({ oid, type, value });

  it('keeps only answers inside the probed subtree', () => {
    const got = probeAnswers(
      new Map([
        // No XUPS-MIB here: the agent answers with the next object it has, elsewhere.
        [XUPS_IDENT, vb('1.3.6.1.4.1.8072.1.2.1.1.4.0.1.0.0', SnmpType.Integer, 1)],
        // A sibling that shares the text prefix is not inside (…1.1.10 is not under …1.1.1).
        [UPS_IDENT, vb('1.3.6.1.2.1.33.1.1.10.0', SnmpType.OctetString, Buffer.from('x'))],
        ['1.3.6.1.2.1.99.1.1', vb('1.3.6.1.2.1.99.1.1', SnmpType.EndOfMibView, null)],
      ]),
    );
    expect([...got.keys()]).toEqual([]);
    const one = probeAnswers(new Map([[UPS_IDENT, vb(`${UPS_IDENT}.0`, SnmpType.OctetString, Buffer.from('EATON'))]]));
    expect(one.get(UPS_IDENT)).toEqual({ oid: `${UPS_IDENT}.0`, text: 'EATON' });
  });

  it('cleans what a device says before a person reads it', () => {
    expect(varbindText(vb('1.1', SnmpType.OctetString, Buffer.from('EA\u001b[2JTON\n')))).toBe('EA [2JTON');
    expect(varbindText(vb('1.1', SnmpType.OctetString, Buffer.from('x'.repeat(200))))).toHaveLength(65);
    expect(varbindText(vb('1.1', SnmpType.Integer, 42))).toBe('42');
  });
});
