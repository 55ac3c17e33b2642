import type { RecordedPoll } from '../../../collector/recompute/kpi-replay.js';
import { SiteInventorySchema, type SiteInventory } from '../../../contract/inventory.js';
import type { Reading } from '../../../contract/messages.js';

/**
 * A hand-checked site and its polls, shared by the engine's tests and the federation tests (the
 * same telemetry read by one collector, and summarised for a bureau).
 */
export const MIN = 60_000;
export const DAY = 86_400_000;
// 2026-01-01 00:00 in Asia/Shanghai.
export const JAN1 = Date.UTC(2025, 11, 31, 16);

export const snmp = (community: string) => ({ protocol: 'snmp', host: '127.0.0.1', community });
export const modbus = (unit_id: number) => ({ protocol: 'modbus', host: '127.0.0.1', unit_id });

/**
 * Hand-checked site: incomer 120 kW, PV behind the meter 10 kW → facility 130 kW. IT at pdu_out:
 * rack r1 100 kW (rated 120), rack r2 0.5 kW (rated 10: below max(0.3, 1.0) kW, not on-rack).
 * UPS output 3 lines × 34 kW = 102 kW (ups_out, power only). A GPU server in r2 (it_in) with 8 H100
 * and 2 EPYC 7742. Racks: r3 reserved, r4 available without devices.
 */
export function inventory(level: 'pdu_out' | 'ups_out'): SiteInventory {
  return SiteInventorySchema.parse({
    site: { id: 'hs', name: 'Hand-checked', pue_it_level: level },
    halls: [{ id: 'h1' }],
    racks: [
      { id: 'r1', hall: 'h1', rated_kw: 120 },
      { id: 'r2', hall: 'h1', rated_kw: 10 },
      { id: 'r3', hall: 'h1', rated_kw: 10, status: 'reserved' },
      { id: 'r4', hall: 'h1', rated_kw: 5 },
    ],
    devices: [
      { id: 'in-1', profile: 'eastron-sdm630', address: modbus(1), interval_s: 60, meter: { role: 'facility_in', rated_kw: 200 } },
      { id: 'pv-1', profile: 'sunspec-inverter', address: modbus(2), interval_s: 60, meter: { role: 'green_onsite', behind_meter: true, rated_kw: 50 } },
      { id: 'ups-1', profile: 'rfc1628-ups', hall: 'h1', address: snmp('ups'), interval_s: 60, meter: { role: 'it', level: 'ups_out' } },
      { id: 'pdu-r1', profile: 'apc-rpdu2', rack: 'r1', address: snmp('r1'), interval_s: 60, meter: { role: 'it', level: 'pdu_out', rated_kw: 120 } },
      { id: 'pdu-r2', profile: 'apc-rpdu2', rack: 'r2', address: snmp('r2'), interval_s: 60, meter: { role: 'it', level: 'pdu_out', rated_kw: 10 } },
      { id: 'gpu-1', profile: 'redfish-gpu-server', rack: 'r2', address: { protocol: 'redfish', host: '127.0.0.1' }, interval_s: 60, meter: { role: 'it', level: 'it_in', rated_kw: 10 } },
    ],
    green_certificates: [{ id: 'gec-1', period: '2026-01', certificates: 1 }],
    green_trades: [{ id: 'trade-1', period: '2026-01', kwh: 500 }],
  });
}

export const r = (point: string, value: Reading['value'], unit?: Reading['unit'], index?: Reading['index']): Reading => ({ point, value, quality: 'good', ...(unit ? { unit } : {}), ...(index ? { index } : {}) });

/** Power (kW) of each device; counters are the integral. */
export const KW = { 'in-1': 120, 'pv-1': 10, 'pdu-r1': 100, 'pdu-r2': 0.5, 'gpu-1': 3 } as const;

export function poll(device: string, ts: number, base: Record<string, number> = {}): RecordedPoll {
  const h = (ts - JAN1) / 3_600_000;
  const counter = (kw: number) => (base[device] ?? 1000) + kw * h;
  const readings: Reading[] = [];
  if (device === 'ups-1') for (const line of ['1', '2', '3']) readings.push(r('output_power_w', 34_000, 'W', { line }), r('output_voltage_v', 230, 'V', { line }));
  else if (device === 'gpu-1') {
    readings.push(r('active_power_w', 3000, 'W'), r('energy_kwh', counter(3), 'kWh'));
    for (let g = 0; g < 8; g++) readings.push(r('gpu_model', 'NVIDIA H100 80GB HBM3', undefined, { gpu: String(g) }), r('gpu_utilisation_pct', 50, '%', { gpu: String(g) }));
    for (const c of ['0', '1']) readings.push(r('cpu_model', 'AMD EPYC 7742 64-Core Processor', undefined, { cpu: c }));
  } else {
    const kw = KW[device as keyof typeof KW];
    readings.push(r('active_power_w', kw * 1000, 'W'), r('energy_kwh', counter(kw), 'kWh'));
    if (device.startsWith('pdu')) readings.push(r('phase_current_a', 12, 'A', { phase: '1' }));
  }
  return { site: 'hs', device, ts, readings };
}

export const DEVICES = ['in-1', 'pv-1', 'ups-1', 'pdu-r1', 'pdu-r2', 'gpu-1'];
export function day(from = JAN1, to = JAN1 + DAY, skip: (device: string, ts: number) => boolean = () => false): RecordedPoll[] {
  const out: RecordedPoll[] = [];
  for (let t = from; t <= to; t += MIN) for (const d of DEVICES) if (!skip(d, t)) out.push(poll(d, t));
  return out;
}

