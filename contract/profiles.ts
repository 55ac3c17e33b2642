import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DcimError } from './errors.js';
import { loadYamlFile } from './load.js';
import { DeviceProfileSchema, profilePoints, type DeviceProfile } from './profile.js';

/** Where the built-in profiles live (agent/profiles/), from source or from dist/. */
export function builtinProfileDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // contract/ → ../agent/profiles ; dist/contract/ → ../../agent/profiles
  for (const candidate of [join(here, '..', 'agent', 'profiles'), join(here, '..', '..', 'agent', 'profiles')]) {
    try {
      if (readdirSync(candidate).some((f) => f.endsWith('.yaml'))) return resolve(candidate);
    } catch {
      // try the next candidate
    }
  }
  throw new DcimError('DCIM_E_CONFIG_UNREADABLE', `cannot find the built-in profiles next to ${here}`);
}

/**
 * Load and validate every `*.yaml` profile in the given folders. All problems in all files are
 * collected and reported at once; a later folder may not redefine an id.
 */
export function loadProfiles(dirs: readonly string[] = [builtinProfileDir()]): Map<string, DeviceProfile> {
  const profiles = new Map<string, DeviceProfile>();
  const problems: string[] = [];
  for (const dir of dirs) {
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort();
    } catch (e) {
      problems.push(`${dir}: cannot read profile folder: ${(e as Error).message}`);
      continue;
    }
    for (const f of files) {
      const file = join(dir, f);
      try {
        const p = loadYamlFile(DeviceProfileSchema, file);
        const names = new Set<string>();
        const allNames = profilePoints(p).map((x) => x.name);
        for (const n of allNames) {
          if (names.has(n)) problems.push(`${file}: points: duplicate point name ${n}`);
          names.add(n);
        }
        for (const [i, v] of p.test_vectors.entries()) {
          if (!names.has(v.point)) problems.push(`${file}: test_vectors[${i}].point: no point named ${v.point}`);
        }
        if (profiles.has(p.id)) problems.push(`${file}: id: duplicate profile id ${p.id}`);
        else profiles.set(p.id, p);
      } catch (e) {
        if (e instanceof DcimError && e.details.length > 0) problems.push(...e.details);
        else problems.push((e as Error).message);
      }
    }
  }
  if (problems.length > 0) throw new DcimError('DCIM_E_CONFIG_INVALID', `device profiles: ${problems.length} problem(s)`, problems);
  return profiles;
}
