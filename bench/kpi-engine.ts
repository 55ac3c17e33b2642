/**
 * KPI engine benchmark (not a timed test): readings per second through
 * `KpiEngine.ingest` on one core, memory at 100,000 series, and the cost of `evaluate`.
 *
 *   node --expose-gc node_modules/.bin/tsx bench/kpi-engine.ts [--racks 4000] [--minutes 60]
 *
 * The synthetic site: `racks` racks (5 kW, available), two APC PDUs each (A/B feeds, at the PUE
 * level), 12 readings per PDU poll (power, energy, load state, 3 phases × 3 columns), plus 100
 * Modbus meters (incomers, cooling, lighting) of 10 readings: 4,000 racks → 8,000 PDUs × 12 +
 * 100 × 10 ≈ 97,000 series. Every device is polled every 10 s of simulated time.
 */
import { performance } from 'node:perf_hooks';
import { KpiEngine } from '../collector/kpi-engine.js';
import { SiteInventorySchema } from '../contract/inventory.js';
import type { Reading } from '../contract/messages.js';
import { loadProfiles } from '../profiles/catalogue.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RACKS = arg('racks', 4000);
const MINUTES = arg('minutes', 60);
const INTERVAL_MS = 10_000;
const T0 = Date.UTC(2026, 0, 5, 16);

const gc = (globalThis as { gc?: () => void }).gc;
const mib = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;
const mem = () => {
  gc?.();
  const m = process.memoryUsage();
  return { rss_mib: mib(m.rss), heap_mib: mib(m.heapUsed), array_buffers_mib: mib(m.arrayBuffers) };
};

const base = mem();
const racks = Array.from({ length: RACKS }, (_, i) => ({ id: `r${i}`, hall: 'h1', rated_kw: 5 }));
const devices: unknown[] = [];
for (let i = 0; i < RACKS; i++) {
  for (const side of ['a', 'b']) devices.push({ id: `pdu-${i}-${side}`, profile: 'apc-rpdu2', rack: `r${i}`, address: { protocol: 'snmp', host: '127.0.0.1', community: `c${i}${side}` }, interval_s: 10, meter: { role: 'it', level: 'pdu_out', rated_kw: 5 } });
}
const roles = ['facility_in', 'facility_in', 'cooling', 'other'] as const;
for (let i = 0; i < 100; i++) devices.push({ id: `meter-${i}`, profile: 'eastron-sdm630', address: { protocol: 'modbus', host: '127.0.0.1', unit_id: (i % 247) + 1, port: 1000 + Math.floor(i / 247) }, interval_s: 10, meter: { role: roles[i % 4], rated_kw: Math.max(100, (RACKS * 2 * 2.7 * 1.25 * 1.5) / 50) } });
const inv = SiteInventorySchema.parse({ site: { id: 'bench', name: 'Bench' }, halls: [{ id: 'h1' }], racks, devices });
const engine = KpiEngine.create({ inventories: [inv], profiles: loadProfiles() });
const built = mem();

const r = (point: string, value: Reading['value'], unit?: Reading['unit'], index?: Reading['index']): Reading => ({ point, value, quality: 'good', ...(unit ? { unit } : {}), ...(index ? { index } : {}) });
// Pre-built readings per device kind; only the counter value changes per poll.
const pduStatic: Reading[] = [r('load_state', 'normal')];
for (const phase of ['1', '2', '3']) pduStatic.push(r('phase_current_a', 4.1, 'A', { phase }), r('phase_voltage_v', 230, 'V', { phase }), r('phase_power_w', 900, 'W', { phase }));
const meterStatic: Reading[] = ['voltage_l1_v', 'voltage_l2_v', 'voltage_l3_v', 'current_l1_a', 'current_l2_a', 'current_l3_a', 'frequency_hz', 'import_energy_kwh'].map((p) => r(p, 1, undefined));
const ids = (devices as { id: string }[]).map((d) => d.id);
const series = ids.reduce((s, id) => s + (id.startsWith('pdu') ? 2 + pduStatic.length : 2 + meterStatic.length), 0);

// IT 2.7 kW per PDU; the 50 incomers carry 1.25 × IT (PUE 1.25), cooling meters 20 % of IT.
const PDU_KW = 2.7;
const itKw = 2 * RACKS * PDU_KW;
const meterKw = Array.from({ length: 100 }, (_, i) => (roles[i % 4] === 'facility_in' ? (1.25 * itKw) / 50 : roles[i % 4] === 'cooling' ? (0.2 * itKw) / 25 : 5));
let readings = 0;
let ingestMs = 0;
const polls = (MINUTES * 60_000) / INTERVAL_MS;
for (let k = 0; k <= polls; k++) {
  const ts = T0 + k * INTERVAL_MS;
  const h = (k * INTERVAL_MS) / 3_600_000;
  const start = performance.now();
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    const pdu = id.charCodeAt(0) === 112; // 'p'
    const kw = pdu ? PDU_KW : meterKw[i - 2 * RACKS]!;
    const rs = [r('active_power_w', kw * 1000, 'W'), r('energy_kwh', 1000 + kw * h, 'kWh'), ...(pdu ? pduStatic : meterStatic)];
    engine.ingest('bench', id, ts, rs);
    readings += rs.length;
  }
  ingestMs += performance.now() - start;
}
const fed = mem();

const now = T0 + MINUTES * 60_000 + 61_000;
const t0 = performance.now();
const values = engine.evaluate('bench', now);
const firstEval = performance.now() - t0;
const t1 = performance.now();
for (let i = 0; i < 10; i++) engine.evaluate('bench', now);
const evalMs = (performance.now() - t1) / 10;
const t2 = performance.now();
engine.takeClosed(now);
const takeMs = performance.now() - t2;

const pue = values.find((v) => v.kpi === 'pue' && v.window === '15m');
const stats = engine.stats();
console.log(
  JSON.stringify(
    {
      racks: RACKS,
      devices: ids.length,
      series,
      simulated_minutes: MINUTES,
      readings,
      ingest_readings_per_s: Math.round(readings / (ingestMs / 1000)),
      ingest_polls_per_s: Math.round((ids.length * (polls + 1)) / (ingestMs / 1000)),
      evaluate_ms: { first: Math.round(firstEval * 10) / 10, repeated: Math.round(evalMs * 10) / 10, take_closed: Math.round(takeMs * 10) / 10 },
      memory: { before: base, engine_built: built, after_feed: fed, engine_heap_mib: Math.round((fed.heap_mib - base.heap_mib) * 10) / 10, bucket_mib: mib(stats.bucket_bytes) },
      check: { pue_15m: pue?.value, quality: pue?.quality, reason: pue?.reason, readings_invalid: stats.readings_invalid },
    },
    null,
    2,
  ),
);
