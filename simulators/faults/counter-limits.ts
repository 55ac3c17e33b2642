import type { DeviceProfile, ModbusPoint, SnmpPoint } from '../../contract/index.js';
import { isCounterName } from './value-faults.js';

/**
 * Where each energy counter of a profile wraps, in engineering units (kWh): the profile's
 * `counter_max` when it declares one (the collector's ledger uses the same number), else the
 * largest raw value of the wire type times the scale. Floats and JSON numbers do not wrap.
 */
const SNMP_RAW_MAX: Partial<Record<SnmpPoint['type'], number>> = {
  integer: 2 ** 31 - 1,
  gauge: 2 ** 32 - 1,
  counter32: 2 ** 32,
  counter64: 2 ** 64,
};

const MODBUS_RAW_MAX: Partial<Record<ModbusPoint['type'], number>> = {
  uint16: 2 ** 16,
  int16: 2 ** 15 - 1,
  uint32: 2 ** 32,
  int32: 2 ** 31 - 1,
  uint64: 2 ** 64,
  int64: 2 ** 63 - 1,
};

export function counterModuli(profile: DeviceProfile): Map<string, number> {
  const out = new Map<string, number>();
  const add = (name: string, counter_max: number | undefined, rawMax: number | undefined, scale: number) => {
    if (!isCounterName(name)) return;
    const m = counter_max ?? (rawMax !== undefined ? rawMax * Math.abs(scale) : undefined);
    if (m !== undefined && Number.isFinite(m) && m > 0) out.set(name, m);
  };
  switch (profile.protocol) {
    case 'snmp':
      for (const p of profile.points) add(p.name, p.counter_max, p.exponent_from ? undefined : SNMP_RAW_MAX[p.type], p.scale);
      for (const t of profile.tables) for (const c of t.columns) add(c.name, c.counter_max, c.exponent_from ? undefined : SNMP_RAW_MAX[c.type], c.scale);
      break;
    case 'modbus':
      // A SunSpec scale factor moves with the value, so only a declared counter_max is certain.
      for (const p of profile.points) add(p.name, p.counter_max, p.scale_factor ? undefined : MODBUS_RAW_MAX[p.type], p.scale);
      break;
    case 'redfish':
      for (const r of profile.resources) for (const p of r.points) add(p.name, p.counter_max, undefined, p.scale);
      for (const c of profile.collections) for (const p of c.points) add(p.name, p.counter_max, undefined, p.scale);
      break;
  }
  return out;
}
