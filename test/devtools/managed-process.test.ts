import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBinary } from '../support/find-binary.js';
import { freePort, isListening } from '../support/free-port.js';
import { launch } from '../support/local-service.js';
import { ManagedProcess, ServiceStartError, START_MARKER, type ProcessSpec } from '../support/managed-process.js';
import { until } from '../support/until.js';

// The children here are small node scripts, so these tests run everywhere, services or not.
const NODE = process.execPath;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dcim-managed-process-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A `node -e script` child managed like a service. */
function nodeChild(name: string, script: string, probe: ProcessSpec['probe'], extra: Partial<ProcessSpec> = {}): ManagedProcess {
  return new ManagedProcess({
    name,
    binary: NODE,
    args: ['-e', script],
    cwd: dir,
    log_file: path.join(dir, `${name}.log`),
    probe,
    ...extra,
  });
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// The readiness probe connects and resets at once; on a loaded machine the child writes its
// greeting after that reset, and an unhandled socket error would end the child (seen in CI).
const listenOn = (port: number, extra = ''): string =>
  `require('node:net').createServer(s => { s.on('error', () => {}); s.end('hi'); }).listen(${port}, '127.0.0.1'); ${extra}`;

describe('ManagedProcess', () => {
  it('starts, reports running, and a SIGTERM halt ends it', async () => {
    const port = await freePort();
    const p = nodeChild('plain', listenOn(port), () => isListening(port));
    await p.start();
    expect(p.isRunning()).toBe(true);
    expect(await isListening(port)).toBe(true);
    const status = await p.halt();
    expect(status).toEqual({ code: null, signal: 'SIGTERM' });
    expect(p.isRunning()).toBe(false);
    expect(alive(p.pid)).toBe(false);
    expect(await isListening(port)).toBe(false);
  });

  it('escalates to SIGKILL when SIGTERM is ignored', async () => {
    const port = await freePort();
    // The handler is in place before the port opens, so the probe never sees a child that SIGTERM could still end.
    const p = nodeChild('stubborn', "process.on('SIGTERM', () => {}); " + listenOn(port), () => isListening(port), {
      stop_timeout_ms: 300,
    });
    await p.start();
    const t0 = Date.now();
    const status = await p.halt();
    expect(status?.signal).toBe('SIGKILL');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(alive(p.pid)).toBe(false);
  }, 60_000);

  it('hard halt is an immediate SIGKILL', async () => {
    const port = await freePort();
    const p = nodeChild('crash', listenOn(port, "process.on('SIGTERM', () => {});"), () => isListening(port));
    await p.start();
    expect((await p.halt({ hard: true }))?.signal).toBe('SIGKILL');
  });

  it('restarts on the same port after a halt, and the log keeps both runs', async () => {
    const port = await freePort();
    const p = nodeChild('again', listenOn(port, "console.error('run at', process.pid);"), () => isListening(port));
    await p.start();
    const firstPid = p.pid;
    await p.halt();
    await p.start();
    expect(p.pid).not.toBe(firstPid);
    expect(await isListening(port)).toBe(true);
    const tail = p.logTail();
    expect(tail.split(START_MARKER)).toHaveLength(3);
    expect(tail).toContain(`run at ${firstPid}`);
    expect(tail).toContain(`run at ${p.pid}`);
    await p.halt();
  });

  it('refuses to start on a port someone else holds, instead of trusting their answer to the probe', async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as net.AddressInfo).port;
    try {
      const p = nodeChild('late', listenOn(port), () => isListening(port), { ports: [port] });
      const err = await p.start().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ServiceStartError);
      expect((err as ServiceStartError).address_in_use).toBe(true);
      expect(p.pid).toBeUndefined();
    } finally {
      squatter.close();
    }
  });

  it('is not ready when the probe answers but the child has died meanwhile', async () => {
    // A slow probe that says yes after the child is gone: the answer came from someone else.
    const p = nodeChild('dies', "console.error('fatal: bind failed'); process.exit(1);", async () => {
      await sleep(400);
      return true;
    });
    await expect(p.start()).rejects.toThrow(/dies did not start: exited before it was ready \(exit code 1\)[\s\S]*fatal: bind failed/);
  });

  it('refuses to start twice', async () => {
    const port = await freePort();
    const p = nodeChild('twice', listenOn(port), () => isListening(port));
    await p.start();
    await expect(p.start()).rejects.toThrow(/already running/);
    await p.halt();
  });

  it('freeze stops answering; thaw resumes; halt works on a frozen process', async () => {
    const port = await freePort();
    const p = nodeChild('hang', listenOn(port), () => isListening(port));
    await p.start();
    // A running process answers at once, but a loaded machine may take seconds to schedule it; a
    // frozen one never answers, which a short wait shows as well as a long one.
    const greet = (waitMs = 20_000): Promise<string> =>
      new Promise((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port });
        let got = '';
        s.setTimeout(waitMs, () => {
          s.destroy();
          resolve(`timeout:${got}`);
        });
        s.on('data', (d) => (got += d.toString()));
        s.on('end', () => resolve(got));
        s.on('error', (e) => resolve(`error:${e.message}`));
      });
    // A running child greets within the bound; asked until it does, as a loaded machine may be slow.
    let last = '';
    const greets = async (): Promise<boolean> => {
      last = await greet();
      return last === 'hi';
    };
    await until('the running child greets', greets, 60_000, () => `last answer ${JSON.stringify(last)}, running ${p.isRunning()}`);
    await p.freeze();
    // The kernel still completes the TCP handshake; the frozen process never writes.
    expect(await greet(300)).toBe('timeout:');
    p.thaw();
    await until('the thawed child greets', greets, 60_000, () => `last answer ${JSON.stringify(last)}, running ${p.isRunning()}`);
    await p.freeze();
    // Thawed and stopped by SIGTERM, not left frozen until the SIGKILL after the grace period.
    expect((await p.halt())?.signal).toBe('SIGTERM');
  });

  it('a child that exits during startup fails with its exit code and log tail', async () => {
    const p = nodeChild('broken', "console.error('config line 3: unknown key \"lisener\"'); process.exit(3);", async () => false);
    const err = await p.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ServiceStartError);
    expect((err as Error).message).toMatch(/broken did not start: exited before it was ready \(exit code 3\)/);
    expect((err as Error).message).toContain('config line 3: unknown key "lisener"');
    expect((err as ServiceStartError).address_in_use).toBe(false);
  });

  it('a child that never becomes ready is killed after the ready timeout', async () => {
    const p = nodeChild('slow', 'setInterval(() => {}, 1000);', async () => false, { ready_timeout_ms: 300 });
    await expect(p.start()).rejects.toThrow(/slow did not start: not ready within 300 ms/);
    expect(p.isRunning()).toBe(false);
    expect(alive(p.pid)).toBe(false);
  });

  it('a binary that cannot be executed fails with the OS error', async () => {
    const notExecutable = path.join(dir, 'not-executable');
    await writeFile(notExecutable, '#!/bin/sh\n');
    await chmod(notExecutable, 0o644);
    const p = new ManagedProcess({
      name: 'noexec',
      binary: notExecutable,
      args: [],
      cwd: dir,
      log_file: path.join(dir, 'noexec.log'),
      probe: async () => false,
    });
    await expect(p.start()).rejects.toThrow(/noexec did not start: spawn .*EACCES/);
  });

  it('halt of a process never started is a no-op', async () => {
    const p = nodeChild('never', '', async () => true);
    expect(await p.halt()).toBeUndefined();
    await expect(p.freeze()).rejects.toThrow(/not running/);
  });
});

