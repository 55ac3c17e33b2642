import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SiteInventorySchema, type DeviceProfile, type SiteInventory } from '../../../contract/index.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { DEFAULT_PDU_OUTLETS, compileSitePlan } from '../../../simulators/model/site-plan.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PROFILES = loadProfiles();

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : filesUnder(p);
    return /\.(ts|py)$/.test(e.name) ? [p] : [];
  });
}

/** One rack with one PDU of the given profile, and the seed's outlet hint when given. */
function onePdu(profile: string, outlets?: number): SiteInventory {
  return SiteInventorySchema.parse({
    site: { id: 'plan', name: 'Plan' },
    halls: [{ id: 'h1' }],
    racks: [{ id: 'r1', hall: 'h1', rated_kw: 12, sim: { workload: 'general', load_kw: 6 } }],
    devices: [
      {
        id: 'pdu-r1',
        profile,
        rack: 'r1',
        address: { protocol: 'snmp', host: '127.0.0.1', port: 16161, community: 'pdu-r1' },
        meter: { role: 'it', level: 'pdu_out' },
        ...(outlets !== undefined ? { sim: { outlets } } : {}),
      },
    ],
  });
}

function outletsOf(inv: SiteInventory, profiles: ReadonlyMap<string, DeviceProfile>): number {
  const r = compileSitePlan(inv, 1, { profiles });
  if (!r.ok) throw new Error(r.problems.join('\n'));
  const k = r.plan.devices.ids.indexOf('pdu-r1');
  return r.plan.devices.outlet_shares[k]!.length;
}

describe('site plan: device facts come from the profiles', () => {
  it('no simulator source names a profile id', () => {
    const ids = [...PROFILES.keys()];
    expect(ids.length).toBeGreaterThan(10);
    const found: string[] = [];
    for (const file of filesUnder(join(ROOT, 'simulators'))) {
      const text = readFileSync(file, 'utf8');
      for (const id of ids) {
        // A quoted id (any quote) is a per-profile branch or table; prose in comments may name vendors.
        if (new RegExp(`['"\`]${id.replace(/[-]/g, '\\-')}['"\`]`).test(text)) found.push(`${relative(ROOT, file)}: '${id}'`);
      }
    }
    expect(found).toEqual([]);
  });

  it("a PDU serves the outlets its profile's simulation block gives, else the default; the seed's hint wins", () => {
    const withBlock = [...PROFILES.values()].find((p) => p.class === 'pdu' && p.simulation?.outlets !== undefined);
    const without = [...PROFILES.values()].find((p) => p.class === 'pdu' && p.simulation === undefined);
    expect(withBlock).toBeDefined();
    expect(without).toBeDefined();
    expect(outletsOf(onePdu(withBlock!.id), PROFILES)).toBe(withBlock!.simulation!.outlets);
    expect(outletsOf(onePdu(without!.id), PROFILES)).toBe(DEFAULT_PDU_OUTLETS);
    expect(outletsOf(onePdu(withBlock!.id, 5), PROFILES)).toBe(5);

    // Another table size in the profile changes what the simulator serves, with no simulator edit.
    const edited = new Map(PROFILES);
    edited.set(without!.id, { ...without!, simulation: { outlets: 36 } });
    expect(outletsOf(onePdu(without!.id), edited)).toBe(36);
  });

  it("a device's kind is its profile's class", () => {
    const ups = [...PROFILES.values()].find((p) => p.class === 'ups')!;
    const inv = onePdu(ups.id);
    const asPdu = new Map(PROFILES);
    asPdu.set(ups.id, { ...ups, class: 'pdu' });
    const plan = (profiles: ReadonlyMap<string, DeviceProfile>) => {
      const r = compileSitePlan(inv, 1, { profiles });
      if (!r.ok) throw new Error(r.problems.join('\n'));
      return r.plan.devices.kind[r.plan.devices.ids.indexOf('pdu-r1')];
    };
    expect(plan(PROFILES)).toBe('ups');
    expect(plan(asPdu)).toBe('pdu');
  });
});
