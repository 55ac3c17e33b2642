import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DcimError, ERROR_CODES } from '../../contract/index.js';

const ROOT = join(import.meta.dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return f === 'node_modules' ? [] : sources(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

describe('error catalogue', () => {
  const codes = Object.keys(ERROR_CODES);

  it('codes follow DCIM_E_<AREA>_<WHAT>', () => {
    for (const c of codes) expect(c).toMatch(/^DCIM_E_[A-Z]+_[A-Z0-9_]+$/);
  });

  it('every code used in the code base is in the catalogue', () => {
    const used = new Set<string>();
    for (const dir of ['contract', 'agent', 'collector', 'simulators', 'cli']) {
      let files: string[] = [];
      try {
        files = sources(join(ROOT, dir));
      } catch {
        continue;
      }
      for (const f of files) for (const m of readFileSync(f, 'utf8').matchAll(/DCIM_E_[A-Z0-9_]+/g)) used.add(m[0]);
    }
    const unknown = [...used].filter((c) => !(c in ERROR_CODES) && !c.endsWith('_'));
    expect(unknown).toEqual([]);
  });

  it('every code is documented in the README', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const missing = codes.filter((c) => !readme.includes(c));
    expect(missing).toEqual([]);
  });

  it('DcimError carries code and details', () => {
    const e = new DcimError('DCIM_E_CONFIG_INVALID', 'x.yaml: 2 problem(s)', ['x.yaml: a: bad', 'x.yaml: b: bad']);
    expect(e.code).toBe('DCIM_E_CONFIG_INVALID');
    expect(e.message).toContain('x.yaml: a: bad');
    expect(e.details).toHaveLength(2);
  });
});
