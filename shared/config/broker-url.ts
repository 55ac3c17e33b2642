import { z } from 'zod';

/**
 * The broker URL both the agent and the collector are given, and the one rule that ties it to the
 * TLS settings: `tls` (a CA, a client certificate) with a plaintext scheme would be ignored by the
 * MQTT client, which then connects in the clear with the operator believing otherwise. That is a
 * configuration error, not a fallback.
 */
export const BrokerUrlSchema = z.string().regex(/^(mqtts?|wss?|tcp|ssl):\/\/[^\s]+$/, 'expected a broker URL such as mqtts://broker:8883 or mqtt://127.0.0.1:1883');

const SECURE_SCHEME = /^(mqtts|ssl|wss):\/\//;

/** Adds the issue to `ctx` when `tls` is set on a URL whose scheme is not TLS. */
export function requireTlsScheme(mqtt: { url: string; tls?: unknown }, ctx: z.RefinementCtx): void {
  if (mqtt.tls !== undefined && !SECURE_SCHEME.test(mqtt.url)) {
    const scheme = mqtt.url.slice(0, mqtt.url.indexOf(':'));
    ctx.addIssue({ code: 'custom', path: ['url'], message: `tls is set but ${scheme}:// connects in plaintext: use mqtts:// (or wss://), or remove tls` });
  }
}
