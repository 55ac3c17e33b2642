import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DcimError, profilePoints, type SnmpProfile } from '../../contract/index.js';
import { builtinProfileDir, loadProfiles } from '../../profiles/catalogue.js';

/** The profile loader's templates: profiles that extend shared parts, and every way that goes wrong. */
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'dcim-profiles-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

function problems(f: () => unknown): string[] {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DcimError);
    expect((e as DcimError).code).toBe('DCIM_E_CONFIG_INVALID');
    return [...(e as DcimError).details];
  }
  throw new Error('expected the profiles to be refused');
}

const base = `template: base
class: ups
protocol: snmp
quirks: { max_oids_per_request: 10, max_repetitions: 5 }
points:
  - { name: a_v, oid: 1.3.6.1.4.1.9.1.0, type: integer, unit: V }
tables:
  - entry: 1.3.6.1.4.1.9.2.1
    index_tag: line
    columns:
      - { name: b_a, column: 2, type: integer, scale: 0.1, unit: A }
test_vectors:
  - { point: a_v, raw: 230, expected: 230 }
`;
const profile = (extra = '') => `id: p1
extends: base
vendor: V
model: M
match: { sys_object_id: [1.3.6.1.4.1.9] }
${extra}`;

describe('profile templates', () => {
  it("a profile gets the template's points, tables, vectors and quirks, then adds its own", () => {
    const dir = folder({
      'templates/base.yaml': base,
      'p1.yaml': profile(`quirks: { max_repetitions: 7 }
points:
  - { name: c_w, oid: 1.3.6.1.4.1.9.3.0, type: integer, unit: W }
test_vectors:
  - { point: c_w, raw: 5, expected: 5 }
`),
    });
    const p = loadProfiles([dir]).get('p1') as SnmpProfile;
    expect(p).toMatchObject({ id: 'p1', class: 'ups', protocol: 'snmp', vendor: 'V', quirks: { max_oids_per_request: 10, max_repetitions: 7 } });
    expect(p.points.map((x) => x.name)).toEqual(['a_v', 'c_w']);
    expect(p.tables.map((t) => t.entry)).toEqual(['1.3.6.1.4.1.9.2.1']);
    expect(p.test_vectors.map((v) => v.point)).toEqual(['a_v', 'c_w']);
  });

  it('templates extend templates, and a later folder extends a template of an earlier one', () => {
    const lib = folder({ 'templates/base.yaml': base, 'templates/mid.yaml': 'template: mid\nextends: base\npoints:\n  - { name: m_hz, oid: 1.3.6.1.4.1.9.4.0, type: integer, scale: 0.1, unit: Hz }\n' });
    const own = folder({ 'p1.yaml': profile().replace('extends: base', 'extends: mid') });
    const p = loadProfiles([lib, own]).get('p1') as SnmpProfile;
    expect(p.points.map((x) => x.name)).toEqual(['a_v', 'm_hz']);
  });

  it('an unknown template is named, with the ones there are', () => {
    const dir = folder({ 'templates/base.yaml': base, 'p1.yaml': profile().replace('extends: base', 'extends: ups-mbi') });
    expect(problems(() => loadProfiles([dir]))).toEqual([`${join(dir, 'p1.yaml')}: extends: unknown template ups-mbi (known: base)`]);
  });

  it('a cycle of templates is named, not followed for ever', () => {
    const dir = folder({ 'templates/x.yaml': 'template: x\nextends: y\n', 'templates/y.yaml': 'template: y\nextends: x\n', 'p1.yaml': profile().replace('extends: base', 'extends: x') });
    expect(problems(() => loadProfiles([dir]))).toEqual([`${join(dir, 'templates', 'y.yaml')}: extends: template cycle x → y → x`]);
  });

  it('a profile may not redefine a template point or table: each conflict is reported', () => {
    const dir = folder({
      'templates/base.yaml': base,
      'p1.yaml': profile(`points:
  - { name: a_v, oid: 1.3.6.1.4.1.9.9.0, type: integer, unit: V }
tables:
  - entry: 1.3.6.1.4.1.9.2.1
    index_tag: line
    columns:
      - { name: z_a, column: 3, type: integer, unit: A }
  - entry: 1.3.6.1.4.1.9.7.1
    index_tag: line
    columns:
      - { name: b_a, column: 3, type: integer, unit: A }
`),
    });
    const file = join(dir, 'p1.yaml');
    expect(problems(() => loadProfiles([dir]))).toEqual([
      `${file}: points[0]: point a_v is already defined by template base: a profile adds points, it does not redefine them`,
      `${file}: tables[0].entry: table 1.3.6.1.4.1.9.2.1 is already read by template base: add columns there, or leave the template`,
      `${file}: tables[1]: point b_a is already defined by template base: a profile adds points, it does not redefine them`,
    ]);
  });

  it('a profile of another protocol than its template is refused', () => {
    const dir = folder({ 'templates/base.yaml': base, 'p1.yaml': `${profile()}protocol: modbus\n` });
    expect(problems(() => loadProfiles([dir]))).toEqual([`${join(dir, 'p1.yaml')}: protocol: modbus contradicts template base (snmp)`]);
  });

  it('template files are checked: id, name, duplicates', () => {
    const a = folder({ 'templates/base.yaml': base, 'templates/other.yaml': 'template: wrong\nid: x\n', 'templates/bad.yaml': 'template: Not An Id\n' });
    const b = folder({ 'templates/base.yaml': base });
    const found = problems(() => loadProfiles([a, b]));
    expect(found).toEqual([
      `${join(a, 'templates', 'bad.yaml')}: template: expected the template's id (lower-case letters, digits, - and _)`,
      `${join(a, 'templates', 'other.yaml')}: id: a template has no profile id (it names itself with template:)`,
      `${join(a, 'templates', 'other.yaml')}: template: wrong is not the file name (other)`,
      `${join(b, 'templates', 'base.yaml')}: template: duplicate template id base`,
    ]);
  });

  it('a merged profile that breaks the schema names the file and its template', () => {
    const dir = folder({ 'templates/base.yaml': base, 'p1.yaml': profile('points:\n  - { name: c_w, oid: not-an-oid, type: integer, unit: W }\n') });
    const found = problems(() => loadProfiles([dir]));
    expect(found).toEqual([expect.stringMatching(new RegExp(`^${join(dir, 'p1.yaml').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(with template base\\): points\\[1\\]\\.oid: expected a numeric OID`))]);
  });

  it('the built-in UPS profiles all carry the whole UPS-MIB template', () => {
    const all = loadProfiles([builtinProfileDir()]);
    const std = (all.get('rfc1628-ups') as SnmpProfile).points.map((p) => p.name);
    expect(std).toEqual(expect.arrayContaining(['battery_voltage_v', 'battery_current_a', 'bypass_frequency_hz']));
    for (const id of ['eaton-ups', 'huawei-ups', 'vertiv-liebert-ups', 'delta-ups']) {
      const p = all.get(id) as SnmpProfile;
      expect(p.points.map((x) => x.name), id).toEqual(expect.arrayContaining(std));
      // Input, output, bypass and alarm tables; a vendor profile may add its own after them.
      expect(p.tables.map((t) => t.entry).slice(0, 4), id).toEqual(['1.3.6.1.2.1.33.1.3.3.1', '1.3.6.1.2.1.33.1.4.4.1', '1.3.6.1.2.1.33.1.5.3.1', '1.3.6.1.2.1.33.1.6.2.1']);
    }
    // UPS-MIB has no energy counter: the collector integrates the one active-power KPI point, the
    // output lines summed (never input or bypass power as well, which would count the load twice).
    for (const id of ['rfc1628-ups', 'eaton-ups', 'huawei-ups', 'vertiv-liebert-ups', 'delta-ups']) {
      const p = all.get(id) as SnmpProfile;
      expect(profilePoints(p).filter((x) => x.kpi !== undefined).map((x) => [x.name, x.kpi, x.index_tag]), id).toEqual([['output_power_w', 'active_power_w', 'line']]);
    }
  });
});

