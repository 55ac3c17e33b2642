import { describe, expect, it } from 'vitest';
import { buildSiteRegistry } from '../../../collector/state/site-registry.js';
import { SiteInventorySchema } from '../../../contract/inventory.js';
import { loadProfiles } from '../../../profiles/catalogue.js';

const snmp = (port: number) => ({ protocol: 'snmp', host: '127.0.0.1', port, community: 'public' });

describe('site registry', () => {
  it('knows the polls per second of the site and of each owning agent, and each device its profile rules', () => {
    const inv = SiteInventorySchema.parse({
      site: { id: 's', name: 'S', agent: 'edge-a' },
      halls: [{ id: 'h1' }],
      racks: [{ id: 'r1', hall: 'h1', rated_kw: 10 }],
      devices: [
        { id: 'p1', profile: 'apc-rpdu2', rack: 'r1', interval_s: 5, address: snmp(1161) },
        { id: 'p2', profile: 'apc-rpdu2', rack: 'r1', interval_s: 5, address: snmp(1162) },
        { id: 'p3', profile: 'apc-rpdu2', rack: 'r1', interval_s: 10, agent: 'edge-b', address: snmp(1163) },
      ],
    });
    const site = buildSiteRegistry([inv], loadProfiles()).get('s')!;
    expect(site.polls_per_s).toBeCloseTo(0.5, 12);
    expect([...site.agent_polls_per_s]).toEqual([
      ['edge-a', 0.4],
      ['edge-b', 0.1],
    ]);
    expect(site.devices.get('p1')?.rules?.points.get('outlet_power_w')?.has('outlet')).toBe(true);
    // One rule set per profile, shared by its devices.
    expect(site.devices.get('p1')?.rules).toBe(site.devices.get('p3')?.rules);
    expect(buildSiteRegistry([inv]).get('s')!.devices.get('p1')?.rules).toBeUndefined();
  });
});
