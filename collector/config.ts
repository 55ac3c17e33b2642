import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { requireTlsScheme } from '../shared/config/broker-url.js';
import { DcimError } from '../contract/errors.js';
import { IdSchema } from '../contract/ids.js';
import { ClustersFileSchema, SiteInventorySchema, TargetsSchema, type Cluster, type SiteInventory } from '../contract/inventory.js';
import { loadYamlFile } from '../shared/config/load.js';
import { SecretRefSchema, type SecretRef } from '../contract/secret-ref.js';
import { checkSegmentBytes, mqttConnectionShape, spoolShape, tlsDeprecationLines } from '../shared/config/connection-schemas.js';
import { AlertsConfigSchema, alertsConfigWithAbsolutePaths, loadAlertRules } from './alerts/index.js';

/**
 * The collector's YAML config. Every path in it (seeds, SQLite file, TLS files, quarantine
 * folder) is relative to the config file, so a config and its seeds move together.
 *
 *   collector: { id: main, sites: [../seeds/demo.yaml], clusters: clusters.yaml }
 *   mqtt: { url: mqtts://broker:8883, username: collector, password: { env: DCIM_MQTT_PASSWORD } }
 *   store: { kind: influx_v1, url: http://influx:8086, database: dcim, spool: { dir: spool } }
 *   http: { listen: 127.0.0.1:8080, token: { env: DCIM_API_TOKEN } }
 *   kpi: { interval_s: 5, on_rack: { min_kw: 0.3 }, stale_carry: { max_s: 900, max_share: 0.1 } }
 */

/** The agent's MQTT keys (TLS files, client id) plus the collector's own. */
export const MqttSchema = z
  .object({
    ...mqttConnectionShape,
    /** Also read the old device topics without an agent id, for one release while agents are upgraded. */
    accept_legacy_topics: z.boolean().default(false),
  })
  .strict()
  .superRefine(requireTlsScheme);
export type MqttConfig = z.infer<typeof MqttSchema>;

