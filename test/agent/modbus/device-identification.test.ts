import { describe, expect, it } from 'vitest';
import { checkDeviceIdentification } from '../../../agent/modbus/device-identification.js';

/** What modbus-serial hands back for a 43/14 answer, checked before anyone reads it as a name. */
describe('checkDeviceIdentification', () => {
  const basic = { 0: 'Acme Solar', 1: 'AS-10K3', 2: '1.4.2' };

  it('takes the basic objects and the regular ones a device sends, NUL padding trimmed', () => {
    expect(checkDeviceIdentification({ data: { ...basic, 4: 'Inverter\0\0', 5: 'AS-10K3-EU' }, conformityLevel: 0x82 })).toEqual({
      ok: true,
      value: { vendor: 'Acme Solar', product: 'AS-10K3', revision: '1.4.2', product_name: 'Inverter', model_name: 'AS-10K3-EU', conformity: 0x82 },
    });
  });

  it.each([
    ['non-text bytes', { data: { ...basic, 0: '\u0001\u00ff\u0080' }, conformityLevel: 1 }, 'non-text'],
    ['a mandatory object missing', { data: { 0: 'Acme', 1: 'X' }, conformityLevel: 1 }, 'mandatory object 2'],
    ['objects numbered past the basic ones only', { data: { 7: 'Acme', 8: 'X', 9: '1' }, conformityLevel: 1 }, 'mandatory object 0'],
    ['a regular object that is not text', { data: { ...basic, 5: '\u00c3\u0028' }, conformityLevel: 0x82 }, 'object 5 holds non-text'],
    ['an unknown conformity level', { data: basic, conformityLevel: 7 }, 'conformity'],
    ['an object longer than a frame', { data: { ...basic, 1: 'x'.repeat(300) }, conformityLevel: 1 }, 'more than a frame'],
    ['an object that is not text', { data: { ...basic, 2: 12 }, conformityLevel: 1 }, 'not text'],
    ['no objects', { conformityLevel: 1 }, 'no objects'],
    ['nothing', null, 'no answer'],
  ])('refuses %s', (_what, answer, why) => {
    const r = checkDeviceIdentification(answer);
    expect(r.ok).toBe(false);
    if (!r.ok) expect([r.kind, r.message]).toEqual(['invalid', expect.stringContaining(why)]);
  });
});
