import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { DcimError } from '../contract/errors.js';
import { IdSchema } from '../contract/ids.js';
import { SiteInventorySchema, type SiteInventory } from '../contract/inventory.js';
import { loadYamlFile } from '../contract/load.js';
import { SecretRefSchema } from '../contract/secrets.js';

/**
 * The collector's YAML config. Every path in it (seeds, SQLite file, TLS files, quarantine
 * folder) is relative to the config file, so a config and its seeds move together.
 *
 *   collector: { id: main, sites: [../seeds/demo.yaml] }
 *   mqtt: { url: mqtts://broker:8883, username: collector, password: { env: DCIM_MQTT_PASSWORD } }
 *   store: { kind: sqlite, path: data/dcim.sqlite }
 *   kpi: { interval_s: 5 }
 */

const TlsSchema = z
  .object({
    ca_file: z.string().min(1).optional(),
    cert_file: z.string().min(1).optional(),
    key_file: z.string().min(1).optional(),
    reject_unauthorized: z.boolean().default(true),
  })
  .strict();

const MqttSchema = z
  .object({
    url: z.string().regex(/^(mqtts?|wss?|tcp|ssl):\/\/[^\s]+$/, 'expected a broker URL such as mqtt://127.0.0.1:1883'),
    username: z.string().min(1).optional(),
    password: SecretRefSchema.optional(),
    /** Stable across restarts, so the broker keeps the persistent session. Default dcim-collector-<id>. */
    client_id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).optional(),
    tls: TlsSchema.optional(),
  })
  .strict();

const HttpUrlSchema = z.string().regex(/^https?:\/\/[^\s]+$/, 'expected an http(s) URL');
const BatchSchema = { batch_lines: z.number().int().min(1).max(100_000).default(5000), quarantine_dir: z.string().min(1).optional() };

export const StoreConfigSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('sqlite'),
      path: z.string().min(1),
      retention_days: z.number().positive().max(3650).default(7),
    })
    .strict(),
  z
    .object({
      kind: z.literal('influx_v1'),
      url: HttpUrlSchema,
      database: z.string().min(1),
      retention_policy: z.string().min(1).optional(),
      username: z.string().min(1).optional(),
      password: SecretRefSchema.optional(),
      ...BatchSchema,
    })
    .strict(),
  z
    .object({
      kind: z.literal('influx_v2'),
      url: HttpUrlSchema,
      org: z.string().min(1),
      bucket: z.string().min(1),
      token: SecretRefSchema,
      ...BatchSchema,
    })
    .strict(),
]);
export type StoreConfig = z.infer<typeof StoreConfigSchema>;

export const CollectorConfigSchema = z
  .object({
    collector: z.object({ id: IdSchema, sites: z.array(z.string().min(1)).min(1) }).strict(),
    mqtt: MqttSchema,
    store: StoreConfigSchema,
    kpi: z.object({ interval_s: z.number().min(1).max(3600).default(5) }).strict().prefault({}),
  })
  .strict();
export type CollectorConfig = z.infer<typeof CollectorConfigSchema>;

export interface CollectorSetup {
  file: string;
  /** The config with every path made absolute. */
  config: CollectorConfig;
  inventories: SiteInventory[];
}

/** Load the config and every site seed it names; all problems in all files are reported at once. */
export function loadCollectorConfig(file: string): CollectorSetup {
  const raw = loadYamlFile(CollectorConfigSchema, file);
  const base = dirname(resolve(file));
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const config = withAbsolutePaths(raw, abs);

  const problems: string[] = [];
  const inventories: SiteInventory[] = [];
  const siteFiles = new Map<string, string>();
  config.collector.sites.forEach((seed, i) => {
    try {
      const inv = loadYamlFile(SiteInventorySchema, seed);
      const prev = siteFiles.get(inv.site.id);
      if (prev !== undefined) problems.push(`${file}: collector.sites[${i}]: site id ${inv.site.id} is also declared in ${prev}`);
      siteFiles.set(inv.site.id, seed);
      inventories.push(inv);
    } catch (e) {
      if (e instanceof DcimError && e.details.length > 0) problems.push(...e.details);
      else problems.push(`${file}: collector.sites[${i}]: ${(e as Error).message}`);
    }
  });
  if (problems.length > 0) throw new DcimError('DCIM_E_CONFIG_INVALID', `${file}: ${problems.length} problem(s)`, problems);
  return { file, config, inventories };
}

function withAbsolutePaths(c: CollectorConfig, abs: (p: string) => string): CollectorConfig {
  const tls = c.mqtt.tls;
  const store: StoreConfig =
    c.store.kind === 'sqlite'
      ? { ...c.store, path: c.store.path === ':memory:' ? c.store.path : abs(c.store.path) }
      : { ...c.store, ...(c.store.quarantine_dir !== undefined ? { quarantine_dir: abs(c.store.quarantine_dir) } : {}) };
  return {
    ...c,
    collector: { ...c.collector, sites: c.collector.sites.map(abs) },
    mqtt: {
      ...c.mqtt,
      ...(tls
        ? {
            tls: {
              ...tls,
              ...(tls.ca_file ? { ca_file: abs(tls.ca_file) } : {}),
              ...(tls.cert_file ? { cert_file: abs(tls.cert_file) } : {}),
              ...(tls.key_file ? { key_file: abs(tls.key_file) } : {}),
            },
          }
        : {}),
    },
    store,
  };
}
