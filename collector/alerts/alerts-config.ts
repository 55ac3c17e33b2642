import { z } from 'zod';
import type { Clock } from '../../contract/clock.js';
import { DcimError } from '../../contract/errors.js';
import { IdSchema } from '../../contract/ids.js';
import type { SiteInventory } from '../../contract/inventory.js';
import type { Logger } from '../../shared/log.js';
import type { DeviceProfile } from '../../contract/profile.js';
import { resolveSecret } from '../../shared/config/secrets.js';
import { SecretRefSchema, type SecretRef } from '../../contract/secret-ref.js';
import { AlertEngine } from './alert-engine.js';
import { loadAlertRuleSet, type AlertRuleSet } from './load-rules.js';
import { SeveritySchema } from './rule-schema.js';
import { AlertmanagerNotifier } from './notifiers/alertmanager.js';
import { DINGTALK_BASE_URL, DingtalkNotifier } from './notifiers/dingtalk.js';
import { ROBOT_LANGUAGES } from './notifiers/robot-message.js';
import { WECOM_BASE_URL, WecomNotifier } from './notifiers/wecom.js';
import { MqttAlertNotifier, type AlertPublish } from './notifiers/mqtt-alerts.js';
import type { Notifier } from './notifiers/notifier.js';
import { WebhookNotifier } from './notifiers/webhook.js';

/**
 * The `alerts:` section of the collector config (collector/README.md "Alerts"). Paths are relative
 * to the config file; secrets are references ({env} or {file}).
 *
 *   alerts:
 *     rules: [alerts.yaml]
 *     state_file: state/alerts.json
 *     alertmanager: { urls: [http://alertmanager:9093] }
 *     webhooks: [{ name: ops, url: https://hooks.example/dcim, secret: { env: DCIM_WEBHOOK_SECRET } }]
 *     wecom: [{ name: facilities, key: { env: DCIM_WECOM_KEY } }]
 *     dingtalk: [{ name: oncall, access_token: { env: DCIM_DINGTALK_TOKEN }, secret: { env: DCIM_DINGTALK_SECRET } }]
 */
const HttpUrlSchema = z.string().regex(/^https?:\/\/[^\s]+$/, 'expected an http(s) URL');

