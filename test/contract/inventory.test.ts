import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deviceOwner, SiteInventorySchema, siteAgents } from '../../contract/inventory.js';
import { loadYamlFile } from '../../shared/config/load.js';

/** Device ownership in the site inventory: site.agent is the default, devices[].agent overrides it. */
const ROOT = path.resolve(import.meta.dirname, '../..');
const MINIMAL = loadYamlFile(SiteInventorySchema, path.join(ROOT, 'seeds/minimal.yaml'));
const raw = (site: object, devices: (d: (typeof MINIMAL.devices)[number]) => object) => ({ ...MINIMAL, site: { ...MINIMAL.site, agent: undefined, ...site }, devices: MINIMAL.devices.map(devices) });

describe('inventory: device owners', () => {
  it('every shipped seed names an owner for every device', () => {
    for (const f of ['seeds/minimal.yaml', 'seeds/demo.yaml', 'seeds/guian.yaml', 'seeds/cluster/guian-ai.yaml', 'seeds/cluster/guian-north.yaml', 'seeds/cluster/guian-south.yaml']) {
      const inv = loadYamlFile(SiteInventorySchema, path.join(ROOT, f));
      expect(inv.devices.filter((d) => deviceOwner(inv, d) === undefined).map((d) => d.id), f).toEqual([]);
    }
  });

  it('a device names its own agent, else the site default', () => {
    const inv = SiteInventorySchema.parse(raw({ agent: 'edge-1' }, (d) => (d.id === 'meter-incomer-1' ? { ...d, agent: 'edge-2' } : d)));
    expect([...siteAgents(inv)]).toEqual([
      ['edge-1', ['pdu-r01-a']],
      ['edge-2', ['meter-incomer-1']],
    ]);
  });

  it('a site naming no owner at all is open', () => {
    const inv = SiteInventorySchema.parse(raw({}, (d) => d));
    expect(siteAgents(inv).size).toBe(0);
    expect(deviceOwner(inv, inv.devices[0]!)).toBeUndefined();
  });

  it('refuses a device without an owner in a site where other devices name theirs, and a bad agent id', () => {
    const gap = SiteInventorySchema.safeParse(raw({}, (d) => (d.id === 'pdu-r01-a' ? { ...d, agent: 'edge-1' } : d)));
    expect(gap.success).toBe(false);
    expect(gap.error!.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['devices.1.agent', expect.stringMatching(/no owning agent/)]]);
    expect(SiteInventorySchema.safeParse(raw({ agent: 'Edge 1' }, (d) => d)).success).toBe(false);
  });
});
