import { execFile, spawn } from 'node:child_process';
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

/** A long-running CLI in a child process: its output so far, a wait for a line, a signal to stop it. */
export interface RunningDcim {
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the exit once the process has ended (code, or the signal that ended it). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startDcim(args: string[], env: NodeJS.ProcessEnv = {}): RunningDcim {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'dcim.ts'), ...args], { cwd: ROOT, env: { PATH: process.env.PATH, DCIM_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
  child.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
