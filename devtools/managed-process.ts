import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { isListening } from './free-port.js';
import { until } from './until.js';

/** How to run one service process; everything a restart needs to do the same again. */
export interface ProcessSpec {
  /** Short name for messages ("mosquitto", "influxd"). */
  readonly name: string;
  readonly binary: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /**
   * Loopback ports the child will bind. Start refuses when one is already taken, because a
   * readiness probe would otherwise be answered by whoever holds the port.
   */
  readonly ports?: readonly number[];
  /** stdout and stderr both go here, appended across restarts. */
  readonly log_file: string;
  /** Resolves true once the service answers; must not throw for "not yet". */
  readonly probe: (signal: AbortSignal) => Promise<boolean>;
  readonly ready_timeout_ms?: number;
  /** How long SIGTERM gets before SIGKILL. */
  readonly stop_timeout_ms?: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** Written to the log before every start, so a log read across restarts can be split by run. */
export const START_MARKER = '--- dcim-test: starting';

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the binary could not be executed at all (ENOENT, EACCES). */
  readonly spawn_error?: string;
}

/** A service did not come up; `log_tail` is what it printed, `address_in_use` lets callers retry on another port. */
export class ServiceStartError extends Error {
  readonly log_tail: string;
  readonly address_in_use: boolean;

  constructor(name: string, why: string, log_tail: string) {
    super(`${name} did not start: ${why}\n--- last lines of its log ---\n${log_tail.trimEnd()}`);
    this.name = 'ServiceStartError';
    this.log_tail = log_tail;
    // Only this run's lines count: an earlier attempt's "address in use" is history.
    const this_run = log_tail.slice(Math.max(0, log_tail.lastIndexOf(START_MARKER)));
    this.address_in_use = /address already in use|address in use/i.test(this_run);
  }
}

const DEFAULT_READY_TIMEOUT_MS = 30_000;
const DEFAULT_STOP_TIMEOUT_MS = 5_000;
const PROBE_INTERVAL_MS = 50;
const PROBE_TIMEOUT_MS = 1_000;
const TAIL_BYTES = 3_000;

/**
 * Children still alive when the test worker exits get SIGKILL, so a crashed or aborted suite
 * does not leave a broker holding a port. Process-wide on purpose: it is the worker's exit.
 */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
  live.add(child);
  child.once('exit', () => live.delete(child));
}

