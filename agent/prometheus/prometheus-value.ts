import type { PrometheusPoint } from '../../contract/index.js';
import { applyNumeric, decoded, enumName, failed, isSentinel, MAX_STRING_CHARS, type Decoded } from '../decode/decoded.js';

/**
 * One sample of a scrape → the engineering value of a point. Pure.
 * - A `label` point reads that label's text (cut to the reading limit, or looked up in the enum map).
 * - Otherwise the sample value goes through the one scale convention. NaN is how an exporter says
 *   "no value now" (dcgm-exporter for a field the GPU does not support): DCIM_E_VALUE_UNAVAILABLE.
 *   An infinity is no measurement at all: DCIM_E_DECODE_VALUE. Profile sentinels (a vendor's
 *   "invalid" number) are DCIM_E_VALUE_UNAVAILABLE too.
 */
export function decodePrometheusValue(pt: PrometheusPoint, value: number, labels: Readonly<Record<string, string>>): Decoded {
  if (pt.label !== undefined) {
    const text = Object.prototype.hasOwnProperty.call(labels, pt.label) ? labels[pt.label] : undefined;
    if (text === undefined) return failed('DCIM_E_PROM_SERIES_MISSING', `no label ${pt.label}`);
    return decodeLabelText(pt, text);
  }
  if (isSentinel(pt, value)) return failed('DCIM_E_VALUE_UNAVAILABLE', `sentinel ${value}`);
  if (Number.isNaN(value)) return failed('DCIM_E_VALUE_UNAVAILABLE', 'NaN (no value)');
  if (!Number.isFinite(value)) return failed('DCIM_E_DECODE_VALUE', `value ${value} is not finite`);
  return applyNumeric(value, pt);
}

export function decodeLabelText(pt: PrometheusPoint, text: string): Decoded {
  if (text === '' || isSentinel(pt, text)) return failed('DCIM_E_VALUE_UNAVAILABLE', `label ${pt.label ?? ''} is ${JSON.stringify(text)}`);
  if (pt.enum) {
    const name = enumName(pt.enum, text);
    return name === undefined ? failed('DCIM_E_DECODE_VALUE', `label value ${JSON.stringify(text.slice(0, 40))} is not in the enum map`) : decoded(name);
  }
  return decoded(text.slice(0, MAX_STRING_CHARS));
}
