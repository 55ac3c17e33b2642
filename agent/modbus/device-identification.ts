import type { ModbusOutcome } from './modbus-transport.js';

/**
 * Read Device Identification (Modbus Application Protocol v1.1b3 §6.21, function 43 / MEI 14),
 * basic category: objects 0 VendorName, 1 ProductCode, 2 MajorMinorRevision (mandatory), and
 * 3-6 of the regular category when a device sends them. modbus-serial frames the request and
 * splits the answer into objects; it truncates an object whose length runs past the frame and
 * decodes any bytes as text, so this check refuses what a device could not have meant. Pure.
 */
export interface DeviceIdentification {
  vendor: string;
  product: string;
  revision: string;
  /** Regular objects when sent: VendorUrl, ProductName, ModelName, UserApplicationName. */
  vendor_url?: string;
  product_name?: string;
  model_name?: string;
  conformity: number;
}

/** Conformity levels the standard defines: basic/regular/extended, with or without individual access. */
const CONFORMITY = new Set([0x01, 0x02, 0x03, 0x81, 0x82, 0x83]);
/** An object fits one PDU: 253 bytes less the 8 of the answer's header and its own 2. */
const MAX_OBJECT_CHARS = 243;
const PRINTABLE = /^[\x20-\x7e]*$/;
const REGULAR = { 3: 'vendor_url', 4: 'product_name', 5: 'model_name' } as const;

export function checkDeviceIdentification(answer: unknown): ModbusOutcome<DeviceIdentification> {
  const bad = (message: string): ModbusOutcome<DeviceIdentification> => ({ ok: false, kind: 'invalid', message });
  if (answer === null || typeof answer !== 'object') return bad('no answer object');
  const { data, conformityLevel } = answer as { data?: unknown; conformityLevel?: unknown };
  if (typeof conformityLevel !== 'number' || !CONFORMITY.has(conformityLevel)) return bad(`conformity level ${String(conformityLevel)} is not one the standard defines`);
  if (data === null || typeof data !== 'object') return bad('no objects');
  const objects = data as Record<string, unknown>;
  const text = (id: number): string | undefined | Error => {
    const v = objects[id];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') return new Error(`object ${id} is not text`);
    if (v.length > MAX_OBJECT_CHARS) return new Error(`object ${id} is ${v.length} characters, more than a frame holds`);
    // Trailing NULs pad fixed-size fields on some devices; anything else unprintable is not a name.
    const t = v.replace(/\0+$/, '');
    if (!PRINTABLE.test(t)) return new Error(`object ${id} holds non-text bytes`);
    return t.trim();
  };
  const basic: string[] = [];
  for (const id of [0, 1, 2]) {
    const t = text(id);
    if (t instanceof Error) return bad(t.message);
    if (t === undefined) return bad(`mandatory object ${id} is missing`);
    basic.push(t);
  }
  const [vendor, product, revision] = basic as [string, string, string];
  const out: DeviceIdentification = { vendor, product, revision, conformity: conformityLevel };
  for (const [id, key] of Object.entries(REGULAR)) {
    const t = text(Number(id));
    if (t instanceof Error) return bad(t.message);
    if (t) out[key] = t;
  }
  return { ok: true, value: out };
}
