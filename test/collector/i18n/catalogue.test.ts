import { describe, expect, it } from 'vitest';
import { CATALOGUE, DEFAULT_LANG, LANGS, parseLang, translate, type MessageKey } from '../../../collector/i18n/catalogue.js';

/** The catalogue shared by the live page and the report: both languages in step, the plan's terms. */
const placeholders = (s: string) => [...s.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1]).sort();

describe('message catalogue', () => {
  it('defaults to zh-CN', () => {
    expect(DEFAULT_LANG).toBe('zh-CN');
  });

  it('has the same keys and the same placeholders in every language', () => {
    const keys = Object.keys(CATALOGUE.en).sort();
    for (const lang of LANGS) {
      expect(Object.keys(CATALOGUE[lang]).sort()).toEqual(keys);
      for (const k of keys as MessageKey[]) expect([lang, k, placeholders(CATALOGUE[lang][k]!)]).toEqual([lang, k, placeholders(CATALOGUE.en[k]!)]);
    }
  });

  it.each([
    ['kpi.rack_occupancy_ratio', '上架率'],
    ['kpi.green_share_ratio', '绿电占比'],
    ['kpi.compute_scale', '算力规模'],
    ['kpi.compute_ai_share_ratio', '智算占比'],
    ['kpi.pue', 'PUE'],
  ] as const)('zh-CN says %s as the plan does: %s', (key, term) => {
    expect(CATALOGUE['zh-CN'][key]).toBe(term);
    // The English label keeps the plan's term beside it (except PUE, which is the same word).
    expect(CATALOGUE.en[key]).toContain(term);
  });

  it.each([
    ['zh', 'zh-CN'],
    ['zh-CN', 'zh-CN'],
    ['ZH-hans', 'zh-CN'],
    ['en', 'en'],
    ['en-GB', 'en'],
    ['fr', undefined],
    ['', undefined],
    [null, undefined],
    ['english', undefined],
  ])('parseLang(%j) is %j', (input, want) => {
    expect(parseLang(input)).toBe(want);
  });

  it('fills placeholders and leaves unknown ones visible', () => {
    expect(translate('en', 'age.min', { n: 12 })).toBe('12 min');
    expect(translate('zh-CN', 'age.min', { n: 12 })).toBe('12 分钟');
    expect(translate('en', 'age.h', { h: 1 })).toBe('1 h {m} min');
  });
});
