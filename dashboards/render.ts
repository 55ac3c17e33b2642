import { KPI_CATALOGUE, KPI_REGISTRY, type KpiModule } from '../collector/kpi/registry/index.js';
import type { KpiCatalogue } from '../contract/kpi-catalogue.js';
import type { StorageSchema } from '../contract/storage-schema.js';
import { bureauOverview, bureauOverviewZh } from './bureau-overview.js';
import { checkDashboard } from './check-dashboard.js';
import { deviceHealth } from './device-health.js';
import type { Dashboard } from './grafana/dashboard.js';
import { siteOperations } from './site-operations.js';

/** The dcim dashboards and the file each is committed as (dashboards/json/<uid>.json). */
export const DASHBOARDS: readonly ((modules: readonly KpiModule[]) => Dashboard)[] = [siteOperations, () => bureauOverview(), () => bureauOverviewZh(), () => deviceHealth()];

export interface RenderedDashboard {
  /** Relative to dashboards/. */
  file: string;
  uid: string;
  text: string;
}

/** Two-space JSON with a final newline: stable, so the committed files diff cleanly. `modules`: the KPI registry unless a test gives its own. */
export function renderDashboards(modules: readonly KpiModule[] = KPI_REGISTRY): RenderedDashboard[] {
  return DASHBOARDS.map((make) => {
    const d = make(modules);
    return { file: `json/${d.uid}.json`, uid: d.uid, text: `${JSON.stringify(d, null, 2)}\n` };
  });
}

/** Every problem of every dashboard against the storage catalogue (none: fine). */
export function checkRendered(rendered: readonly RenderedDashboard[], schema: StorageSchema, kpis: KpiCatalogue = KPI_CATALOGUE): string[] {
  return rendered.flatMap((r) => checkDashboard(JSON.parse(r.text), schema, kpis));
}
