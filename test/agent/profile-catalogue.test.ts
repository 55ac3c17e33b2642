import { readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinProfileDir, loadProfiles, NAME_PATTERN, unitForName } from '../../contract/index.js';
import { allPoints, checkProfile } from '../../agent/profile-checks.js';
import { decodeVector } from './profile-vectors.js';

/**
 * Invariants over every built-in profile (STYLE.md: the catalogue test). Adding a profile
 * adds it here automatically.
 */
const profiles = loadProfiles();
const all = [...profiles.values()];

describe('profile catalogue', () => {
  it('loads at least the issue-2 profiles', () => {
    expect([...profiles.keys()]).toEqual(expect.arrayContaining(['apc-rpdu2', 'eastron-sdm630']));
  });

  it('names each file after its profile id, ids unique', () => {
    const files = readdirSync(builtinProfileDir()).filter((f) => /\.ya?ml$/.test(f));
    const stems = files.map((f) => basename(f).replace(/\.ya?ml$/, '')).sort();
    expect(stems).toEqual(all.map((p) => p.id).sort());
    expect(new Set(stems).size).toBe(stems.length);
  });

  describe.each(all.map((p) => [p.id, p] as const))('%s', (_id, profile) => {
    it('passes the agent profile checks', () => {
      expect(checkProfile(profile)).toEqual([]);
    });

    it('uses snake_case point names whose unit suffix matches the unit', () => {
      for (const pt of allPoints(profile)) {
        expect(pt.name).toMatch(NAME_PATTERN);
        expect(pt.unit, pt.name).toBe(unitForName(pt.name));
      }
    });

    it('has a test vector for every KPI point', () => {
      const tested = new Set(profile.test_vectors.map((v) => v.point));
      for (const pt of allPoints(profile).filter((x) => x.kpi)) expect(tested.has(pt.name), pt.name).toBe(true);
    });

    it.each(profile.test_vectors.map((v, i) => [i, v.point, v] as const))('vector %i (%s) decodes to its expected value', (_i, _p, v) => {
      const d = decodeVector(profile, v);
      if (v.expected === null) expect(d.ok).toBe(false);
      else expect(d).toEqual({ ok: true, value: v.expected });
    });
  });
});
