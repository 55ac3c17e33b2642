import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { selectDevices } from '../../agent/devices.js';
import { SiteInventorySchema } from '../../contract/inventory.js';
import { loadYamlFile } from '../../shared/config/load.js';
import { loadProfiles } from '../../profiles/catalogue.js';

/** Which devices an agent polls: the inventory's owners decide, and a config listing another agent's device is an error. */
const ROOT = path.resolve(import.meta.dirname, '../..');
const MINIMAL = loadYamlFile(SiteInventorySchema, path.join(ROOT, 'seeds/minimal.yaml'));
const SPLIT = SiteInventorySchema.parse({ ...MINIMAL, devices: MINIMAL.devices.map((d) => (d.id === 'meter-incomer-1' ? { ...d, agent: 'edge-2' } : d)) });
const OPEN = SiteInventorySchema.parse({ ...MINIMAL, site: { ...MINIMAL.site, agent: undefined } });
const profiles = loadProfiles();
const ids = (r: ReturnType<typeof selectDevices>) => r.devices.map((d) => d.device.id);

describe('selectDevices with ownership', () => {
  it('by default polls the devices the inventory gives this agent', () => {
    expect(ids(selectDevices(SPLIT, profiles, undefined, 'edge-1'))).toEqual(['pdu-r01-a']);
    expect(ids(selectDevices(SPLIT, profiles, undefined, 'edge-2'))).toEqual(['meter-incomer-1']);
  });

  it("refuses a listed device another agent owns, and an agent that owns nothing", () => {
    const listed = selectDevices(SPLIT, profiles, ['pdu-r01-a', 'meter-incomer-1'], 'edge-1');
    expect(ids(listed)).toEqual(['pdu-r01-a']);
    expect(listed.problems).toEqual([expect.objectContaining({ where: 'config', path: ['agent', 'devices', 1], message: expect.stringMatching(/belongs to agent edge-2, not edge-1/) })]);
    expect(selectDevices(SPLIT, profiles, undefined, 'edge-3').problems).toEqual([expect.objectContaining({ path: ['agent', 'id'], message: expect.stringMatching(/assigns no device to agent edge-3/) })]);
  });

  it('an open site: every device, to any agent', () => {
    expect(ids(selectDevices(OPEN, profiles, undefined, 'anyone'))).toEqual(['pdu-r01-a', 'meter-incomer-1']);
  });
});
