import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/repo-path.js';

/**
 * `dcim sim` as an operator runs it: several seeds at once, a faults file, the control API on a
 * free port, the truth file, a clean stop on SIGTERM; and every problem of a faults file listed.
 */
const ROOT = REPO_ROOT;
const DCIM = [process.execPath, '--import', 'tsx', join(ROOT, 'cli', 'dcim.ts')] as const;
const execFileAsync = promisify(execFile);

function workdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dcim-sim-cli-'));
  const minimal = readFileSync(join(ROOT, 'seeds', 'minimal.yaml'), 'utf8');
  writeFileSync(join(dir, 'a.yaml'), minimal);
  writeFileSync(join(dir, 'b.yaml'), minimal.replace(/^ {2}id: demo$/m, '  id: second'));
  return dir;
}

describe('dcim sim', () => {
  it('serves two seeds with scripted faults, a control API and a truth file, and stops on SIGTERM', async () => {
    const dir = workdir();
    writeFileSync(join(dir, 'faults.yaml'), 'sites:\n  second:\n    pdu-r01-a: [{ kind: offline }]\n');
    const truthFile = join(dir, 'truth.json');
    const child = spawn(DCIM[0], [...DCIM.slice(1), 'sim', '--seed', join(dir, 'a.yaml'), '--seed', join(dir, 'b.yaml'), '--ephemeral', '--faults', join(dir, 'faults.yaml'), '--truth-file', truthFile, '--truth-every-s', '0', '--duration-s', '60'], {
      cwd: ROOT,
      env: { ...process.env, DCIM_LOG_LEVEL: 'warn' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no control API line in:\n${out}\n${err}`)), 20_000);
        child.stdout.on('data', () => {
          const m = /control API: (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
      });
      expect(out).toMatch(/dcim sim: 2 site\(s\), speed 1x/);
      expect(out).toMatch(/site demo \(.*\) from .*a\.yaml: 2 devices on 2 ports/);
      expect(out).toMatch(/pdu-r01-a\s+snmp\s+127\.0\.0\.1:\d+\s+v2c community public/);
      expect(out).toMatch(/meter-incomer-1\s+modbus\s+127\.0\.0\.1:\d+\s+unit 1/);
      const sites = (await (await fetch(`${url}/sites`)).json()) as { site: string }[];
      expect(sites.map((s) => s.site)).toEqual(['demo', 'second']);
      expect(await (await fetch(`${url}/sites/second/devices/pdu-r01-a/faults`)).json()).toMatchObject([{ kind: 'offline', state: 'active' }]);
      expect(await (await fetch(`${url}/sites/demo/devices/pdu-r01-a/faults`)).json()).toEqual([]);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    const truth = JSON.parse(readFileSync(truthFile, 'utf8')) as { sites: { site: string }[] };
    expect(truth.sites.map((s) => s.site)).toEqual(['demo', 'second']);
  }, 40_000);

  it('takes a folder of seeds and lists every problem of a faults file, with file and path', async () => {
    const dir = workdir();
    // Not in the seed folder: every *.yaml there is a seed.
    const faults = join(mkdtempSync(join(tmpdir(), 'dcim-faults-')), 'faults.yaml');
    writeFileSync(faults, 'faults:\n  pdu-r01-a: [{ kind: offline }]\n  ghost: [{ kind: stuck }]\n  meter-incomer-1: [{ kind: slow }]\nsites:\n  mars: {}\n');
    const r = await execFileAsync(DCIM[0], [...DCIM.slice(1), 'sim', '--seed', dir, '--ephemeral', '--faults', faults, '--duration-s', '1'], { cwd: ROOT }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('DCIM_E_CONFIG_INVALID');
    expect(r.stderr).toContain(`${faults}: faults.meter-incomer-1[0].delay_ms:`);
    const again = await execFileAsync(DCIM[0], [...DCIM.slice(1), 'sim', '--seed', dir, '--ephemeral', '--faults', faults.replace('faults.yaml', 'f2.yaml'), '--duration-s', '1'], { cwd: ROOT }).catch((e: { code: number; stderr: string }) => e);
    expect((again as { stderr: string }).stderr).toMatch(/cannot read/);
    writeFileSync(faults, 'faults:\n  pdu-r01-a: [{ kind: offline }]\n  ghost: [{ kind: stuck }]\nsites:\n  mars: {}\n');
    const semantic = await execFileAsync(DCIM[0], [...DCIM.slice(1), 'sim', '--seed', dir, '--ephemeral', '--faults', faults, '--duration-s', '1'], { cwd: ROOT }).catch((e: { code: number; stderr: string }) => e);
    const stderr = (semantic as { stderr: string }).stderr;
    expect(stderr).toContain(`${faults}: sites.mars: no such site among the seeds`);
    expect(stderr).toContain(`${faults}: faults.ghost: no such device in demo, second`);
    expect(stderr).toContain(`${faults}: faults.pdu-r01-a: the id is in demo and second; put it under sites.<site>`);
  }, 40_000);
});
