/**
 * Live page floor benchmark (not a timed test): the cost of `siteFloor` (GET /api/sites/:id/floor,
 * and the `floor` event pushed every 5 s while a wall screen is open) and the size of its JSON.
 *
 *   npx tsx bench/live-floor.ts [--racks 4000] [--halls 8]
 *
 * The synthetic site: `racks` racks (8 kW) spread over `halls` halls, two APC PDUs and one inlet
 * sensor per rack, two incomers per hall, one CRAH per 20 racks; every series fresh in a
 * LatestValues as the collector holds it.
 */
import { performance } from 'node:perf_hooks';
import { siteFloor } from '../collector/live/site-floor.js';
import { LatestValues } from '../collector/state/latest-values.js';
import { SiteInventorySchema } from '../contract/inventory.js';
import { loadProfiles } from '../profiles/catalogue.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RACKS = arg('racks', 4000);
const HALLS = arg('halls', 8);
const NOW = Date.UTC(2026, 0, 5, 16);

const halls = Array.from({ length: HALLS }, (_, h) => ({ id: `h${h}`, name: `Hall ${h + 1}` }));
const racks = Array.from({ length: RACKS }, (_, i) => ({ id: `r${i}`, hall: `h${i % HALLS}`, rated_kw: 8 }));
const devices: unknown[] = [];
let addresses = 0;
// Unique Modbus addresses: 247 units per gateway port.
const modbus = () => {
  const n = addresses++;
  return { protocol: 'modbus', host: '127.0.0.1', port: 15000 + Math.floor(n / 247), unit_id: (n % 247) + 1 };
};
for (let i = 0; i < RACKS; i++) {
  for (const side of ['a', 'b']) devices.push({ id: `pdu-${i}-${side}`, profile: 'apc-rpdu2', rack: `r${i}`, address: { protocol: 'snmp', host: '127.0.0.1', community: `c${i}${side}` }, interval_s: 10, meter: { role: 'it', level: 'pdu_out', rated_kw: 8 } });
  devices.push({ id: `th-${i}`, profile: 'xy-md02-th', rack: `r${i}`, address: modbus(), interval_s: 10 });
}
for (let h = 0; h < HALLS; h++) for (const n of [1, 2]) devices.push({ id: `inc-${h}-${n}`, profile: 'eastron-sdm630', hall: `h${h}`, address: modbus(), interval_s: 5, meter: { role: 'facility_in', rated_kw: 2000 } });
for (let c = 0; c < RACKS / 20; c++) devices.push({ id: `crah-${c}`, profile: 'crah-bms', hall: `h${c % HALLS}`, address: modbus(), interval_s: 10 });
const inventory = SiteInventorySchema.parse({ site: { id: 'bench', name: 'Bench' }, targets: { pue: 1.2, rack_occupancy: 0.7, green_share: 0.8 }, halls, racks, devices });
const profiles = loadProfiles();

const latest = new LatestValues();
for (let i = 0; i < RACKS; i++) {
  for (const side of ['a', 'b']) latest.updatePoll('bench', `pdu-${i}-${side}`, [{ point: 'active_power_w', value: 2500, unit: 'W', quality: 'good' }, { point: 'energy_kwh', value: 1234.5, unit: 'kWh', quality: 'good' }], NOW - 3000);
  latest.updatePoll('bench', `th-${i}`, [{ point: 'inlet_temp_c', value: 22 + (i % 9), unit: 'degC', quality: 'good' }, { point: 'humidity_pct', value: 45, unit: '%', quality: 'good' }], NOW - 3000);
}
for (let h = 0; h < HALLS; h++) for (const n of [1, 2]) latest.updatePoll('bench', `inc-${h}-${n}`, [{ point: 'active_power_w', value: (RACKS / HALLS) * 5000 * 0.6, unit: 'W', quality: 'good' }], NOW - 2000);
for (let c = 0; c < RACKS / 20; c++) latest.updatePoll('bench', `crah-${c}`, [{ point: 'unit_on', value: true, quality: 'good' }, { point: 'supply_air_temp_c', value: 19, unit: 'degC', quality: 'good' }, { point: 'return_air_temp_c', value: 31, unit: 'degC', quality: 'good' }, { point: 'common_alarm', value: false, quality: 'good' }, { point: 'active_power_w', value: 3000, unit: 'W', quality: 'good' }], NOW - 2000);

const input = { inventory, profiles, series: (d: string) => latest.deviceSeries('bench', d), status: () => undefined, now: NOW };
siteFloor(input); // builds and caches the site model
const runs = 20;
const t0 = performance.now();
let json = '';
for (let i = 0; i < runs; i++) json = JSON.stringify(siteFloor(input));
const ms = (performance.now() - t0) / runs;
const floor = siteFloor(input);
console.log(JSON.stringify({ racks: RACKS, halls: HALLS, devices: devices.length, series: latest.size, floor_ms: Math.round(ms * 10) / 10, json_kib: Math.round(json.length / 102.4) / 10, powered: floor.halls.reduce((a, h) => a + h.racks_powered, 0), hall_pue: floor.halls[0]?.pue }));
