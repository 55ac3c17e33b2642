import { describe, expect, it } from 'vitest';
import { DcimError, SiteInventorySchema } from '../../contract/index.js';
import { parseSimHints } from '../../simulators/sim-hints.js';

const base = {
  site: { id: 's', name: 'S' },
  halls: [{ id: 'h1' }],
  racks: [{ id: 'r1', hall: 'h1', rated_kw: 10 }],
  devices: [{ id: 'd1', profile: 'apc-rpdu2', rack: 'r1', address: { protocol: 'snmp', host: '127.0.0.1' } }],
};
const inv = (over: Record<string, unknown>) => SiteInventorySchema.parse({ ...base, ...over });

function problems(over: Record<string, unknown>): string[] {
  try {
    parseSimHints(inv(over), 'seeds/s.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(DcimError);
    expect((e as DcimError).code).toBe('DCIM_E_CONFIG_INVALID');
    return [...(e as DcimError).details];
  }
  return [];
}

describe('sim hints: the seeds\' sim blocks, checked with file and path', () => {
  it('reads valid hints at every level, empty where absent', () => {
    const h = parseSimHints(
      inv({
        sim: { pv_kwp: 300, green_feed_share: 0.3, climate: { mean_c: 15.3 } },
        racks: [{ id: 'r1', hall: 'h1', rated_kw: 40, sim: { workload: 'gpu_training', servers: 4, gpu_model: 'Huawei Ascend 910B' } }],
        devices: [{ ...base.devices[0], sim: { outlets: 24, faults: [{ kind: 'offline', at_s: 60 }] } }],
      }),
      'seeds/s.yaml',
    );
    expect(h.site).toMatchObject({ pv_kwp: 300, green_feed_share: 0.3, climate: { mean_c: 15.3 } });
    expect(h.racks[0]).toMatchObject({ workload: 'gpu_training', servers: 4 });
    expect(h.devices[0]?.outlets).toBe(24);
    expect(parseSimHints(inv({}), 'x.yaml')).toEqual({ site: {}, racks: [{}], devices: [{}] });
  });

  it.each([
    ['an unknown workload', { racks: [{ id: 'r1', hall: 'h1', rated_kw: 10, sim: { workload: 'mining' } }] }, /^seeds\/s\.yaml: racks\[0\]\.sim\.workload: /],
    ['a typo (blocks are strict)', { devices: [{ ...base.devices[0], sim: { laod_kw: 3 } }] }, /^seeds\/s\.yaml: devices\[0\]\.sim: .*laod_kw/],
    ['a share above 1', { sim: { green_feed_share: 1.5 } }, /^seeds\/s\.yaml: sim\.green_feed_share: /],
    ['a climate typo', { sim: { climate: { mean: 15 } } }, /^seeds\/s\.yaml: sim\.climate: .*mean/],
    ['a fault of no known kind', { devices: [{ ...base.devices[0], sim: { faults: [{ kind: 'meltdown' }] } }] }, /^seeds\/s\.yaml: devices\[0\]\.sim\.faults\[0\]/],
    ['a cooling group that is no id', { racks: [{ id: 'r1', hall: 'h1', rated_kw: 10, sim: { cooling_group: 'Pod A' } }] }, /^seeds\/s\.yaml: racks\[0\]\.sim\.cooling_group: /],
  ])('rejects %s', (_label, over, message) => {
    const p = problems(over);
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(message);
  });

  it('lists every problem at once', () => {
    const p = problems({ sim: { pv_kwp: -1 }, racks: [{ id: 'r1', hall: 'h1', rated_kw: 10, sim: { servers: 1.5 } }], devices: [{ ...base.devices[0], sim: { outlets: 200 } }] });
    expect(p.map((x) => x.split(': ')[1])).toEqual(['sim.pv_kwp', 'racks[0].sim.servers', 'devices[0].sim.outlets']);
  });
});
