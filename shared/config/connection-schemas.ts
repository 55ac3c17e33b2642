import { z } from 'zod';
import { BrokerUrlSchema } from './broker-url.js';
import { SecretRefSchema } from '../../contract/secret-ref.js';

/**
 * The settings agent, collector and bureau share, declared once so a key means the same thing,
 * with the same name and unit, in every config file.
 */

/** The old spelling of each TLS key (the agent's until the keys were unified), still read. */
export const DEPRECATED_TLS_KEYS = { ca: 'ca_file', cert: 'cert_file', key: 'key_file' } as const;
export type DeprecatedTlsKey = keyof typeof DEPRECATED_TLS_KEYS;

/**
 * TLS to the MQTT broker: PEM files, relative to the config file. `ca`, `cert` and `key` are
 * still accepted for `ca_file`, `cert_file` and `key_file`; the loaders warn about each one used
 * (`deprecated_keys`), and giving both spellings of one key is an error, since either could be
 * the one meant.
 */
export const MqttTlsSchema = z
  .object({
    ca_file: z.string().min(1).optional(),
    cert_file: z.string().min(1).optional(),
    key_file: z.string().min(1).optional(),
    ca: z.string().min(1).optional(),
    cert: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    reject_unauthorized: z.boolean().default(true),
  })
  .strict()
  .superRefine((t, ctx) => {
    for (const [old, now] of Object.entries(DEPRECATED_TLS_KEYS) as [DeprecatedTlsKey, (typeof DEPRECATED_TLS_KEYS)[DeprecatedTlsKey]][]) {
      if (t[old] !== undefined && t[now] !== undefined) ctx.addIssue({ code: 'custom', path: [old], message: `both ${old} (deprecated) and ${now} are given: keep ${now} only` });
    }
  })
  .transform((t) => {
    const used = (Object.keys(DEPRECATED_TLS_KEYS) as DeprecatedTlsKey[]).filter((k) => t[k] !== undefined);
    const caFile = t.ca_file ?? t.ca;
    const certFile = t.cert_file ?? t.cert;
    const keyFile = t.key_file ?? t.key;
    return {
      ...(caFile !== undefined ? { ca_file: caFile } : {}),
      ...(certFile !== undefined ? { cert_file: certFile } : {}),
      ...(keyFile !== undefined ? { key_file: keyFile } : {}),
      reject_unauthorized: t.reject_unauthorized,
      ...(used.length > 0 ? { deprecated_keys: used } : {}),
    };
  });
export type MqttTlsConfig = z.infer<typeof MqttTlsSchema>;

/** One line per old TLS key a config used: the file, the old key and the key to write instead. */
export function tlsDeprecationLines(file: string, section: string, tls: MqttTlsConfig | undefined): string[] {
  return (tls?.deprecated_keys ?? []).map((k) => `${file}: ${section}.${k} is deprecated: write ${section}.${DEPRECATED_TLS_KEYS[k]} (same value)`);
}

/**
 * An MQTT client id: stable across restarts, so the broker keeps the persistent session. MQTT
 * 3.1.1 only obliges a broker to take 1-23 letters and digits; mosquitto and the brokers the
 * README names take longer ids with these characters.
 */
export const MqttClientIdSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'expected 1-128 characters from A-Z a-z 0-9 _ . : -');

const MIB = 1024 * 1024;

/**
 * The keys of a durable spool (shared/spool), the same for the agent's telemetry spool and the
 * collector's store spool; each side gives its own size and age defaults.
 */
export function spoolShape(defaults: { maxBytes: number; maxAgeH: number }) {
  return {
    max_bytes: z.number().int().min(MIB, 'expected at least 1 MiB (1048576)').max(Number.MAX_SAFE_INTEGER).default(defaults.maxBytes),
    max_age_h: z.number().positive().max(24 * 366).default(defaults.maxAgeH),
    fsync: z.enum(['interval', 'always', 'never']).default('interval'),
    fsync_interval_ms: z.number().int().min(10).max(60_000).default(200),
    // Recovery reads a segment into memory at once: keep it small.
    segment_bytes: z.number().int().min(64 * 1024).max(256 * MIB).optional(),
  };
}

/** A segment holds at most a quarter of the spool, so dropping the oldest frees room in steps. */
export function checkSegmentBytes(s: { max_bytes: number; segment_bytes?: number | undefined }, ctx: z.RefinementCtx): void {
  if (s.segment_bytes !== undefined && s.segment_bytes > s.max_bytes / 4) ctx.addIssue({ code: 'custom', message: 'segment_bytes must be at most max_bytes / 4', path: ['segment_bytes'] });
}

/**
 * The MQTT connection keys every part reads (broker URL, user, password, client id, TLS); a part
 * adds its own keys with `.extend` and checks the URL scheme against TLS with requireTlsScheme.
 */
export const mqttConnectionShape = {
  url: BrokerUrlSchema,
  username: z.string().min(1).optional(),
  password: SecretRefSchema.optional(),
  /** Default dcim-agent-<site>-<agent> or dcim-collector-<id> (dcim-bureau-<id>). */
  client_id: MqttClientIdSchema.optional(),
  tls: MqttTlsSchema.optional(),
};
