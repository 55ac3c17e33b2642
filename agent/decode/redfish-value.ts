import type { RedfishPoint } from '../../contract/index.js';
import { applyNumeric, decoded, enumName, failed, isSentinel, MAX_STRING_CHARS, type Decoded, type ValueSpec } from './decoded.js';

/**
 * One Redfish JSON value (what a point's pointer resolved to) → engineering value. Pure.
 *
 *   number   a finite JSON number, through the one scale convention
 *   string   a JSON string (cut to the reading limit); a number is accepted as its text
 *   bool     a JSON boolean (mapped through the enum map's "0"/"1" when there is one)
 *   enum     a string or integer looked up in the enum map
 *
 * `null` is how Redfish says "no reading now" (DSP0266 §9.4: properties that are not available
 * are null), so it is DCIM_E_VALUE_UNAVAILABLE; a value of the wrong JSON type is
 * DCIM_E_DECODE_VALUE. A missing property is the pointer resolver's failure, reported by the
 * reader before this is called.
 */
export type RedfishValueSpec = ValueSpec & { type: RedfishPoint['type'] };

export function decodeRedfishValue(spec: RedfishValueSpec, value: unknown): Decoded {
  if (value === null) return failed('DCIM_E_VALUE_UNAVAILABLE', 'null (no reading)');
  if (value === undefined) return failed('DCIM_E_DECODE_VALUE', 'no value');
  if ((typeof value === 'number' || typeof value === 'string') && isSentinel(spec, value)) {
    return failed('DCIM_E_VALUE_UNAVAILABLE', `sentinel ${JSON.stringify(value)}`);
  }
  switch (spec.type) {
    case 'number':
      if (typeof value !== 'number') return wrongType('a number', value);
      return applyNumeric(value, spec);
    case 'string':
      if (typeof value === 'number' && Number.isFinite(value)) return mapText(spec, String(value));
      if (typeof value !== 'string') return wrongType('a string', value);
      return mapText(spec, value);
    case 'bool':
      if (typeof value !== 'boolean') return wrongType('a boolean', value);
      if (!spec.enum) return decoded(value);
      return lookup(spec, value ? '1' : '0');
    case 'enum':
      if (typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value))) return lookup(spec, String(value));
      return wrongType('a string or integer', value);
  }
}

function mapText(spec: RedfishValueSpec, text: string): Decoded {
  if (spec.enum) return lookup(spec, text);
  return decoded(text.slice(0, MAX_STRING_CHARS));
}

function lookup(spec: RedfishValueSpec, key: string): Decoded {
  const name = spec.enum ? enumName(spec.enum, key) : undefined;
  return name === undefined ? failed('DCIM_E_DECODE_VALUE', `value ${JSON.stringify(key.slice(0, 40))} is not in the enum map`) : decoded(name);
}

function wrongType(expected: string, value: unknown): Decoded {
  const got = Array.isArray(value)
    ? 'an array'
    : typeof value === 'object'
      ? 'an object'
      : typeof value === 'string'
        ? `string ${JSON.stringify(value.slice(0, 40))}`
        : `${typeof value} ${String(value)}`;
  return failed('DCIM_E_DECODE_VALUE', `expected ${expected}, got ${got}`);
}
