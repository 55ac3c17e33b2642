import type { FaultSpec } from './fault-spec.js';

/**
 * Whether a fault means anything for a device, pure: a Modbus exception needs Modbus, a clock
 * skew needs a clock on the wire, a counter fault needs a counter. A fault that could never be
 * observed is refused (422 over the control API, a start error in a seed) rather than accepted
 * and silently ignored.
 */
export interface FaultTarget {
  protocol: 'snmp' | 'modbus' | 'redfish';
  /** SNMP version of the device's address. */
  snmp_version?: '1' | '2c' | '3' | undefined;
  /** Energy counters the profile serves (point names ending in _kwh). */
  counters: readonly string[];
  /** Counters with a known wrap-around value. */
  wrapping_counters: readonly string[];
  /** The model can make this equipment fail (chillers, CRAHs). */
  can_fail: boolean;
}

export function faultProblem(spec: FaultSpec, t: FaultTarget): string | undefined {
  switch (spec.kind) {
    case 'modbus_exception':
      return t.protocol === 'modbus' ? undefined : `a Modbus exception needs a Modbus device; this one speaks ${t.protocol}`;
    case 'clock_skew':
      if (t.protocol === 'redfish') return undefined;
      if (t.protocol === 'snmp' && t.snmp_version === '3') return undefined;
      return `a clock skew shows only where time is on the wire (SNMPv3 engine time, Redfish DateTime); this device speaks ${t.protocol}${t.snmp_version ? ` v${t.snmp_version}` : ''}`;
    case 'counter_reset':
    case 'meter_swap':
      return t.counters.length > 0 ? undefined : 'the device serves no energy counter';
    case 'counter_rollover':
      if (t.counters.length === 0) return 'the device serves no energy counter';
      return t.wrapping_counters.length > 0 ? undefined : `none of its counters (${t.counters.join(', ')}) wraps: floats and JSON numbers have no maximum; declare counter_max in the profile`;
    case 'equipment_failure':
      return t.can_fail ? undefined : 'only chillers and CRAHs can fail in the model';
    default:
      return undefined;
  }
}