/** A base URL without query or fragment: the path and credentials are added per request. */
const BaseUrlSchema = z.string().regex(/^https?:\/\/[^\s?#]+$/, 'expected an http(s) base URL without query');

const uniqueNames = <T extends { name: string }>(what: string) => (items: T[], ctx: z.RefinementCtx) => {
  const seen = new Set<string>();
  items.forEach((h, i) => {
    if (seen.has(h.name)) ctx.addIssue({ code: 'custom', message: `duplicate ${what} name ${h.name}`, path: [i, 'name'] });
    seen.add(h.name);
  });
};

/** Phone numbers as the robots take them (mainland 11 digits, or +country). */
const MobileSchema = z.string().regex(/^\+?[0-9-]{5,20}$/, 'expected a phone number');

/** What WeCom and DingTalk robots share: language, time zone, which severities, limits. */
const robotCommon = {
  name: IdSchema,
  /** zh: Chinese; zh-en: Chinese with English beside it. */
  language: z.enum(ROBOT_LANGUAGES).default('zh'),
  /** Times are shown in this zone (the sites' local time). */
  timezone: z
    .string()
    .default('Asia/Shanghai')
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'unknown time zone'),
  /** Severities this robot gets (e.g. only critical for a paging group). */
  severities: z.array(SeveritySchema).min(1).default(['critical', 'warning', 'info']),
  /** The vendors allow 20 messages a minute per robot; lower it when something else posts too. */
  per_minute: z.number().int().min(1).max(20).default(20),
  timeout_ms: z.number().int().min(100).max(120_000).default(10_000),
};

export const AlertsConfigSchema = z
  .object({
    /** The built-in rules (collector/alerts/default-rules.yaml). */
    defaults: z.boolean().default(true),
    /** Rule files, in order: each may add rules, replace a default by id, or `disable` rules. */
    rules: z.array(z.string().min(1)).default([]),
    /** Where alerts survive restarts; absent: memory only. */
    state_file: z.string().min(1).optional(),
    /** A link for each alert (Alertmanager generatorURL), with {id}, {site}, {rule}. */
    generator_url: HttpUrlSchema.optional(),
    /** A notification not delivered within this many hours is given up (counted, logged). */
    expire_h: z.number().positive().max(24 * 30).default(24),
    /** Resolved alerts stay listed (and their notifications owed) this many hours. */
    resolved_retention_h: z.number().positive().max(24 * 90).default(24),
    alertmanager: z
      .object({
        /** Every Alertmanager of an HA cluster: each gets every alert, as Prometheus does. */
        urls: z.array(HttpUrlSchema).min(1),
        /** Firing alerts are re-sent this often (endsAt lies 4 periods ahead). */
        resend_s: z.number().min(5).max(3600).default(60),
        timeout_ms: z.number().int().min(100).max(120_000).default(10_000),
        bearer_token: SecretRefSchema.optional(),
        basic_auth: z.object({ username: z.string().min(1), password: SecretRefSchema }).strict().optional(),
      })
      .strict()
      .refine((a) => a.bearer_token === undefined || a.basic_auth === undefined, { message: 'use bearer_token or basic_auth, not both', path: ['basic_auth'] })
      .optional(),
    webhooks: z
      .array(
        z
          .object({
            name: IdSchema,
            url: HttpUrlSchema,
            /** HMAC-SHA256 key for X-Dcim-Signature. */
            secret: SecretRefSchema.optional(),
            timeout_ms: z.number().int().min(100).max(120_000).default(10_000),
          })
          .strict(),
      )
      .default([])
      .superRefine((hooks, ctx) => {
        const seen = new Set<string>();
        hooks.forEach((h, i) => {
          if (seen.has(h.name)) ctx.addIssue({ code: 'custom', message: `duplicate webhook name ${h.name}`, path: [i, 'name'] });
          seen.add(h.name);
        });
      }),
    /** WeCom (企业微信) group robots. */
    wecom: z
      .array(
        z
          .object({
            ...robotCommon,
            /** The robot's webhook key (the `key=` of its URL): a secret. */
            key: SecretRefSchema,
            base_url: BaseUrlSchema.default(WECOM_BASE_URL),
            msgtype: z.enum(['markdown', 'text']).default('markdown'),
            /** userids to @ (`@all`: everyone). */
            mention_users: z.array(z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'expected a WeCom userid')).default([]),
            /** Phone numbers to @ (text messages only). */
            mention_mobiles: z.array(MobileSchema).default([]),
          })
          .strict()
          .refine((w) => w.msgtype === 'text' || w.mention_mobiles.length === 0, { message: 'WeCom markdown messages cannot @ by phone: use msgtype: text or mention_users', path: ['mention_mobiles'] }),
      )
      .default([])
      .superRefine(uniqueNames('wecom robot')),
    /** DingTalk (钉钉) custom group robots. */
    dingtalk: z
      .array(
        z
          .object({
            ...robotCommon,
            /** The robot's `access_token`: a secret. */
            access_token: SecretRefSchema,
            /** The signing secret (SEC…) when the robot is secured by 加签; absent: keyword or IP security. */
            secret: SecretRefSchema.optional(),
            base_url: BaseUrlSchema.default(DINGTALK_BASE_URL),
            at_mobiles: z.array(MobileSchema).default([]),
            at_all: z.boolean().default(false),
          })
          .strict(),
      )
      .default([])
      .superRefine(uniqueNames('dingtalk robot')),
    /** The retained dcim/v1/<site>/alerts/<id> topics. */
    mqtt: z.boolean().default(true),
  })
  .strict()
  .prefault({});
export type AlertsConfig = z.infer<typeof AlertsConfigSchema>;

/** Rule files, the state file and secret files made absolute against the config's folder. */
export function alertsConfigWithAbsolutePaths(c: AlertsConfig, abs: (p: string) => string): AlertsConfig {
  const secret = (ref: SecretRef): SecretRef => (typeof ref === 'object' && 'file' in ref ? { file: abs(ref.file) } : ref);
  const am = c.alertmanager;
  return {
    ...c,
    rules: c.rules.map(abs),
    ...(c.state_file !== undefined ? { state_file: abs(c.state_file) } : {}),
    ...(am
      ? {
          alertmanager: {
            ...am,
            ...(am.bearer_token !== undefined ? { bearer_token: secret(am.bearer_token) } : {}),
            ...(am.basic_auth ? { basic_auth: { ...am.basic_auth, password: secret(am.basic_auth.password) } } : {}),
          },
        }
      : {}),
    webhooks: c.webhooks.map((w) => ({ ...w, ...(w.secret !== undefined ? { secret: secret(w.secret) } : {}) })),
    wecom: c.wecom.map((w) => ({ ...w, key: secret(w.key) })),
    dingtalk: c.dingtalk.map((d) => ({ ...d, access_token: secret(d.access_token), ...(d.secret !== undefined ? { secret: secret(d.secret) } : {}) })),
  };
}

/** The rule set a config names; throws DCIM_E_CONFIG_INVALID listing every problem of every file. */
export function loadAlertRules(c: AlertsConfig): AlertRuleSet {
  return loadAlertRuleSet({ files: c.rules, defaults: c.defaults });
}

