import { describe, expect, it } from 'vitest';
import { decodeRedfishValue, type RedfishValueSpec } from '../../../agent/decode/redfish-value.js';

const spec = (over: Partial<RedfishValueSpec> = {}): RedfishValueSpec => ({ type: 'number', scale: 1, offset: 0, ...over });
const ok = (value: unknown) => ({ ok: true, value });
const bad = (error: string) => expect.objectContaining({ ok: false, error });
const health = { '0': 'ok', '1': 'warning' };

describe('decodeRedfishValue', () => {
  it.each([
    ['a reading', spec(), 689.2, ok(689.2)],
    ['an integer', spec(), 81559, ok(81559)],
    ['zero', spec(), 0, ok(0)],
    ['negative', spec(), -3.5, ok(-3.5)],
    ['scaled mW → W', spec({ scale: 0.001 }), 689200, ok(689.2)],
    ['kJ offset', spec({ offset: -273.15 }), 300, ok(26.85)],
    ['null: no reading now', spec(), null, bad('DCIM_E_VALUE_UNAVAILABLE')],
    ['a sentinel number', spec({ sentinels: [-1] }), -1, bad('DCIM_E_VALUE_UNAVAILABLE')],
    ['a sentinel text', spec({ type: 'string', sentinels: ['N/A'] }), 'N/A', bad('DCIM_E_VALUE_UNAVAILABLE')],
    ['text where a number belongs', spec(), '689.2', bad('DCIM_E_DECODE_VALUE')],
    ['a boolean where a number belongs', spec(), true, bad('DCIM_E_DECODE_VALUE')],
    ['an object where a number belongs', spec(), { Reading: 1 }, bad('DCIM_E_DECODE_VALUE')],
    ['an array where a number belongs', spec(), [1], bad('DCIM_E_DECODE_VALUE')],
    ['Infinity (not JSON, but never a reading)', spec(), Number.POSITIVE_INFINITY, bad('DCIM_E_DECODE_VALUE')],
    ['NaN', spec(), Number.NaN, bad('DCIM_E_DECODE_VALUE')],
    ['undefined (pointer found nothing)', spec(), undefined, bad('DCIM_E_DECODE_VALUE')],
    ['a bigint', spec(), 10n, bad('DCIM_E_DECODE_VALUE')],
    ['a model name', spec({ type: 'string' }), 'NVIDIA H100 80GB HBM3', ok('NVIDIA H100 80GB HBM3')],
    ['Chinese text', spec({ type: 'string' }), '昇腾 910B', ok('昇腾 910B')],
    ['the empty string', spec({ type: 'string' }), '', ok('')],
    ['a number read as text', spec({ type: 'string' }), 910, ok('910')],
    ['long text is cut', spec({ type: 'string' }), 'x'.repeat(1000), ok('x'.repeat(256))],
    ['an object where text belongs', spec({ type: 'string' }), {}, bad('DCIM_E_DECODE_VALUE')],
    ['null text', spec({ type: 'string' }), null, bad('DCIM_E_VALUE_UNAVAILABLE')],
    ['true', spec({ type: 'bool' }), true, ok(true)],
    ['false', spec({ type: 'bool' }), false, ok(false)],
    ['a bool through a map', spec({ type: 'bool', enum: { '1': 'on', '0': 'off' } }), false, ok('off')],
    ['"true" is text, not a bool', spec({ type: 'bool' }), 'true', bad('DCIM_E_DECODE_VALUE')],
    ['1 is a number, not a bool', spec({ type: 'bool' }), 1, bad('DCIM_E_DECODE_VALUE')],
    ['an enum integer', spec({ type: 'enum', enum: health }), 1, ok('warning')],
    ['an enum integer as text', spec({ type: 'enum', enum: health }), '0', ok('ok')],
    ['an enum value the map lacks', spec({ type: 'enum', enum: health }), 7, bad('DCIM_E_DECODE_VALUE')],
    ['an enum fraction', spec({ type: 'enum', enum: health }), 0.5, bad('DCIM_E_DECODE_VALUE')],
    ['an enum without a map', spec({ type: 'enum' }), 0, bad('DCIM_E_DECODE_VALUE')],
    ['an enum key from the prototype', spec({ type: 'enum', enum: health }), 'constructor', bad('DCIM_E_DECODE_VALUE')],
    ['an enum null', spec({ type: 'enum', enum: health }), null, bad('DCIM_E_VALUE_UNAVAILABLE')],
  ] as const)('%s', (_name, s, value, expected) => {
    expect(decodeRedfishValue(s, value)).toEqual(expected);
  });
});
