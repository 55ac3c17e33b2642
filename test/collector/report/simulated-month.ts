import { KpiEngine } from '../../../collector/kpi-engine.js';
import { SiteInventorySchema, type SiteInventory } from '../../../contract/inventory.js';
import { loadYamlFile } from '../../../shared/config/load.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { createSiteModel } from '../../../simulators/model/site.js';
import { modelReadings } from '../support/model-readings.js';

/**
 * A month of the demo seed, fast: the simulator's physical model stepped every `step_ms` and every
 * device's quantities fed to the KPI engine as polls (what the agent would publish, without
 * protocols), as in test/collector/kpi-engine.truth.test.ts.
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
      engine.ingest(inventory.site.id, d.id, t, modelReadings(model.quantities(d.id)!));
    }
  }
  return { engine, inventory };
}
