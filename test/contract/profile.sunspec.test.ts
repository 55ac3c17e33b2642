import { describe, expect, it } from 'vitest';
import { ModbusProfileSchema } from '../../contract/index.js';

/**
 * SunSpec points in a profile: placed by model and offset, given their address in the profile's
 * reference chain (what the simulator serves); every way of writing one wrong is named.
 */
const base = {
  id: 'inv',
  class: 'pv_inverter',
  vendor: 'x',
  model: 'y',
  protocol: 'modbus',
  sunspec: { base: 40000, models: [{ id: 1, length: 65 }, { id: 103, length: 50 }] },
  test_vectors: [{ point: 'active_power_w', raw: [1], sf: 0, expected: 1 }],
};
const point = { name: 'active_power_w', unit: 'W', type: 'int16', model: { id: [101, 103], offset: 14 }, scale_factor: { offset: 15 } };
/** Model 160's module DC power: offset 11 in blocks of 20 from offset 10, N at 8, DCW_SF at 4. */
const repeat = { name: 'dc_module_power_w', unit: 'W', type: 'uint16', model: { id: 160, offset: 11, repeat: { start: 10, length: 20, count: 8, index_tag: 'module' } }, scale_factor: { offset: 4 } };
const withMppt = { ...base, sunspec: { base: 40000, models: [...base.sunspec.models, { id: 160, length: 28 }] } };

describe('ModbusProfileSchema: SunSpec model places', () => {
  it('places a point and its scale factor in the reference chain (model 103 at 40069 after an L 65 model 1)', () => {
    const p = ModbusProfileSchema.parse({ ...base, points: [point] });
    expect(p.points[0]).toEqual(expect.objectContaining({ register: 'holding', address: 40069 + 14, model: { id: [101, 103], offset: 14 }, scale_factor: { register: 'holding', address: 40069 + 15, offset: 15 } }));
  });

  it('places a repeat point at its first block (model 160 at 40121 after L 65 and 103), the scale factor in the fixed part', () => {
    const p = ModbusProfileSchema.parse({ ...withMppt, points: [repeat] });
    expect(p.points[0]).toEqual(expect.objectContaining({ address: 40121 + 10 + 11, scale_factor: { register: 'holding', address: 40121 + 4, offset: 4 } }));
  });

  it('keeps absolute points as they were', () => {
    const p = ModbusProfileSchema.parse({ ...base, points: [{ name: 'active_power_w', unit: 'W', type: 'int16', register: 'input', address: 7, scale_factor: { register: 'input', address: 8 } }] });
    expect(p.points[0]).toEqual(expect.objectContaining({ register: 'input', address: 7, scale_factor: { register: 'input', address: 8 } }));
  });

  it.each([
    ['address and model both', { ...point, address: 40000 }, 'points.0.address', 'not both'],
    ['a model the reference chain lacks', { ...point, model: { id: 113, offset: 14 } }, 'points.0.model.id', 'no model 113'],
    ['an offset past the model', { ...point, model: { id: 103, offset: 52 } }, 'points.0.model.offset', 'passes model 103'],
    ['a scale factor by address in a model point', { ...point, scale_factor: { register: 'holding', address: 40085 } }, 'points.0.scale_factor', 'by offset'],
    ['an input register in a model point', { ...point, register: 'input' }, 'points.0.register', 'holding'],
    ['neither address nor model', { name: 'active_power_w', unit: 'W', type: 'int16' }, 'points.0', 'register and address'],
    ['offset 0 or 1 (the ID and L registers)', { ...point, model: { id: 103, offset: 1 } }, 'points.0.model.offset', ''],
    ['a repeat offset past its block', { ...repeat, model: { ...repeat.model, offset: 20 } }, 'points.0.model.offset', 'inside a repeat block'],
    ['a repeat point past the block (acc32 at the last register)', { ...repeat, type: 'uint32', model: { ...repeat.model, offset: 19 } }, 'points.0.model.offset', 'passes the repeat block'],
    ['a reference chain too short for one block', { ...repeat, model: { ...repeat.model, repeat: { ...repeat.model.repeat, start: 30 } } }, 'points.0.model.offset', 'passes model 160'],
    ['an index tag that is not one', { ...repeat, model: { ...repeat.model, repeat: { ...repeat.model.repeat, index_tag: 'mppt' } } }, 'points.0.model.repeat.index_tag', ''],
  ])('refuses %s', (_what, pt, path, message) => {
    const r = ModbusProfileSchema.safeParse({ ...withMppt, points: [pt] });
    expect(r.success).toBe(false);
    const issue = r.error?.issues.find((i) => i.path.join('.') === path);
    expect(issue?.message ?? '', JSON.stringify(r.error?.issues)).toContain(message);
  });
});
