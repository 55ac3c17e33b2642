import { describe, expect, it } from 'vitest';
import type { KpiValue } from '../../../../contract/messages.js';
import { pickKpi } from '../../../../collector/live/page/kpi-pick.js';

const v = (kpi: string, window: string, basis: string, value?: number): KpiValue =>
  ({ kpi, window, basis, window_start: 0, window_end: 0, ok: value !== undefined, ...(value !== undefined ? { value } : { reason: 'none' }), quality: value !== undefined ? 'measured' : 'insufficient', status: 'grey', coverage: 1 }) as unknown as KpiValue;

describe('pickKpi: the figure a live-page or bureau tile shows', () => {
  const kpis = [v('pue', '1d', 'energy'), v('pue', '1h', 'energy', 1.4), v('pue', '15m', 'energy', 1.5), v('pue', '1mo', 'mean_of_sites', 1.2), v('pue', '1mo', 'energy_weighted'), v('rack_occupancy_ratio', '1d', 'on_rack_count', 0.5)];
  it.each<[string, string, string[], ((b: string) => boolean) | undefined, string | undefined]>([
    ['the first preferred window with a value wins over an earlier one without', 'pue', ['1d', '1h', '15m'], undefined, '1h|energy|1.4'],
    ['without any value, the first preferred window present (so the tile can say why)', 'pue', ['1d', '1y'], undefined, '1d|energy|undefined'],
    ['other KPIs never answer', 'rack_occupancy_ratio', ['1h'], undefined, undefined],
    ['any basis by default: the mean of sites has the only 1mo value', 'pue', ['1mo'], undefined, '1mo|mean_of_sites|1.2'],
    ['a basis filter (the bureau headline) keeps the mean of sites out', 'pue', ['1mo'], (b) => b !== 'mean_of_sites', '1mo|energy_weighted|undefined'],
    ['no figures at all', 'pue', ['1d'], undefined, undefined],
  ])('%s', (_, name, wins, basis, expected) => {
    const k = pickKpi(expected === undefined && _ === 'no figures at all' ? undefined : kpis, name, wins, basis);
    expect(k === undefined ? undefined : `${k.window}|${k.basis}|${k.value}`).toBe(expected);
  });
});
