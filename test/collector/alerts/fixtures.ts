import { SiteInventorySchema, type SiteInventory } from '../../../contract/inventory.js';
import type { AgentState, DeviceStatus, Reading } from '../../../contract/messages.js';
import { loadProfiles } from '../../../profiles/catalogue.js';

/**
 * A small site for alert tests: hall h1 with racks r1, r2 (rack group pod-a) and r3 (pod-b), a
 * rack without a group (r4), an inlet sensor per rack (XY-MD02, 10 s), one IT PDU and an incomer.
 */
export function testInventory(): SiteInventory {
  const sensor = (rack: string, unit: number) => ({
    id: `th-${rack}`,
    profile: 'xy-md02-th',
    rack,
    address: { protocol: 'modbus', host: '127.0.0.1', port: 15030, unit_id: unit, transport: 'rtu_over_tcp' },
    interval_s: 10,
  });
  return SiteInventorySchema.parse({
    site: { id: 't', name: 'Test site' },
    targets: { pue: 1.3, rack_occupancy: 0.7, green_share: 0.8 },
    halls: [{ id: 'h1' }],
    racks: [
      { id: 'r1', hall: 'h1', rated_kw: 10, sim: { cooling_group: 'pod-a' } },
      { id: 'r2', hall: 'h1', rated_kw: 10, sim: { cooling_group: 'pod-a' } },
      { id: 'r3', hall: 'h1', rated_kw: 10, sim: { cooling_group: 'pod-b' } },
      { id: 'r4', hall: 'h1', rated_kw: 10 },
    ],
    devices: [
      sensor('r1', 1),
      sensor('r2', 2),
      sensor('r3', 3),
      sensor('r4', 4),
      { id: 'pdu-r1', profile: 'apc-rpdu2', rack: 'r1', address: { protocol: 'snmp', host: '127.0.0.1', community: 'a' }, interval_s: 5, meter: { role: 'it', level: 'pdu_out', rated_kw: 10 } },
      { id: 'incomer', profile: 'eastron-sdm630', hall: 'h1', address: { protocol: 'modbus', host: '127.0.0.1', port: 15020, unit_id: 1 }, interval_s: 5, meter: { role: 'facility_in', rated_kw: 50 } },
    ],
  });
}

export const profiles = loadProfiles();

export const temp = (value: number): Reading => ({ point: 'inlet_temp_c', value, unit: 'degC', quality: 'good' });
export const down = (since: number): DeviceStatus => ({ state: 'down', code: 'DCIM_E_MODBUS_TIMEOUT', since, last_ok: since - 10_000 });
export const up = (since: number): DeviceStatus => ({ state: 'up', since, last_ok: since });
export const agentState = (online: boolean, ts: number): AgentState => ({ online, ts, version: '0.1.0', devices: 6, bd_seq: 1 });
