import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KPI_CATALOGUE, KPI_MODULE_DIR, KPI_REGISTRY, loadKpiModules } from '../../../../collector/kpi/registry/index.js';
import { CATALOGUE, LANGS, translate } from '../../../../collector/i18n/catalogue.js';
import { kpiMeasurement } from '../../../../collector/store/kpi-schema.js';

/**
 * The registry is the folder: a module file dropped into it is a KPI, with no list to edit. The
 * drop is played in a scratch copy of the folder beside it (so the modules' relative imports
 * resolve as they do from the real one) with one new file, removed after the tests.
 */

const PUBLISHED_ORDER = [
  'pue_live',
  'green_share_live_ratio',
  'pue',
  'green_share_ratio',
  'ref_ratio',
  'rack_occupancy_ratio',
  'it_load_utilisation_ratio',
  'cooling_load_factor_ratio',
  'compute_ai_pflops',
  'compute_general_pflops',
  'compute_ai_share_ratio',
  'accelerator_utilisation_pct',
];

/** A KPI module as a newcomer would write it (a plain object: the type is the registry's to check). */
const waterUsage = (name: string, order: number) => `export default {
  name: '${name}',
  order: ${order},
  spec: { windows: ['1d'], site_basis: ['energy'], cluster_basis: [], inputs: ['water_l', 'it_kwh'] },
  display: { label: { 'zh-CN': '水利用效率', en: 'Water usage effectiveness' }, format: { scale: 1, digits: 2, unit: ' L/kWh' } },
  site: ({ edge }) => [{ kpi: '${name}', window: '1d', window_start: edge - 86400000, window_end: edge, basis: 'energy', ok: true, value: 1.8, quality: 'measured', status: 'grey', coverage: 1, inputs: { water_l: 4320, it_kwh: 2400 } }],
};
`;

const scratch: string[] = [];
afterAll(() => {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

function folderWith(extra: Record<string, string>): string {
  const dir = mkdtempSync(join(dirname(KPI_MODULE_DIR), 'kpis-scratch-'));
  scratch.push(dir);
  for (const f of readdirSync(KPI_MODULE_DIR)) copyFileSync(join(KPI_MODULE_DIR, f), join(dir, f));
  for (const [f, text] of Object.entries(extra)) writeFileSync(join(dir, f), text);
  return dir;
}

describe('KPI registry: the modules of collector/kpi/registry/kpis/', () => {
  it('publishes in the order the modules declare, not the folder listing order', () => {
    expect(KPI_REGISTRY.map((m) => m.name)).toEqual(PUBLISHED_ORDER);
    expect([...KPI_CATALOGUE.keys()]).toEqual(PUBLISHED_ORDER);
  });

  it("names every KPI in the operators' catalogue (live page, report, dashboards) from its module, in both languages", () => {
    for (const m of KPI_REGISTRY) for (const lang of LANGS) expect([m.name, lang, CATALOGUE[lang][`kpi.${m.name}`]]).toEqual([m.name, lang, m.display.label[lang]]);
    expect(translate('zh-CN', 'kpi.rack_occupancy_ratio')).toBe('上架率');
    // A name no module has shows its key rather than failing the page or the report.
    expect(translate('en', 'kpi.no_such_kpi')).toBe('kpi.no_such_kpi');
  });

  it('takes a module file dropped into the folder, at the place its order names, into the catalogue and the store schema', async () => {
    const mods = await loadKpiModules(folderWith({ 'water-usage.ts': waterUsage('water_usage_l_per_kwh', 85) }));
    const names = mods.map((m) => m.name);
    expect(names).toEqual([...PUBLISHED_ORDER.slice(0, 8), 'water_usage_l_per_kwh', ...PUBLISHED_ORDER.slice(8)]);
    const schema = kpiMeasurement(mods);
    expect(schema.tags.kpi?.values).toContain('water_usage_l_per_kwh');
    expect(schema.fields.water_l).toEqual({ kind: 'float' });
    expect(kpiMeasurement().fields.water_l).toBeUndefined();
    const figures = mods.find((m) => m.name === 'water_usage_l_per_kwh')!.site({ edge: 86_400_000 } as never);
    expect(figures.map((v) => `${v.kpi}|${v.window}|${v.value}`)).toEqual(['water_usage_l_per_kwh|1d|1.8']);
  });

  it.each<[string, Record<string, string>, RegExp]>([
    ['a second module with a name already taken', { 'pue-again.ts': waterUsage('pue', 999) }, /pue\.ts and pue-again\.ts both define pue/],
    ['an order already taken', { 'water-usage.ts': waterUsage('water_usage_l_per_kwh', 30) }, /both take order 30/],
    ['a file whose default export is no KPI', { 'helper.ts': 'export const x = 1;\n' }, /helper\.ts has no KPI module/],
    ['a name that is not snake_case', { 'water-usage.ts': waterUsage('WaterUsage', 85) }, /"WaterUsage" is not snake_case/],
  ])('refuses to load with %s, naming the file', async (_, extra, error) => {
    await expect(loadKpiModules(folderWith(extra))).rejects.toThrow(error);
  });
});
