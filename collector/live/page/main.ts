import { bureauView } from './bureau-view.js';
import type { KpiFormat } from './kpi-format.js';
import type { KpiTile } from './kpi-tile.js';
import { liveApp, type Catalogue } from './live-app.js';

/**
 * The entry of the page's browser bundle (built by page-script.ts into one IIFE that assigns
 * `dcimLivePage`): live-page.ts inlines the bundle and calls `start` with the catalogue, the
 * default language, whether the server is a bureau and the KPIs' number formats (from the KPI
 * registry) and the tiles the KPI modules declare, which only the server knows.
 */
export function start(i18n: Catalogue, defaultLang: string, isBureau: boolean, formats: Readonly<Record<string, KpiFormat>>, tiles: readonly KpiTile[]): void {
  liveApp(i18n, defaultLang, bureauView, isBureau, formats, tiles);
}
