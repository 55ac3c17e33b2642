import { KpiEngine } from '../../../collector/kpi-engine.js';
import { SiteInventorySchema, type SiteInventory } from '../../../contract/inventory.js';
import { loadYamlFile } from '../../../contract/load.js';
import type { Reading } from '../../../contract/messages.js';
import { loadProfiles } from '../../../contract/profiles.js';
import { unitForName } from '../../../contract/units.js';
import { createSiteModel } from '../../../simulators/model/site.js';

/**
 * A month of the demo seed, fast: the simulator's physical model stepped every `step_ms` and every
 * device's quantities fed to the KPI engine as polls (what the agent would publish, without
 * protocols), as in test/collector/kpi/engine-vs-truth.test.ts.
 */
export function simulateMonth(from_ms: number, to_ms: number, step_ms: number): { engine: KpiEngine; inventory: SiteInventory } {
  const inventory = loadYamlFile(SiteInventorySchema, new URL('../../../seeds/demo.yaml', import.meta.url).pathname);
  const profiles = loadProfiles();
  const built = createSiteModel(inventory, 7, { profiles });
  if (!built.ok) throw new Error(built.problems.join('\n'));
  const model = built.model;
  model.reset(from_ms - step_ms);
  const engine = KpiEngine.create({ inventories: [inventory], profiles });
  for (let t = from_ms - step_ms; t <= to_ms; t += step_ms) {
    model.step(step_ms);
    for (const d of inventory.devices) {
      const q = model.quantities(d.id)!;
      const readings: Reading[] = [];
      const add = (point: string, v: unknown, index?: Reading['index']) => {
        if (typeof v !== 'number' && typeof v !== 'string') return;
        const unit = typeof v === 'number' ? unitForName(point) : undefined;
        readings.push({ point, value: v, quality: 'good', ...(unit ? { unit } : {}), ...(index ? { index } : {}) });
      };
      for (const [k, v] of Object.entries(q.values)) add(k, v);
      for (const [tag, rows] of Object.entries(q.rows)) for (const [i, row] of rows) for (const [k, v] of Object.entries(row)) add(k, v, { [tag]: String(i) });
      engine.ingest(inventory.site.id, d.id, t, readings);
    }
  }
  return { engine, inventory };
}
