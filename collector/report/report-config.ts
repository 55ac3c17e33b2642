import { readFileSync } from 'node:fs';
import { DcimError } from '../../contract/errors.js';
import type { Cluster } from '../../contract/inventory.js';
import { parseYamlText } from '../../shared/config/load.js';
import { loadBureauConfig } from '../bureau/bureau-config.js';
import { loadCollectorConfig, type StoreConfig } from '../config.js';
import type { KnownSite } from './store-report-source.js';

/**
 * What a store-backed report needs from a config file: the store, the sites (id, name and, from
 * a site inventory, the time zone), the clusters and the settle time. Two kinds of config give it,
 * told apart by their top-level section: a site collector's (`collector:` lists the site
 * inventories and a clusters file) and the bureau's (`bureau:` names a clusters file; its sites
 * are the clusters' sites, named by id, their time zones taken from their summaries). Each is
 * loaded and checked by its own loader.
 */
export interface ReportConfig {
  file: string;
  kind: 'collector' | 'bureau';
  store: StoreConfig;
  sites: KnownSite[];
  clusters: Cluster[];
  settle_ms: number;
}

export function loadReportConfig(file: string): ReportConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new DcimError('DCIM_E_CONFIG_UNREADABLE', `${file}: cannot read: ${(e as Error).message}`);
  }
  const raw = parseYamlText(text, file);
  if (raw !== null && typeof raw === 'object' && 'bureau' in raw) {
    const b = loadBureauConfig(file);
    const ids = [...new Set(b.clusters.flatMap((c) => c.sites))].sort();
    return { file, kind: 'bureau', store: b.config.store, sites: ids.map((id) => ({ id, name: id })), clusters: b.clusters, settle_ms: b.config.kpi.settle_s * 1000 };
  }
  const setup = loadCollectorConfig(file);
  return {
    file,
    kind: 'collector',
    store: setup.config.store,
    sites: setup.inventories.map((i) => ({ id: i.site.id, name: i.site.name, timezone: i.site.timezone })),
    clusters: setup.clusters,
    settle_ms: setup.config.kpi.settle_s * 1000,
  };
}
