import type { ErrorCode } from '../../contract/errors.js';
import { MAX_PAYLOAD_BYTES } from '../../contract/messages.js';
import { fail, ok, type Result } from '../../shared/result.js';

/** Why a whole MQTT message was refused: a catalogue code and a reason for the log line. */
export interface DecodeFailure {
  code: ErrorCode;
  reason: string;
}

/**
 * Keys that would reach Object.prototype if a later `Object.assign`/spread met them. Our messages
 * never use them, so a payload carrying one is refused outright rather than cleaned.
 */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

class ForbiddenKey extends Error {}

/** Stateless between complete `decode` calls, so one instance serves every message. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Text that could hold a forbidden key: the key itself, or any `\u` escape (which could spell one).
 * Messages without either, which is all of ours, skip the reviver, which costs more than the parse.
 */
const maybeForbidden = (text: string): boolean => text.includes('\\u') || text.includes('__proto__') || text.includes('constructor') || text.includes('prototype');

/**
 * Payload bytes → JSON value. Checks the size limit before anything else (docs/design.md §9), refuses
 * invalid UTF-8 rather than letting it become U+FFFD, and refuses prototype-polluting keys.
 */
export function parseJsonPayload(payload: Uint8Array, limit_bytes = MAX_PAYLOAD_BYTES): Result<unknown, DecodeFailure> {
  if (payload.byteLength > limit_bytes) {
    return fail({ code: 'DCIM_E_MQTT_PAYLOAD_TOO_LARGE', reason: `payload of ${payload.byteLength} bytes exceeds the limit of ${limit_bytes}` });
  }
  let text: string;
  try {
    text = UTF8.decode(payload);
  } catch {
    return fail({ code: 'DCIM_E_MQTT_PAYLOAD_INVALID', reason: 'payload is not valid UTF-8' });
  }
  try {
    if (!maybeForbidden(text)) return ok(JSON.parse(text));
    return ok(
      JSON.parse(text, (key, value: unknown) => {
        if (FORBIDDEN_KEYS.has(key)) throw new ForbiddenKey(key);
        return value;
      }),
    );
  } catch (e) {
    if (e instanceof ForbiddenKey) return fail({ code: 'DCIM_E_MQTT_PAYLOAD_INVALID', reason: `payload contains the forbidden key ${JSON.stringify(e.message)}` });
    return fail({ code: 'DCIM_E_MQTT_PAYLOAD_INVALID', reason: `payload is not JSON: ${(e as Error).message.slice(0, 120)}` });
  }
}
