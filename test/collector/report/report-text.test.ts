import { describe, expect, it } from 'vitest';
import { buildMonthlyReport, type ReportScope } from '../../../collector/report/monthly-report.js';
import { renderText } from '../../../collector/report/report-text.js';
import type { KpiValue } from '../../../contract/messages.js';

/** The text report: the catalogue's words in either language, each figure with its quality and status, a site without data said so. */
const AT = Date.UTC(2026, 1, 28, 16, 1);
const kpi = (kpi: string, window: KpiValue['window'], value: number, o: Partial<KpiValue> = {}): KpiValue => ({
  kpi,
  window,
  window_start: AT - 86_400_000,
  window_end: AT,
  basis: 'energy',
  ok: true,
  value,
  quality: 'measured',
  coverage: 1,
  status: 'green',
  target: 1.2,
  ...o,
});
const scopes: ReportScope[] = [
  {
    kind: 'site',
    summary: { id: 'a', name: 'Site A' },
    kpis: { schema: 1, site: 'a', ts: AT, kpis: [kpi('pue', '1mo', 1.1834), kpi('pue', 'ytd', 1.25, { status: 'amber', quality: 'partial', coverage: 0.97 }), kpi('rack_occupancy_ratio', '1mo', 0.5, { status: 'red' })] },
    reporting: { status: 'late', days_expected: 28, days_reported: 28, days_missing: [], days_late: ['2026-02-09'], max_delay_ms: 30 * 3_600_000, late_after_ms: 86_400_000 },
  },
  { kind: 'site', summary: { id: 'b', name: 'Site B' }, kpis: undefined, no_data: 'no stored summaries of site b for 2026-02', reporting: { status: 'silent', days_expected: 28, days_reported: 0, days_missing: [], days_late: [], max_delay_ms: null, late_after_ms: 86_400_000 } },
];
const report = buildMonthlyReport('2026-02', scopes, AT, 'dcim.sqlite', { source_kind: 'store', as_of_ms: AT, rank_by: 'pue' });

describe('text report', () => {
  it('zh-CN by default: the plan’s terms, qualities, statuses and reporting in Chinese', () => {
    const text = renderText(report);
    expect(text).toContain('月度报告 2026-02');
    expect(text).toContain('  PUE（月）: 1.183  (月 · 实测 · 100.0 % · 达标)');
    expect(text).toContain('  PUE（年初至今）: 1.250  (年初至今 · 部分替代 · 97.0 % · 接近目标)');
    expect(text).toContain('  上架率: 50.0 %  (月 · 实测 · 100.0 % · 未达标)');
    expect(text).toContain('  上报情况: 迟报 · 已报 28/28 天 · 最大延迟 30.0 h');
    expect(text).toContain('迟报（日结束后超过 24 小时）：2026-02-09');
    expect(text).toContain('站点排名（按PUE（月））');
    expect(text).toContain('  1. a Site A: 1.183 (实测 · 达标) · 迟报');
    expect(text).toContain('  不参与排名 b Site B: – (数据不足 · 无判定) · 未上报');
    expect(text).toContain('  无数据：no stored summaries of site b for 2026-02');
  });

  it('English with en', () => {
    const text = renderText(report, 'en');
    expect(text).toContain('  PUE month: 1.183  (month · measured · 100.0 % · target met)');
    expect(text).toContain('  Rack occupancy 上架率: 50.0 %  (month · measured · 100.0 % · target missed)');
    expect(text).toContain('  Reporting: late · 28/28 days reported · largest delay 30.0 h');
    expect(text).toContain('  No figures: no stored summaries of site b for 2026-02');
    expect(text).not.toContain('迟报');
  });
});
