import { describe, expect, it } from 'vitest';
import { formatKpi, type KpiFormat } from '../../../../collector/live/page/kpi-format.js';
import { KPI_REGISTRY } from '../../../../collector/kpi/registry/index.js';
import { livePageHtml } from '../../../../collector/live/live-page.js';

const of = (name: string): KpiFormat => KPI_REGISTRY.find((m) => m.name === name)!.display.format;

describe('formatKpi: a figure as the live page writes it, by its module’s format', () => {
  it.each<[string, number, string]>([
    ['pue', 1.23456, '1.235'],
    ['pue_live', 1.2, '1.200'],
    ['rack_occupancy_ratio', 0.6789, '67.9 %'],
    ['green_share_live_ratio', 1, '100.0 %'],
    ['cooling_load_factor_ratio', 0.3, '30.0 %'],
    ['accelerator_utilisation_pct', 71.26, '71.3 %'],
    ['compute_ai_pflops', 12.345, '12.35 PF'],
    ['compute_general_pflops', 0.5, '0.50 PF'],
  ])('%s %d → %s', (name, value, text) => {
    expect(formatKpi(value, of(name))).toBe(text);
  });

  it('writes a KPI without a format (one the page does not know) rounded to three decimals', () => {
    expect(formatKpi(1.23456, undefined)).toBe('1.235');
  });

  it('has a format for every registered KPI', () => {
    for (const m of KPI_REGISTRY) expect([m.name, typeof m.display.format?.digits]).toEqual([m.name, 'number']);
  });

  it('reaches the page from the server: the page starts with every registered KPI\'s format', () => {
    const html = livePageHtml();
    for (const m of KPI_REGISTRY) expect(html).toContain(`${JSON.stringify(m.name)}:${JSON.stringify(m.display.format)}`);
  });
});
