import { get } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fail, ok, type Result } from '../shared/result.js';
import { findBinary } from './find-binary.js';
import { freePort } from './free-port.js';
import { ManagedProcess, ServiceStartError, type ExitStatus, type ProcessSpec } from './managed-process.js';

/** The binary is not installed: a reason to skip (or, when services are required, to fail). */
export interface ServiceUnavailable {
  readonly service: string;
  readonly reason: string;
}

/** What every launcher returns. A binary that is present but fails to start throws instead. */
export type Launched<T> = Result<T, ServiceUnavailable>;

export const LOOPBACK = '127.0.0.1';

/**
 * A real service process on loopback with its own temp data dir. `halt()`/`restart()` keep the
 * port and the data (fault tests take a broker or a database away and bring it back);
 * `stop()` is the final cleanup and removes the data dir.
 */
export class LocalService {
  readonly host = LOOPBACK;
  private stopped = false;

  constructor(
    readonly name: string,
    protected readonly proc: ManagedProcess,
    readonly port: number,
    readonly url: string,
    readonly data_dir: string,
  ) {}

  get log_file(): string {
    return this.proc.log_file;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  isRunning(): boolean {
    return this.proc.isRunning();
  }

  /** Stop the process but keep port and data; `hard` is a crash (SIGKILL, no clean shutdown). */
  halt(opts: { hard?: boolean } = {}): Promise<ExitStatus | undefined> {
    return this.proc.halt(opts);
  }

  /** Start again on the same port with the same data; halts first if it is still running. */
  async restart(): Promise<void> {
    if (this.stopped) throw new Error(`${this.name} was stopped for good; start a new one`);
    await this.proc.halt();
    await this.proc.start();
  }

  /**
   * SIGSTOP: connections stay open and nothing answers, like a hung server. A Go server
   * (influxd, victoria-metrics, alertmanager) that was sent a request while frozen may then
   * take ~5 s to shut down gracefully: Go waits that long for a connection that sent no
   * complete request. Use halt({ hard: true }) when the test does not need a clean shutdown.
   */
  async freeze(): Promise<void> {
    await this.proc.freeze();
  }

  thaw(): void {
    this.proc.thaw();
  }

  logTail(bytes?: number): string {
    return this.proc.logTail(bytes);
  }

  /**
   * Kill and remove the data dir. Safe to call twice. SIGKILL, not SIGTERM: the data is about to
   * be deleted, so a clean shutdown buys nothing and can cost seconds (see freeze()).
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.proc.halt({ hard: true });
    await rm(this.data_dir, { recursive: true, force: true });
  }
}

/** How to run one kind of service in a fresh dir on fresh ports. */
export interface LaunchPlan {
  readonly service: string;
  /** Alternative names of the one binary that runs the service. */
  readonly binary: readonly string[];
  /** Other binaries the setup needs (e.g. mosquitto_passwd); all must be present. */
  readonly helpers?: readonly (readonly string[])[];
  readonly port_count: number;
  /** Write config files for these ports into `dir`; return the process arguments and readiness probe. */
  prepare(ctx: {
    ports: readonly number[];
    dir: string;
    binary: string;
    helpers: readonly string[];
  }): Promise<Pick<ProcessSpec, 'args' | 'probe'> & Partial<Pick<ProcessSpec, 'env' | 'ready_timeout_ms'>>>;
}

export interface Launch {
  readonly proc: ManagedProcess;
  readonly ports: readonly number[];
  readonly dir: string;
}

/** A port picked by freePort() can be taken before the child binds it; then we try fresh ports. */
const PORT_ATTEMPTS = 3;

/**
 * Find the binaries, make a temp dir, pick ports, start and wait until ready. Absent binaries
 * are a value (`ok: false`); a start failure throws a ServiceStartError with the log tail.
 */
export async function launch(plan: LaunchPlan): Promise<Result<Launch, ServiceUnavailable>> {
  const binary = findBinary(plan.binary);
  if (!binary.ok) return fail({ service: plan.service, reason: binary.reason });
  const helpers: string[] = [];
  for (const names of plan.helpers ?? []) {
    const found = findBinary(names);
    if (!found.ok) return fail({ service: plan.service, reason: found.reason });
    helpers.push(found.value);
  }

  const dir = await mkdtemp(path.join(os.tmpdir(), `dcim-${plan.service}-`));
  try {
    for (let attempt = 1; ; attempt++) {
      const ports = await distinctFreePorts(plan.port_count);
      const prepared = await plan.prepare({ ports, dir, binary: binary.value, helpers });
      const proc = new ManagedProcess({
        name: plan.service,
        binary: binary.value,
        cwd: dir,
        log_file: path.join(dir, `${plan.service}.log`),
        ports,
        ...prepared,
      });
      try {
        await proc.start();
        return ok({ proc, ports, dir });
      } catch (err) {
        if (err instanceof ServiceStartError && err.address_in_use && attempt < PORT_ATTEMPTS) continue;
        throw err;
      }
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/**
 * GET a loopback URL on a connection of its own and say whether it answered with `status`; never
 * throws. Not fetch: its connection pool is per process, and a kept-alive connection to whatever
 * held this port number before (an earlier test's server) would answer for a service not yet up.
 */
export function answers(url: string, status: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get(url, { agent: false, signal }, (res) => {
      res.resume();
      resolve(res.statusCode === status);
    });
    req.on('error', () => resolve(false));
  });
}

/** The response body, or an error naming the request and what the service said. */
export async function expectOk(res: Response, what: string): Promise<string> {
  const body = await res.text();
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${body.slice(0, 500)}`);
  return body;
}
