import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProfiles } from '../../profiles/catalogue.js';
import { CORPUS_DIR, corpusFolders, readExpected } from '../agent/support/device-corpus.js';

/**
 * The device corpus covers the catalogue: every device profile is read against at least one
 * fixture written from its vendor's document, every fixture names a profile that exists, and the
 * corpus README lists each fixture with its document. The two BMS templates are the only profiles
 * without one: their registers are site-defined, so no document describes them.
 */
const TEMPLATES = ['chiller-bms', 'crah-bms'];
const profiles = loadProfiles();
const fixtures = corpusFolders('');
const named = new Map(fixtures.map((f) => {
  const x = readExpected<{ profile?: string; poll_profile?: string }>(f);
  return [f, x.poll_profile ?? x.profile] as const;
}));

describe('device corpus coverage', () => {
  it('holds at least 40 device profiles besides the BMS templates', () => {
    expect([...profiles.keys()].filter((id) => !TEMPLATES.includes(id)).length).toBeGreaterThanOrEqual(40);
  });

  it('reads every device profile against at least one fixture', () => {
    const covered = new Set(named.values());
    const without = [...profiles.keys()].filter((id) => !covered.has(id) && !TEMPLATES.includes(id));
    expect(without).toEqual([]);
  });

  it('names a known profile in every fixture', () => {
    const unknown = [...named].filter(([, id]) => id === undefined || !profiles.has(id)).map(([f, id]) => `${f}: ${String(id)}`);
    expect(unknown).toEqual([]);
  });

  it('lists every fixture in the corpus README with its document', () => {
    const readme = readFileSync(join(CORPUS_DIR, 'README.md'), 'utf8');
    const listed = new Set([...readme.matchAll(/^\| `([a-z0-9-]+)\/` \| [^|]+ \| ([^|]+) \|$/gm)].filter((m) => m[2]!.trim().length > 0).map((m) => m[1]));
    expect(fixtures.filter((f) => !listed.has(f))).toEqual([]);
    expect([...listed].filter((f) => !fixtures.includes(f!))).toEqual([]);
  });
});