describe('ServiceStartError.address_in_use', () => {
  const cases: { log: string; expected: boolean }[] = [
    { log: `${START_MARKER} x\nError: Address already in use\n`, expected: true }, // mosquitto
    { log: `${START_MARKER} x\nlisten tcp 127.0.0.1:8086: bind: address already in use\n`, expected: true }, // Go services
    { log: `${START_MARKER} x\nError: listen EADDRINUSE: address already in use 127.0.0.1:1\n`, expected: true }, // node
    { log: `${START_MARKER} x\nError: Unable to open config file\n`, expected: false },
    // An earlier attempt's bind error does not explain this run's failure.
    { log: `${START_MARKER} a\nbind: address already in use\n${START_MARKER} b\npermission denied\n`, expected: false },
  ];
  it.each(cases)('$log → $expected', ({ log, expected }) => {
    expect(new ServiceStartError('svc', 'exited', log).address_in_use).toBe(expected);
  });
});

describe('launch', () => {
  it('retries on fresh ports when the chosen one is taken before the child binds it', async () => {
    // The race freePort() leaves open: another process grabs the port between pick and spawn.
    const squatters: net.Server[] = [];
    const tried: number[] = [];
    try {
      const launched = await launch({
        service: 'retry-demo',
        binary: [path.basename(NODE)],
        port_count: 1,
        prepare: async ({ ports }) => {
          const port = ports[0] as number;
          tried.push(port);
          if (tried.length === 1) {
            const squatter = net.createServer();
            squatters.push(squatter);
            await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
          }
          return { args: ['-e', listenOn(port)], probe: () => isListening(port) };
        },
      });
      expect(launched.ok).toBe(true);
      if (!launched.ok) return;
      expect(tried).toHaveLength(2);
      expect(launched.value.ports).toEqual([tried[1]]);
      expect(launched.value.proc.logTail()).toContain(`address already in use: something else listens on 127.0.0.1:${tried[0]}`);
      await launched.value.proc.halt();
      await rm(launched.value.dir, { recursive: true, force: true });
    } finally {
      for (const s of squatters) s.close();
    }
  });

  it('gives up after three taken ports and removes its temp dir', async () => {
    const squatters: net.Server[] = [];
    const dirs: string[] = [];
    try {
      const attempt = launch({
        service: 'unlucky',
        binary: [path.basename(NODE)],
        port_count: 1,
        prepare: async ({ ports, dir: serviceDir }) => {
          dirs.push(serviceDir);
          const squatter = net.createServer();
          squatters.push(squatter);
          await new Promise<void>((resolve) => squatter.listen(ports[0], '127.0.0.1', resolve));
          return { args: ['-e', ''], probe: async () => true };
        },
      });
      await expect(attempt).rejects.toThrow(/unlucky did not start: port \d+ is taken/);
      expect(squatters).toHaveLength(3);
      expect(new Set(dirs).size).toBe(1);
      await expect(stat(dirs[0] as string)).rejects.toThrow(/ENOENT/);
    } finally {
      for (const s of squatters) s.close();
    }
  });

  it('reports a missing binary as unavailable, without creating anything', async () => {
    const launched = await launch({
      service: 'ghost',
      binary: ['dcim-no-such-binary'],
      port_count: 1,
      prepare: async () => {
        throw new Error('prepare must not run');
      },
    });
    expect(launched).toEqual({ ok: false, reason: { service: 'ghost', reason: expect.stringMatching(/^dcim-no-such-binary not on PATH/) } });
  });
});

describe('findBinary', () => {
  it('finds the first candidate present, in PATH order', () => {
    const nodeDir = path.dirname(NODE);
    const found = findBinary(['dcim-no-such-binary', path.basename(NODE)], `${dir}${path.delimiter}${nodeDir}`);
    expect(found).toEqual({ ok: true, value: path.join(nodeDir, path.basename(NODE)) });
  });

  it('skips files that are not executable', async () => {
    await writeFile(path.join(dir, 'plain-file'), 'x');
    await chmod(path.join(dir, 'plain-file'), 0o644);
    const found = findBinary(['plain-file'], dir);
    expect(found.ok).toBe(false);
  });

  it('names every candidate in the reason', () => {
    const found = findBinary(['prometheus-alertmanager-x', 'alertmanager-x'], dir);
    expect(found.ok ? '' : found.reason).toMatch(/^prometheus-alertmanager-x or alertmanager-x not on PATH/);
  });
});

describe('freePort / isListening', () => {
  it('gives a port that can be bound on loopback, and isListening sees the difference', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    expect(await isListening(port)).toBe(false);
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    expect(await isListening(port)).toBe(true);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