/**
 * One long-running child: start and wait until its probe answers, halt (SIGTERM, SIGKILL after a
 * timeout, always waiting for the exit), start again with the same arguments, freeze/thaw with
 * SIGSTOP/SIGCONT to imitate a hung peer. Output goes to a file, never a pipe, so a child can
 * neither block on a full pipe nor keep the test process alive.
 */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<ExitStatus> | undefined;
  private frozen = false;

  constructor(private readonly spec: ProcessSpec) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get log_file(): string {
    return this.spec.log_file;
  }

  isRunning(): boolean {
    const c = this.child;
    return c !== undefined && c.pid !== undefined && c.exitCode === null && c.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.isRunning()) throw new Error(`${this.spec.name} is already running (pid ${this.pid})`);
    const marker = `${START_MARKER} ${this.spec.binary} ${this.spec.args.join(' ')} at ${new Date().toISOString()}\n`;
    appendFileSync(this.spec.log_file, marker);
    for (const port of this.spec.ports ?? []) {
      if (await isListening(port)) {
        appendFileSync(this.spec.log_file, `address already in use: something else listens on 127.0.0.1:${port}\n`);
        throw new ServiceStartError(this.spec.name, `port ${port} is taken`, this.logTail());
      }
    }
    const fd = openSync(this.spec.log_file, 'a');
    let child: ChildProcess;
    try {
      child = spawn(this.spec.binary, [...this.spec.args], {
        cwd: this.spec.cwd,
        env: this.spec.env ?? process.env,
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    this.child = child;
    this.frozen = false;
    track(child);
    this.exited = new Promise<ExitStatus>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      // Spawn failures (ENOENT, EACCES) emit 'error' and never 'exit'.
      child.once('error', (err) => {
        if (child.pid === undefined) resolve({ code: null, signal: null, spawn_error: err.message });
      });
    });

    const timeout_ms = this.spec.ready_timeout_ms ?? DEFAULT_READY_TIMEOUT_MS;
    const deadline = Date.now() + timeout_ms;
    for (;;) {
      if (!this.isRunning()) {
        const status = await this.exited;
        const why = status.spawn_error ?? `exited before it was ready (${describeExit(status)})`;
        throw new ServiceStartError(this.spec.name, why, this.logTail());
      }
      // Ready only if the answer came while our child was alive (not from a port squatter).
      if ((await this.probeOnce()) && this.isRunning()) return;
      if (Date.now() >= deadline) {
        await this.halt({ hard: true });
        throw new ServiceStartError(this.spec.name, `not ready within ${timeout_ms} ms`, this.logTail());
      }
      await sleep(PROBE_INTERVAL_MS);
    }
  }

  /**
   * Stop the process and wait until it has exited. `hard` sends SIGKILL at once (a crash: no
   * clean shutdown, no persistence flush); otherwise SIGTERM, and SIGKILL after stop_timeout_ms.
   */
  async halt(opts: { hard?: boolean } = {}): Promise<ExitStatus | undefined> {
    const child = this.child;
    const exited = this.exited;
    if (child === undefined || exited === undefined) return undefined;
    if (!this.isRunning()) return exited;
    child.kill(opts.hard === true ? 'SIGKILL' : 'SIGTERM');
    // A stopped process keeps SIGTERM pending until it is continued.
    if (this.frozen) child.kill('SIGCONT');
    this.frozen = false;
    const timeout_ms = this.spec.stop_timeout_ms ?? DEFAULT_STOP_TIMEOUT_MS;
    const grace = new AbortController();
    const status = await Promise.race([
      exited,
      sleep(timeout_ms, undefined, { signal: grace.signal }).catch(() => undefined),
    ]);
    grace.abort();
    if (status !== undefined) return status;
    child.kill('SIGKILL');
    return exited;
  }

  /**
   * SIGSTOP: the process keeps its sockets open but answers nothing, like a hung server. Resolves
   * once every thread of the process is stopped: kill() returns when the signal is queued, and on a
   * loaded machine a thread may still run a little before it takes the stop.
   */
  async freeze(): Promise<void> {
    if (!this.isRunning() || this.child === undefined) throw new Error(`${this.spec.name} is not running`);
    const pid = this.child.pid!;
    this.child.kill('SIGSTOP');
    this.frozen = true;
    await until(`${this.spec.name} (pid ${pid}) stopped`, () => allThreadsStopped(pid), 30_000, () => `thread states ${threadStates(pid).join('')}`);
  }

  thaw(): void {
    if (!this.isRunning() || this.child === undefined) throw new Error(`${this.spec.name} is not running`);
    this.child.kill('SIGCONT');
    this.frozen = false;
  }

  /** The last few kilobytes of the log, for error messages. */
  logTail(bytes = TAIL_BYTES): string {
    try {
      const size = statSync(this.spec.log_file).size;
      const length = Math.min(bytes, size);
      const buf = Buffer.alloc(length);
      const fd = openSync(this.spec.log_file, 'r');
      try {
        readSync(fd, buf, 0, length, size - length);
      } finally {
        closeSync(fd);
      }
      return buf.toString('utf8');
    } catch (err) {
      return `(log ${this.spec.log_file} unreadable: ${(err as Error).message})`;
    }
  }

  private async probeOnce(): Promise<boolean> {
    try {
      return await this.spec.probe(AbortSignal.timeout(PROBE_TIMEOUT_MS));
    } catch {
      return false;
    }
  }
}

function describeExit(status: ExitStatus): string {
  if (status.signal !== null) return `killed by ${status.signal}`;
  if (status.code !== null) return `exit code ${status.code}`;
  return 'could not be spawned';
}

/** The scheduler state of each thread of `pid` (R, S, D, T, t, Z…), from /proc; empty once it is gone. */
function threadStates(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/task`).map((tid) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // The state follows the command name, which is in parentheses and may itself hold spaces.
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    });
  } catch {
    return [];
  }
}

/** Every thread of `pid` is stopped by a signal (T) or exited (Z); false when /proc cannot tell. */
function allThreadsStopped(pid: number): boolean {
  const states = threadStates(pid);
  return states.length > 0 && states.every((s) => s === 'T' || s === 'Z');
}
