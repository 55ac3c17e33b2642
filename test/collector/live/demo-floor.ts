import { resolve } from 'node:path';
import { SiteInventorySchema } from '../../../contract/index.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { loadYamlFile } from '../../../shared/config/load.js';
import type { DeviceStatus } from '../../../contract/messages.js';
import { powerPointOf } from '../../../collector/kpi/power-meters.js';
import type { SiteFloorInput } from '../../../collector/live/site-floor.js';
import type { LatestSeries } from '../../../collector/state/latest-values.js';

/**
 * The demo seed's hall with scripted latest values, for the floor view and the page tests: each
 * rack's PDUs split the rack's load, one inlet sensor per rack, incomers and the green feed
 * for a hall PUE, two chillers and four CRAHs (one in alarm). `temps` and `loads_kw` override
 * the defaults per rack; a device in `silent` has values older than its stale limit.
 */
export const demoInventory = loadYamlFile(SiteInventorySchema, resolve(import.meta.dirname, '../../../seeds/demo.yaml'));
export const demoProfiles = loadProfiles();

export const DEFAULT_LOADS_KW: Record<string, number> = { r01: 8, r02: 6.5, r03: 5, r04: 5.5, r05: 7, r06: 4.5, r07: 6, r08: 5, r09: 6.5, r10: 4, r11: 31, r12: 29, r13: 5, r14: 0.1 };
export const DEFAULT_TEMPS_C: Record<string, number> = { r01: 22.4, r02: 23.1, r03: 21.8, r04: 24.0, r05: 25.2, r06: 22.9, r07: 28.6, r08: 23.5, r09: 24.4, r10: 21.2, r11: 26.1, r12: 33.4, r13: 22.0, r14: 20.5 };

export interface DemoFloorOptions {
  now: number;
  loads_kw?: Record<string, number>;
  temps?: Record<string, number>;
  /** Facility power, W (incomers share it). */
  facility_w?: number;
  silent?: readonly string[];
  statuses?: Record<string, DeviceStatus>;
}

export function demoFloorInput(o: DemoFloorOptions): SiteFloorInput {
  const loads = { ...DEFAULT_LOADS_KW, ...o.loads_kw };
  const temps = { ...DEFAULT_TEMPS_C, ...o.temps };
  const series = new Map<string, LatestSeries[]>();
  const ts = (d: string) => (o.silent?.includes(d) ? o.now - 3_600_000 : o.now - 2000);
  const put = (d: string, point: string, value: number | boolean) => series.set(d, [...(series.get(d) ?? []), { point, value, quality: 'good', ts_ms: ts(d) }]);
  const pdusOf = (rack: string) => demoInventory.devices.filter((d) => d.rack === rack && d.meter?.level === 'pdu_out');
  let it_w = 0;
  for (const r of demoInventory.racks) {
    const pdus = pdusOf(r.id);
    for (const p of pdus) put(p.id, powerPointOf(demoProfiles.get(p.profile)), ((loads[r.id] ?? 0) * 1000) / pdus.length);
    if (pdus.length > 0) it_w += (loads[r.id] ?? 0) * 1000;
    const th = demoInventory.devices.find((d) => d.rack === r.id && d.profile === 'xy-md02-th');
    if (th && temps[r.id] !== undefined) put(th.id, 'inlet_temp_c', temps[r.id]!);
  }
  const facility = o.facility_w ?? it_w * 1.18;
  put('meter-incomer-1', powerPointOf(demoProfiles.get('eastron-sdm630')), facility * 0.35);
  put('meter-incomer-2', powerPointOf(demoProfiles.get('schneider-pm5000')), facility * 0.35);
  put('meter-green-feed', powerPointOf(demoProfiles.get('wattnode-wnd')), facility * 0.3);
  put('pv-roof-1', powerPointOf(demoProfiles.get('sunspec-inverter')), 0);
  for (const [id, supply, ret] of [['chiller-1', 12.1, 17.9], ['chiller-2', 12.4, 18.3]] as const) {
    put(id, 'running', true);
    put(id, 'chw_supply_temp_c', supply);
    put(id, 'chw_return_temp_c', ret);
    put(id, 'compressor_alarm', false);
    put(id, 'active_power_w', 21_000);
  }
  for (const [id, alarm] of [['crah-a1', false], ['crah-a2', false], ['crah-b1', false], ['crah-b2', true]] as const) {
    put(id, 'unit_on', true);
    put(id, 'supply_air_temp_c', 19.5);
    put(id, 'return_air_temp_c', 31.2);
    put(id, 'common_alarm', alarm);
    put(id, 'filter_alarm', false);
    put(id, 'active_power_w', 3200);
  }
  return {
    inventory: demoInventory,
    profiles: demoProfiles,
    series: (d) => series.get(d) ?? [],
    status: (d) => o.statuses?.[d],
    now: o.now,
  };
}
