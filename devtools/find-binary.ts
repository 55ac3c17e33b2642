import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { fail, ok, type Result } from '../shared/result.js';

/**
 * Debian installs daemons (mosquitto, snmpd) in /usr/sbin, which is on root's PATH but often
 * not on a developer's; looking there too keeps "installed but skipped" from happening.
 */
const SBIN_FALLBACK = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/**
 * The first executable named one of `candidates` on `search_path` (then the sbin folders).
 * Several candidates because distributions rename binaries (Debian's `prometheus-alertmanager`
 * is upstream's `alertmanager`).
 */
export function findBinary(
  candidates: readonly string[],
  search_path: string = process.env.PATH ?? '',
): Result<string, string> {
  const dirs = [...search_path.split(path.delimiter).filter((d) => d !== ''), ...SBIN_FALLBACK];
  for (const name of candidates) {
    for (const dir of dirs) {
      const file = path.join(dir, name);
      if (isExecutableFile(file)) return ok(file);
    }
  }
  const names = candidates.join(' or ');
  return fail(`${names} not on PATH (looked in ${[...new Set(dirs)].join(':')})`);
}

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
