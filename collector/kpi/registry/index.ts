import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { KpiCatalogue } from '../../../contract/kpi-catalogue.js';
import type { KpiModule } from './kpi-module.js';

/**
 * Every KPI the collector evaluates: each module of ./kpis/ (one file per KPI, its default export
 * built by defineKpi), loaded when this module is first imported, in the order the modules declare
 * (`order`), which is the order figures are published. A folder listing instead of a hand-kept
 * list, so adding a KPI is one new file: the engine, the store schema, the API, the report, the
 * live page and the dashboards all iterate this registry. The listing reads `.ts` under tsx and
 * vitest and `.js` in the compiled dist/; the import is awaited at load (top-level await), so
 * importers see a complete registry, synchronously.
 */

/** The folder of KPI modules: nothing else lives there. */
export const KPI_MODULE_DIR = fileURLToPath(new URL('./kpis/', import.meta.url));

const isModuleFile = (f: string) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts');
const SNAKE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

function isKpiModule(m: unknown): m is KpiModule {
  const k = m as Partial<KpiModule> | undefined;
  return typeof k === 'object' && k !== null && typeof k.name === 'string' && typeof k.order === 'number' && typeof k.site === 'function' && typeof k.spec === 'object' && typeof k.display?.label?.['zh-CN'] === 'string' && typeof k.display.label.en === 'string' && typeof k.display.format?.digits === 'number';
}

/**
 * Loads every KPI module of `dir`, ordered by `order`. A module that breaks the registry's rules
 * (no KPI as its default export, a name or order another module has, a name that is not snake_case,
 * no window) is a programming error: the load throws, naming the file, before anything is published.
 */
export async function loadKpiModules(dir: string): Promise<readonly KpiModule[]> {
  const files = readdirSync(dir).filter(isModuleFile).sort();
  const found: { file: string; m: KpiModule }[] = [];
  for (const file of files) {
    const exported = ((await import(pathToFileURL(`${dir}/${file}`).href)) as { default?: unknown }).default;
    if (!isKpiModule(exported)) throw new Error(`KPI registry: ${file} has no KPI module (defineKpi({...})) as its default export`);
    if (!SNAKE.test(exported.name)) throw new Error(`KPI registry: ${file}: name ${JSON.stringify(exported.name)} is not snake_case`);
    if (exported.spec.windows.length === 0) throw new Error(`KPI registry: ${file}: ${exported.name} declares no window`);
    for (const other of found) {
      if (other.m.name === exported.name) throw new Error(`KPI registry: ${file} and ${other.file} both define ${exported.name}`);
      if (other.m.order === exported.order) throw new Error(`KPI registry: ${file} and ${other.file} both take order ${exported.order}`);
    }
    found.push({ file, m: exported });
  }
  return found.map((f) => f.m).sort((a, b) => a.order - b.order);
}

/** A registry's catalogue: each KPI's windows, basis labels and stored inputs, by name, in order. */
export function catalogueOf(modules: readonly KpiModule[]): KpiCatalogue {
  return new Map(modules.map((m) => [m.name, m.spec]));
}

export const KPI_REGISTRY: readonly KpiModule[] = await loadKpiModules(KPI_MODULE_DIR);
export const KPI_CATALOGUE: KpiCatalogue = catalogueOf(KPI_REGISTRY);
export const KPI_NAMES: readonly string[] = KPI_REGISTRY.map((m) => m.name);

export type { ClusterContext, KpiDisplay, KpiFormat, KpiModule, SiteContext } from './kpi-module.js';
