import { describe, expect, it } from 'vitest';
import { loadProfiles, SnmpProfileSchema, type DeviceProfile } from '../../contract/index.js';
import { detectProfile, GENERIC_SNMP_PROFILE } from '../../agent/detect.js';

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
    const r = detectProfile(oid, builtin);
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