const HttpUrlSchema = z
  .string()
  .regex(/^https?:\/\/[^\s]+$/, 'expected an http(s) URL')
  // A password in the URL sits in the config in clear, outside the secret-file rules: refused.
  .refine((u) => !/^https?:\/\/[^/?#\s]*@/.test(u), 'credentials in the URL: give username and password (or token) as settings, the secret as { env } or { file }');
const MIB = 1024 * 1024;

/**
 * The durable spool in front of an InfluxDB store (README "Spool"): every batch is written here
 * first and deleted when the store has taken it, so an outage or a restart loses nothing within
 * these bounds. Absent: batches wait in memory (`max_buffer_lines`) and a long outage loses the
 * oldest, counted.
 */
export const StoreSpoolSchema = z
  .object({
    dir: z.string().min(1),
    // The agent's spool keys and units; a store keeps a longer outage than an edge agent.
    ...spoolShape({ maxBytes: 1024 * MIB, maxAgeH: 168 }),
  })
  .strict()
  .superRefine(checkSegmentBytes);
export type StoreSpoolConfig = z.infer<typeof StoreSpoolSchema>;

const BatchSchema = {
  batch_lines: z.number().int().min(1).max(100_000).default(5000),
  quarantine_dir: z.string().min(1).optional(),
  /** Without a spool: lines held in memory during an outage before the oldest are dropped (default 200,000). */
  max_buffer_lines: z.number().int().min(1000).max(10_000_000).optional(),
  spool: StoreSpoolSchema.optional(),
};

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

/** `host:port` to listen on; port 0 asks the OS for a free one (tests). */
const ListenSchema = z
  .string()
  .regex(/^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port such as 127.0.0.1:8080 or [::1]:8080')
  .refine((s) => Number(s.slice(s.lastIndexOf(':') + 1)) <= 65535, 'port above 65535');

/** The HTTP API (README "HTTP API"). Everything but /healthz needs `Authorization: Bearer <token>`. */
export const HttpConfigSchema = z
  .object({
    listen: ListenSchema,
    /** At least 16 characters once resolved; from env or a file, never inline in a shared config. */
    token: SecretRefSchema,
    /** Allow browser calls from this origin (CORS); absent: no CORS headers at all. */
    cors_origin: z.string().regex(/^https?:\/\/[^\s/]+$/, 'expected an origin such as https://grafana.example').optional(),
    /** Open connections at most, live streams included; beyond it new ones are dropped and counted. */
    max_connections: z.number().int().min(8).max(65_536).default(256),
    /** Serve HTTPS: certificate chain and private key (PEM files; the key owner-only). Absent: plain HTTP, for loopback or behind a TLS proxy. */
    tls: z.object({ cert_file: z.string().min(1), key_file: z.string().min(1) }).strict().optional(),
  })
  .strict();
export type HttpConfig = z.infer<typeof HttpConfigSchema>;

/** KPI options (README "KPI options"); every key has the default of docs/design.md §5. */
export const KpiConfigSchema = z
  .object({
    /** Sub-second ticks bring the poll → KPI latency under a second; a tick costs ~5–10 ms at 10,000 racks. */
    interval_s: z.number().min(0.25).max(3600).default(5),
    /** The retained KPI message is republished at least this often even when nothing changed. */
    publish_every_s: z.number().min(1).max(86_400).default(60),
    /** Time allowed for the last readings of a window to arrive before the window is final. */
    settle_s: z.number().min(0).max(3600).default(60),
    /** Late readings up to this many days old still revise 15m/1h/1d/occupancy windows; older ones need dcim kpi recompute. */
    late_days: z.number().int().min(0).max(31).default(3),
    /**
     * At start, rebuild month, year and trailing-12-month windows from the store: day summaries
     * before the late-data horizon, raw readings after it. Needs a store that keeps summaries
     * (SQLite, InfluxDB); when it cannot be read the collector logs DCIM_E_RESTORE_FAILED and starts.
     */
    restore_history: z.boolean().default(true),
    /** 上架率 on-rack rule: IT power ≥ max(min_kw, min_ratio × rated_kw) for ≥ day_ratio of the day. */
    on_rack: z
      .object({
        min_kw: z.number().min(0).max(100).default(0.3),
        min_ratio: z.number().min(0).max(1).default(0.1),
        day_ratio: z.number().min(0).max(1).default(0.5),
      })
      .strict()
      .prefault({}),
    /**
     * Live PUE and live green share: a stale meter's last power stands in for it for `max_s` after
     * it goes stale, while such meters make up at most `max_share` of a side's power; beyond
     * either the live figure is unknown. `max_share` stops at 0.2, the `estimated` grade's limit.
     */
    stale_carry: z
      .object({
        max_s: z.number().min(0).max(86_400).default(900),
        max_share: z.number().min(0).max(0.2).default(0.1),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});
export type KpiConfig = z.infer<typeof KpiConfigSchema>;

/**
 * The site side of bureau federation (README "Bureau federation"): each site's closed-window
 * summaries, stored and published retained (QoS 1) on dcim/v1/<site>/summary/<window>, for a
 * broker bridge to carry to the bureau. Off for a collector no bureau reads.
 */
export const FederationConfigSchema = z
  .object({
    publish_summaries: z.boolean().default(true),
  })
  .strict()
  .prefault({});
export type FederationConfig = z.infer<typeof FederationConfigSchema>;

export const CollectorConfigSchema = z
  .object({
    collector: z
      .object({
        id: IdSchema,
        sites: z.array(z.string().min(1)).min(1),
        /** A clusters file (contract ClustersFileSchema): roll-ups over sets of these sites. */
        clusters: z.string().min(1).optional(),
      })
      .strict(),
    mqtt: MqttSchema,
    store: StoreConfigSchema,
    http: HttpConfigSchema.optional(),
    kpi: KpiConfigSchema,
    /** Alert rules and notifiers (collector/alerts, README "Alerts"); absent: the built-in rules, MQTT only. */
    alerts: AlertsConfigSchema,
    federation: FederationConfigSchema,
  })
  .strict();
export type CollectorConfig = z.infer<typeof CollectorConfigSchema>;

export interface CollectorSetup {
  file: string;
  /** The config with every path made absolute. */
  config: CollectorConfig;
  inventories: SiteInventory[];
  /** From `collector.clusters`; empty without one. */
  clusters: Cluster[];
  /** Old spellings the config still uses (DCIM_E_CONFIG_DEPRECATED), one line each: `--check` prints them, the start logs them. */
  deprecations: string[];
}

/**
 * Load the config, every site seed and the clusters file it names; all problems in all files are
 * reported at once. Every path, secret files included, is made absolute against the config's folder.
 */
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
  const declared = config.collector.clusters !== undefined ? loadClusters(file, config.collector.clusters, siteFiles, problems) : [];
  const implied = clustersOfSites(inventories, declared);
  problems.push(...implied.problems.map((p) => `${file}: ${p}`));
  const clusters = implied.clusters;
  try {
    loadAlertRules(config.alerts);
  } catch (e) {
    if (e instanceof DcimError && e.details.length > 0) problems.push(...e.details);
    else problems.push(`${file}: alerts.rules: ${(e as Error).message}`);
  }
  if (problems.length > 0) throw new DcimError('DCIM_E_CONFIG_INVALID', `${file}: ${problems.length} problem(s)`, problems);
  return { file, config, inventories, clusters, deprecations: tlsDeprecationLines(file, 'mqtt.tls', raw.mqtt.tls) };
}

/**
 * The clusters file, checked against the sites: a cluster rolls up sites this collector receives,
 * and its id must differ from every site id, since its KPIs are published on dcim/v1/<id>/kpi.
 */
function loadClusters(file: string, clustersFile: string, siteFiles: ReadonlyMap<string, string>, problems: string[]): Cluster[] {
  let clusters: Cluster[];
  try {
    clusters = loadYamlFile(ClustersFileSchema, clustersFile).clusters;
  } catch (e) {
    if (e instanceof DcimError && e.details.length > 0) problems.push(...e.details);
    else problems.push(`${file}: collector.clusters: ${(e as Error).message}`);
    return [];
  }
  const seen = new Set<string>();
  clusters.forEach((c, i) => {
    if (seen.has(c.id)) problems.push(`${clustersFile}: clusters[${i}].id: duplicate id ${c.id}`);
    seen.add(c.id);
    if (siteFiles.has(c.id)) problems.push(`${clustersFile}: clusters[${i}].id: ${c.id} is also a site id (both would publish on dcim/v1/${c.id}/kpi)`);
    c.sites.forEach((site, j) => {
      if (!siteFiles.has(site)) problems.push(`${clustersFile}: clusters[${i}].sites[${j}]: site ${site} is not one of collector.sites`);
    });
  });
  return clusters;
}

function withAbsolutePaths(c: CollectorConfig, abs: (p: string) => string): CollectorConfig {
  return {
    ...c,
    ...connectionsWithAbsolutePaths(c, abs),
    collector: { ...c.collector, sites: c.collector.sites.map(abs), ...(c.collector.clusters !== undefined ? { clusters: abs(c.collector.clusters) } : {}) },
    alerts: alertsConfigWithAbsolutePaths(c.alerts, abs),
  };
}

/** The mqtt, store and http sections with every file path absolute (the collector's config and the bureau's). */
export function connectionsWithAbsolutePaths<T extends { mqtt: MqttConfig; store: StoreConfig; http?: HttpConfig | undefined }>(c: T, abs: (p: string) => string): Pick<T, 'mqtt' | 'store' | 'http'> {
  const tls = c.mqtt.tls;
  const store: StoreConfig =
    c.store.kind === 'sqlite'
      ? { ...c.store, path: c.store.path === ':memory:' ? c.store.path : abs(c.store.path) }
      : {
          ...c.store,
          ...(c.store.quarantine_dir !== undefined ? { quarantine_dir: abs(c.store.quarantine_dir) } : {}),
          ...(c.store.spool !== undefined ? { spool: { ...c.store.spool, dir: abs(c.store.spool.dir) } } : {}),
        };
  const secret = <S extends SecretRef | undefined>(ref: S): S => (typeof ref === 'object' && 'file' in ref ? ({ file: abs(ref.file) } as S) : ref);
  if (store.kind === 'influx_v1' && store.password !== undefined) store.password = secret(store.password);
  if (store.kind === 'influx_v2') store.token = secret(store.token);
  return {
    ...(c.http ? { http: { ...c.http, token: secret(c.http.token), ...(c.http.tls ? { tls: { cert_file: abs(c.http.tls.cert_file), key_file: abs(c.http.tls.key_file) } } : {}) } } : {}),
    mqtt: {
      ...c.mqtt,
      ...(c.mqtt.password !== undefined ? { password: secret(c.mqtt.password) } : {}),
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
  } as Pick<T, 'mqtt' | 'store' | 'http'>;
}

/**
 * The clusters a collector rolls up: those of its clusters file, plus one for every `site.cluster`
 * the seeds name and the file does not declare (its sites are the seeds that name it, its targets
 * the defaults, its name its id). A seed naming a declared cluster that does not list it is a
 * contradiction, reported rather than guessed; a cluster id equal to a site id is too (both would
 * publish on dcim/v1/<id>/kpi).
 */
export function clustersOfSites(inventories: readonly SiteInventory[], declared: readonly Cluster[] = []): { clusters: Cluster[]; problems: string[] } {
  const problems: string[] = [];
  const byId = new Map(declared.map((c) => [c.id, c]));
  const implied = new Map<string, string[]>();
  const siteIds = new Set(inventories.map((i) => i.site.id));
  for (const inv of inventories) {
    const id = inv.site.cluster;
    if (id === undefined) continue;
    const known = byId.get(id);
    if (known) {
      if (!known.sites.includes(inv.site.id)) problems.push(`site ${inv.site.id} names cluster ${id}, whose sites in the clusters file (${known.sites.join(', ')}) leave it out`);
      continue;
    }
    if (siteIds.has(id)) {
      problems.push(`site ${inv.site.id} names cluster ${id}, which is also a site id (both would publish on dcim/v1/${id}/kpi)`);
      continue;
    }
    implied.set(id, [...(implied.get(id) ?? []), inv.site.id]);
  }
  const clusters = [...declared, ...[...implied].map(([id, sites]): Cluster => ({ id, name: id, targets: TargetsSchema.parse(undefined), sites }))];
  return { clusters, problems };
}
