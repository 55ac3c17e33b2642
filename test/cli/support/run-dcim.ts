import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { vi } from 'vitest';
import { main } from '../../../cli/dcim.js';

/** Running the dcim CLI from tests: as a child process, or the same code in this process. */
export const ROOT = join(import.meta.dirname, '..', '..', '..');
const execFileAsync = promisify(execFile);

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real CLI in a child process, with only PATH and `env` in its environment. */
export async function spawnDcim(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<Ran> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'dcim.ts'), ...args], { cwd: ROOT, timeout: timeoutMs, env: { PATH: process.env.PATH, DCIM_LOG_LEVEL: 'warn', ...env } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

/**
 * `main(args)` in this process with console output captured and `env` set for the call: the same
 * code as the CLI without a second of start-up. One call at a time (it borrows console and env).
 */
export async function inProcessDcim(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    const code = await main(args);
    return { code, stdout: out.map((l) => `${l}\n`).join(''), stderr: err.map((l) => `${l}\n`).join('') };
  } finally {
    log.mockRestore();
    error.mockRestore();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
