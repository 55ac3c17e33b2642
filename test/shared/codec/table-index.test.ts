import { describe, expect, it } from 'vitest';
import { fullRowIndex, rowIndexOf } from '../../../shared/codec/table-index.js';

const outletPower = { index_prefix: '1', index_suffix: '5' };
const polePower = { index_prefix: '1.1', index_suffix: '5' };

describe('multi-part table indexes', () => {
  it.each([
    ['a plain table', {}, '7', '7'],
    ['a plain table, two-part index', {}, '1.7', '1.7'],
    ['Raritan outlet 7 active power', outletPower, '1.7.5', '7'],
    ['Raritan outlet 17', outletPower, '1.17.5', '17'],
    ['another sensor type', outletPower, '1.7.1', undefined],
    ['another PDU in the chain', outletPower, '2.7.5', undefined],
    ['prefix 1 is not prefix 11', outletPower, '11.7.5', undefined],
    ['suffix 5 is not suffix 15', outletPower, '1.7.15', undefined],
    ['no middle part', outletPower, '1.5', undefined],
    ['inlet pole 2 power', polePower, '1.1.2.5', '2'],
    ['inlet 2, pole 2 is another inlet', polePower, '1.2.2.5', undefined],
    ['a suffix only', { index_suffix: '25' }, '3.25', '3'],
    ['garbage suffix', outletPower, '1.x.5', undefined],
    ['empty suffix', {}, '', undefined],
  ])('%s: %s', (_name, table, suffix, expected) => {
    expect(rowIndexOf(table, suffix)).toBe(expected);
  });

  it('builds the full index back', () => {
    expect(fullRowIndex(outletPower, 7)).toBe('1.7.5');
    expect(fullRowIndex(polePower, '3')).toBe('1.1.3.5');
    expect(fullRowIndex({}, 4)).toBe('4');
    expect(rowIndexOf(polePower, fullRowIndex(polePower, 12))).toBe('12');
  });
});
