import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { DcimError } from '../../contract/errors.js';
import { ClustersFileSchema, type Cluster } from '../../contract/inventory.js';
import { loadYamlFile, parseWith, parseYamlText } from '../../contract/load.js';
import { KpiConfigSchema, loadCollectorConfig, StoreConfigSchema, type StoreConfig } from '../config.js';
import type { KnownSite } from './store-report-source.js';

/**
 * What a store-backed report needs from a config file: the store, the sites (id, name and, from
 * a site inventory, the time zone), the clusters and the settle time. Two kinds of config give it:
 * a site collector's (`collector:` lists the site inventories and a clusters file) and the bureau's
 * (`bureau:` names a clusters file; its sites are the clusters' sites, named by id, their time
 * zones taken from their summaries). Only the keys read here are checked in a bureau config; the
 * bureau's own loader checks the rest.
 */
export interface ReportConfig {
  file: string;
  kind: 'collector' | 'bureau';
  store: StoreConfig;
  sites: KnownSite[];
  clusters: Cluster[];
  settle_ms: number;
}

const BureauPartSchema = z.object({
  bureau: z.object({ clusters: z.string().min(1) }).passthrough(),
  store: StoreConfigSchema,
  kpi: KpiConfigSchema.optional(),
});

export function loadReportConfig(file: string): ReportConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new DcimError('DCIM_E_CONFIG_UNREADABLE', `${file}: cannot read: ${(e as Error).message}`);
  }
  const raw = parseYamlText(text, file);
  const top = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  if ('bureau' in top && !('collector' in top)) {
    const b = parseWith(BureauPartSchema, raw, file);
    const base = dirname(resolve(file));
    const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
    const clusters = loadYamlFile(ClustersFileSchema, abs(b.bureau.clusters)).clusters;
    const ids = [...new Set(clusters.flatMap((c) => c.sites))].sort();
    const store = b.store.kind === 'sqlite' && b.store.path !== ':memory:' ? { ...b.store, path: abs(b.store.path) } : b.store;
    return { file, kind: 'bureau', store, sites: ids.map((id) => ({ id, name: id })), clusters, settle_ms: (b.kpi?.settle_s ?? 60) * 1000 };
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
