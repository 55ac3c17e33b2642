import { describe, expect, it } from 'vitest';
import { ModbusMatchSchema, ModbusProfileSchema } from '../../contract/index.js';

/**
 * How a Modbus profile says detection recognises its device (`match`): identification registers,
 * optionally read as one whole block, and Read Device Identification (43/14) objects. Every way
 * of writing one wrong is refused with the path.
 */
const register = { object: "Manufacturer's ID", register: 'holding', address: 64001, type: 'uint16', equals: [42] };
const text = { object: 'Order No.', register: 'holding', address: 64002, type: 'string', length: 10, matches: '^7KM' };

describe('ModbusMatchSchema', () => {
  it.each([
    ['registers alone', { registers: [register] }],
    ['43/14 objects alone', { device_id: { vendor_name: '^Schneider Electric$', model_name: 'PM55' } }],
    ['both', { registers: [register], device_id: { product_code: '^METSEPM' } }],
    ['registers inside a whole block', { block: { register: 'holding', address: 64001, length: 27 }, registers: [register, text] }],
    ['a string that ends on the block’s last register', { block: { register: 'holding', address: 64002, length: 10 }, registers: [text] }],
  ])('takes %s', (_what, match) => {
    expect(ModbusMatchSchema.safeParse(match).success).toBe(true);
  });

  it.each([
    ['nothing to match by', {}, 'name registers, device_id, or both'],
    ['an empty device_id', { device_id: {} }, 'name at least one object'],
    ['an object 43/14 does not define', { device_id: { serial_number: 'x' } }, 'serial_number'],
    ['a device_id regex that does not compile', { device_id: { vendor_name: '(' } }, 'expected a regular expression'],
    ['a block without registers', { block: { register: 'holding', address: 64001, length: 27 }, device_id: { vendor_name: 'x' } }, 'a block holds registers'],
    ['a register outside its block', { block: { register: 'holding', address: 64001, length: 5 }, registers: [register, text] }, 'outside the block'],
    ['a register of the other table', { block: { register: 'input', address: 64001, length: 27 }, registers: [register] }, 'outside the block'],
    ['a block longer than one read', { block: { register: 'holding', address: 64001, length: 126 }, registers: [register] }, '125'],
    ['a block past address 65535', { block: { register: 'holding', address: 65500, length: 100 }, registers: [{ ...register, address: 65500 }] }, 'passes address 65535'],
  ])('refuses %s', (_what, match, why) => {
    const r = ModbusMatchSchema.safeParse(match);
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain(why);
  });

  it('is the match of a Modbus profile', () => {
    const p = ModbusProfileSchema.safeParse({
      id: 'm',
      class: 'meter',
      vendor: 'x',
      model: 'y',
      protocol: 'modbus',
      match: { block: { register: 'holding', address: 64001, length: 4 }, registers: [text] },
      points: [{ name: 'voltage_l1_v', register: 'holding', address: 1, type: 'uint16', unit: 'V' }],
      test_vectors: [{ point: 'voltage_l1_v', raw: [230], expected: 230 }],
    });
    expect(p.success).toBe(false);
    expect(p.error?.issues[0]?.path).toEqual(['match', 'registers', 0, 'address']);
  });
});