export interface AlertEngineDeps {
  inventories: readonly SiteInventory[];
  profiles: ReadonlyMap<string, DeviceProfile>;
  clock?: Clock;
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
  /** The collector subscriber's retained alert publish (required when `mqtt` is on). */
  publish?: AlertPublish;
  /** Already loaded (loadAlertRules at config load); default: loaded here. */
  rules?: AlertRuleSet;
}

/** The notifiers a config asks for; secrets resolved now, so a missing one fails at start. */
export function notifiersFromConfig(c: AlertsConfig, deps: Pick<AlertEngineDeps, 'env' | 'publish'>): Notifier[] {
  const env = deps.env ?? process.env;
  const out: Notifier[] = [];
  const am = c.alertmanager;
  if (am) {
    am.urls.forEach((url, i) => {
      out.push(
        new AlertmanagerNotifier({
          url,
          name: am.urls.length === 1 ? 'alertmanager' : `alertmanager-${i + 1}`,
          resend_ms: am.resend_s * 1000,
          timeout_ms: am.timeout_ms,
          ...(am.bearer_token !== undefined ? { bearer_token: resolveSecret(am.bearer_token, 'alerts.alertmanager.bearer_token', env) } : {}),
          ...(am.basic_auth ? { basic_auth: { username: am.basic_auth.username, password: resolveSecret(am.basic_auth.password, 'alerts.alertmanager.basic_auth.password', env) } } : {}),
          ...(c.generator_url !== undefined ? { generator_url: c.generator_url } : {}),
        }),
      );
    });
  }
  c.webhooks.forEach((w, i) => {
    out.push(
      new WebhookNotifier({
        url: w.url,
        name: `webhook-${w.name}`,
        timeout_ms: w.timeout_ms,
        ...(w.secret !== undefined ? { secret: resolveSecret(w.secret, `alerts.webhooks[${i}].secret`, env) } : {}),
      }),
    );
  });
  const robot = (r: AlertsConfig['wecom'][number] | AlertsConfig['dingtalk'][number]) => ({
    text: { language: r.language, timezone: r.timezone },
    severities: r.severities,
    per_minute: r.per_minute,
    timeout_ms: r.timeout_ms,
  });
  c.wecom.forEach((w, i) => {
    const key = robotCredential(resolveSecret(w.key, `alerts.wecom[${i}].key`, env), `alerts.wecom[${i}].key`);
    out.push(
      new WecomNotifier({
        ...robot(w),
        name: `wecom-${w.name}`,
        key,
        base_url: w.base_url,
        msgtype: w.msgtype,
        mention_users: w.mention_users,
        mention_mobiles: w.mention_mobiles,
      }),
    );
  });
  c.dingtalk.forEach((d, i) => {
    const access_token = robotCredential(resolveSecret(d.access_token, `alerts.dingtalk[${i}].access_token`, env), `alerts.dingtalk[${i}].access_token`);
    out.push(
      new DingtalkNotifier({
        ...robot(d),
        name: `dingtalk-${d.name}`,
        access_token,
        ...(d.secret !== undefined ? { secret: resolveSecret(d.secret, `alerts.dingtalk[${i}].secret`, env) } : {}),
        base_url: d.base_url,
        at_mobiles: d.at_mobiles,
        at_all: d.at_all,
      }),
    );
  });
  if (c.mqtt) {
    if (!deps.publish) throw new Error('alerts.mqtt is on but no MQTT publish was given');
    out.push(new MqttAlertNotifier(deps.publish));
  }
  return out;
}

/**
 * A robot key or token as resolved: the bare value. A whole webhook URL pasted into the secret is
 * refused at start (its value is not echoed: it is the credential).
 */
function robotCredential(value: string, what: string): string {
  const v = value.trim();
  if (v === '' || /[\s?&#/=]/.test(v)) throw new DcimError('DCIM_E_CONFIG_INVALID', `${what}: expected the bare key or token (the value after key= or access_token=), not a URL or an empty value`);
  return v;
}

/** A config section → a ready (not started) AlertEngine. */
export function createAlertEngine(c: AlertsConfig, deps: AlertEngineDeps): AlertEngine {
  return new AlertEngine({
    inventories: deps.inventories,
    profiles: deps.profiles,
    rules: deps.rules ?? loadAlertRules(c),
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.logger ? { logger: deps.logger } : {}),
    ...(c.state_file !== undefined ? { state_file: c.state_file } : {}),
    notifiers: notifiersFromConfig(c, deps),
    expire_ms: c.expire_h * 3_600_000,
    resolved_retention_ms: c.resolved_retention_h * 3_600_000,
  });
}
