import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { DcimError } from '../../contract/errors.js';
import { IdSchema } from '../../contract/ids.js';
import { ClustersFileSchema, type Cluster } from '../../contract/inventory.js';
import { loadYamlFile } from '../../shared/config/load.js';
import { AlertsConfigSchema, alertsConfigWithAbsolutePaths, type AlertsConfig } from '../alerts/index.js';
import { tlsDeprecationLines } from '../../shared/config/connection-schemas.js';
import { connectionsWithAbsolutePaths, HttpConfigSchema, MqttSchema, StoreConfigSchema } from '../config.js';

/**
 * The collector's `alerts` section without its rules: the bureau raises one alert of its own (a
 * silent site) and hands it to the same notifiers. `mqtt` is off by default here: the bureau
 * broker's ACL grants the bureau reads only, unless it is given the alert topics.
 */
const BureauAlertsSchema = AlertsConfigSchema.unwrap()
  .pick({ generator_url: true, expire_h: true, alertmanager: true, webhooks: true, wecom: true, dingtalk: true })
  .extend({ mqtt: z.boolean().default(false) })
  .strict()
  .prefault({});

/**
 * The bureau's YAML config (docs/bureau.md). The mqtt, store and http sections are the
 * collector's own schemas; paths are relative to the config file.
 *
 *   bureau: { id: guian, clusters: clusters.yaml, silent_after_windows: 4, max_skew_s: 300 }
 *   mqtt: { url: mqtts://bureau-broker:8883, username: bureau, password: { file: mqtt.pw } }
 *   store: { kind: influx_v1, url: http://influx:8086, database: bureau }
 *   http: { listen: 127.0.0.1:8090, token: { env: DCIM_API_TOKEN } }
 *   kpi: { interval_s: 15, settle_s: 60, late_days: 3 }
 */
export const BureauConfigSchema = z
  .object({
    bureau: z
      .object({
        id: IdSchema,
        /** A clusters file (contract ClustersFileSchema): the sites it lists are the sites the bureau accepts. */
        clusters: z.string().min(1),
        /** Quarter hours without any summary of a site before DCIM_E_SITE_SILENT (default 4: an hour). */
        silent_after_windows: z.number().int().min(1).max(96 * 31).default(4),
        /** How far ahead of the bureau's clock a window end or a generation time may be, s (default 300). */
        max_skew_s: z.number().min(0).max(86_400).default(300),
      })
      .strict(),
    mqtt: MqttSchema,
    store: StoreConfigSchema,
    http: HttpConfigSchema.optional(),
    /** Notifiers for DCIM_E_SITE_SILENT (the collector's Alertmanager, webhooks, WeCom, DingTalk, MQTT). */
    alerts: BureauAlertsSchema,
    kpi: z
      .object({
        /** Roll-up period: summaries arriving within one tick cost one evaluation of their sites and clusters. */
        interval_s: z.number().min(1).max(3600).default(15),
        /** The sites' settle time (their kpi.settle_s), so the bureau judges a window when they do. */
        settle_s: z.number().min(0).max(3600).default(60),
        /** Late summaries revise the 15m/1h/1d KPI points this many days back. */
        late_days: z.number().int().min(0).max(31).default(3),
      })
      .strict()
      .prefault({}),
  })
  .strict();
export type BureauConfig = z.infer<typeof BureauConfigSchema>;

export interface BureauSetup {
  file: string;
  config: BureauConfig;
  clusters: Cluster[];
  /** `alerts` as the collector's section (no rules), secret paths absolute: what notifiersFromConfig takes. */
  alerts: AlertsConfig;
  /** Old spellings the config still uses (DCIM_E_CONFIG_DEPRECATED), one line each. */
  deprecations: string[];
}

/** The config and its clusters file, every problem of both at once; paths made absolute. */
export function loadBureauConfig(file: string): BureauSetup {
  const raw = loadYamlFile(BureauConfigSchema, file);
  const base = dirname(resolve(file));
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const config: BureauConfig = { ...raw, ...connectionsWithAbsolutePaths(raw, abs), bureau: { ...raw.bureau, clusters: abs(raw.bureau.clusters) } };
  const problems: string[] = [];
  let clusters: Cluster[] = [];
  try {
    clusters = loadYamlFile(ClustersFileSchema, config.bureau.clusters).clusters;
  } catch (e) {
    if (e instanceof DcimError && e.details.length > 0) problems.push(...e.details);
    else problems.push(`${file}: bureau.clusters: ${(e as Error).message}`);
  }
  const clusterIds = new Set<string>();
  const siteIds = new Set(clusters.flatMap((c) => c.sites));
  clusters.forEach((c, i) => {
    if (clusterIds.has(c.id)) problems.push(`${config.bureau.clusters}: clusters[${i}].id: duplicate id ${c.id}`);
    clusterIds.add(c.id);
    // Both would be served at /api/…/<id>/kpi and stored under the same site tag.
    if (siteIds.has(c.id)) problems.push(`${config.bureau.clusters}: clusters[${i}].id: ${c.id} is also a site id`);
  });
  if (problems.length > 0) throw new DcimError('DCIM_E_CONFIG_INVALID', `${file}: ${problems.length} problem(s)`, problems);
  const alerts = alertsConfigWithAbsolutePaths({ ...AlertsConfigSchema.parse({}), ...config.alerts, defaults: false }, abs);
  return { file, config, clusters, alerts, deprecations: tlsDeprecationLines(file, 'mqtt.tls', raw.mqtt.tls) };
}
