import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DcimError, SiteInventorySchema } from '../../../contract/index.js';
import { loadYamlFile } from '../../../shared/config/load.js';
import { repoPath } from '../../support/repo-path.js';

const dir = mkdtempSync(join(tmpdir(), 'dcim-load-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function errorOf(fn: () => unknown): DcimError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DcimError) return e;
    throw e;
  }
  throw new Error('expected a DcimError');
}

describe('config loader', () => {
  it('loads the demo seed', () => {
    const inv = loadYamlFile(SiteInventorySchema, repoPath('seeds', 'demo.yaml'));
    expect(inv.site.id).toBe('demo');
    expect(inv.targets).toEqual({ pue: 1.2, rack_occupancy: 0.7, green_share: 0.8 });
  });

  it('lists every problem with file and path at once', () => {
    const p = file(
      'bad.yaml',
      `site: { id: Bad Site, name: x }
halls: [{ id: h1 }]
racks:
  - { id: r1, hall: h9, rated_kw: -3 }
devices:
  - id: d1
    profile: apc-rpdu2
    rack: r7
    address: { protocol: snmp, host: 127.0.0.1, port: "161" }
  - id: d1
    profile: x
    address: { protocol: modbus, host: 127.0.0.1, unit_id: 300 }
    meter: { role: it }
`,
    );
    const e = errorOf(() => loadYamlFile(SiteInventorySchema, p));
    expect(e.code).toBe('DCIM_E_CONFIG_INVALID');
    const text = e.details.join('\n');
    expect(text).toContain(`${p}: site.id:`);
    expect(text).toContain(`${p}: racks[0].rated_kw:`);
    expect(text).toContain(`${p}: devices[0].address.port:`);
    expect(text).toContain(`${p}: devices[1].address.unit_id:`);
    expect(text).toContain(`${p}: devices[1].meter.level:`);
    expect(e.details.length).toBeGreaterThanOrEqual(5);
  });

  it('reports cross-reference errors once the shapes are valid', () => {
    const p = file(
      'refs.yaml',
      `site: { id: s, name: x }
halls: [{ id: h1 }]
racks: [{ id: r1, hall: h9, rated_kw: 5 }]
devices:
  - { id: d1, profile: p, rack: r7, address: { protocol: modbus, host: 127.0.0.1 } }
  - { id: d1, profile: p, address: { protocol: modbus, host: 127.0.0.1 } }
`,
    );
    const text = errorOf(() => loadYamlFile(SiteInventorySchema, p)).details.join('\n');
    expect(text).toContain('racks[0].hall: unknown hall h9');
    expect(text).toContain('devices[0].rack: unknown rack r7');
    expect(text).toContain('devices[1].id: duplicate id d1');
    expect(text).toContain('devices[1].address: same address as devices[0]');
  });

  it.each([
    ['not yaml', 'site: [unclosed\n', 'DCIM_E_CONFIG_UNREADABLE'],
    ['duplicate keys', 'a: 1\na: 2\n', 'DCIM_E_CONFIG_UNREADABLE'],
    ['empty', '', 'DCIM_E_CONFIG_INVALID'],
    ['a list', '- 1\n- 2\n', 'DCIM_E_CONFIG_INVALID'],
  ])('rejects %s', (_name, text, code) => {
    const p = file(`x-${code}-${text.length}.yaml`, text);
    expect(errorOf(() => loadYamlFile(SiteInventorySchema, p)).code).toBe(code);
  });

  it('reports a missing file', () => {
    expect(errorOf(() => loadYamlFile(SiteInventorySchema, join(dir, 'nope.yaml'))).code).toBe('DCIM_E_CONFIG_UNREADABLE');
  });
});