describe('loading only the profiles a site names', () => {
  const valid = (id: string) => profile().replace('id: p1', `id: ${id}`);

  it('builds the named profiles and leaves the rest unvalidated', () => {
    const dir = folder({ 'templates/base.yaml': base, 'p1.yaml': valid('p1'), 'p2.yaml': valid('p2'), 'broken.yaml': 'id: broken\nclass: 42\n' });
    expect(problems(() => loadProfiles([dir]))).toEqual([expect.stringContaining('broken.yaml')]);
    const some = loadProfiles([dir], { only: new Set(['p2']) });
    expect([...some.keys()]).toEqual(['p2']);
    expect(some.get('p2')).toEqual(loadProfiles([dir], { only: new Set(['p1', 'p2']) }).get('p2'));
  });

  it('still refuses a named profile that is broken, and an id defined twice even when not named', () => {
    const dir = folder({ 'templates/base.yaml': base, 'p1.yaml': valid('p1'), 'broken.yaml': 'id: broken\nclass: 42\n', 'a.yaml': valid('twice'), 'b.yaml': valid('twice') });
    expect(problems(() => loadProfiles([dir], { only: new Set(['broken']) }))).toEqual([expect.stringContaining('duplicate profile id twice'), expect.stringMatching(/broken\.yaml: protocol/)]);
    expect(problems(() => loadProfiles([dir], { only: new Set(['p1']) }))).toEqual([expect.stringMatching(/b\.yaml: id: duplicate profile id twice \(also in .*a\.yaml\)/)]);
  });

  it('the built-in catalogue narrowed to two ids holds exactly those two, as the full catalogue builds them', () => {
    const all = loadProfiles();
    const two = loadProfiles(undefined, { only: new Set(['apc-rpdu2', 'eastron-sdm630']) });
    expect([...two.keys()].sort()).toEqual(['apc-rpdu2', 'eastron-sdm630']);
    expect(two.get('apc-rpdu2')).toEqual(all.get('apc-rpdu2'));
  });
});
