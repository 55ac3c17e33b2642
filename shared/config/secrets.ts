import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DcimError } from '../../contract/errors.js';
import { createLogger, type Logger } from '../log.js';
import type { SecretRef } from '../../contract/secret-ref.js';


/**
 * Set to 1 (or true, yes) to accept secret files that group or others may read or write, with a
 * warning per file. An environment variable rather than a config key, so it reaches every place
 * that reads a secret (the agent, the collector, the CLI) and shows in the unit file that sets it.
 */
export const ALLOW_INSECURE_SECRET_FILES_ENV = 'DCIM_ALLOW_INSECURE_SECRET_FILES';

export interface SecretReadOptions {
  /** Where the warning for an accepted insecure file goes; default the structured stderr logger. */
  logger?: Logger;
}

/** Files already warned about in this process: one line each, not one per device using it. */
const warned = new Set<string>();

export function resolveSecret(ref: SecretRef, what: string, env: NodeJS.ProcessEnv = process.env, opts: SecretReadOptions = {}): string {
  if (typeof ref === 'string') return ref;
  if ('env' in ref) {
    const v = env[ref.env];
    if (v === undefined) throw new DcimError('DCIM_E_SECRET_MISSING', `${what}: environment variable ${ref.env} is not set`);
    return v;
  }
  return readSecretFile(ref.file, what, env, opts).toString('utf8').replace(/\r?\n$/, '');
}

/**
 * Reads a file that holds a secret (a password, a token, a TLS private key). Like ssh and libpq,
 * a regular file that group or others may read or write is refused: anyone else on the host could
 * have read the secret, or replaced it. The mode is taken from the open descriptor, so the file
 * checked is the file read.
 */
export function readSecretFile(file: string, what: string, env: NodeJS.ProcessEnv = process.env, opts: SecretReadOptions = {}): Buffer {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new DcimError('DCIM_E_SECRET_MISSING', `${what}: cannot read secret file ${file}: ${(e as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    const problem = st.isFile() ? modeProblem(st.mode) : undefined;
    if (problem !== undefined) {
      const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
      if (!allowInsecure(env)) {
        throw new DcimError(
          'DCIM_E_SECRET_FILE_INSECURE',
          `${what}: secret file ${file} has mode ${mode} (${problem}); chmod 600 ${file}, or set ${ALLOW_INSECURE_SECRET_FILES_ENV}=1 to accept it with a warning`,
        );
      }
      const key = resolve(file);
      if (!warned.has(key)) {
        warned.add(key);
        (opts.logger ?? createLogger({ base: { component: 'secrets' } })).warn('secret file readable or writable by other users, accepted by ' + ALLOW_INSECURE_SECRET_FILES_ENV, {
          code: 'DCIM_E_SECRET_FILE_INSECURE',
          file,
          mode,
          problem,
          setting: what,
        });
      }
    }
    return readFileSync(fd);
  } catch (e) {
    if (e instanceof DcimError) throw e;
    throw new DcimError('DCIM_E_SECRET_MISSING', `${what}: cannot read secret file ${file}: ${(e as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

/** What group and others may do with the file, or undefined when they may do nothing that matters. */
export function modeProblem(mode: number): string | undefined {
  // Windows reports 0666 for every writable file: its ACLs are not in the mode bits.
  if (process.platform === 'win32') return undefined;
  const who: string[] = [];
  const bits = (shift: number, name: string) => {
    const rw = [(mode >> shift) & 0o4 ? 'read' : '', (mode >> shift) & 0o2 ? 'write' : ''].filter(Boolean);
    if (rw.length > 0) who.push(`${name} may ${rw.join(' and ')} it`);
  };
  bits(3, 'group');
  bits(0, 'others');
  return who.length > 0 ? who.join(', ') : undefined;
}

function allowInsecure(env: NodeJS.ProcessEnv): boolean {
  return /^(1|true|yes)$/i.test(env[ALLOW_INSECURE_SECRET_FILES_ENV] ?? '');
}
