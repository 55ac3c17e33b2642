import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { listCommands } from '../../cli/dcim.js';
import { SiteInventorySchema } from '../../contract/index.js';
import { loadYamlFile } from '../../shared/config/load.js';
import { until } from '../support/until.js';
import { REPO_ROOT } from '../support/repo-path.js';

const ROOT = REPO_ROOT;
const run = promisify(execFile);

/** Run the real CLI in a child process: exit code, stdout and stderr. */
async function dcim(args: string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'dcim.ts'), ...args], { cwd: ROOT, timeout: timeoutMs, env: { ...process.env, DCIM_LOG_LEVEL: 'warn' } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

describe('dcim CLI', () => {
  it('documents every command and flag in the README', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const c of await listCommands()) {
      expect(readme, `README lacks a section for dcim ${c.spec.name}`).toContain(`### \`dcim ${c.spec.name}\``);
      for (const flag of Object.keys(c.spec.options)) expect(readme, `README lacks --${flag} of dcim ${c.spec.name}`).toContain(`--${flag}`);
    }
  });

  it('prints help for every command and exits 0', async () => {
    for (const c of await listCommands()) {
      const r = await dcim([c.spec.name, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`dcim ${c.spec.name}:`);
      for (const flag of Object.keys(c.spec.options)) expect(r.stdout).toContain(`--${flag}`);
    }
  });

  it('refuses an unknown command or flag as a usage error: exit 2, DCIM_E_CLI_USAGE, one line', async () => {
    const cmd = await dcim(['frobnicate']);
    expect(cmd.code).toBe(2);
    expect(cmd.stderr.trim()).toMatch(/^DCIM_E_CLI_USAGE: dcim: unknown command "frobnicate"[^\n]*$/);
    const r = await dcim(['sim', '--sped', '60']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^DCIM_E_CLI_USAGE: dcim sim: Unknown option '--sped' \(see dcim sim --help\)$/);
    const value = await dcim(['sim', '--speed', 'fast']);
    expect(value.code).toBe(2);
    expect(value.stderr).toContain('DCIM_E_CLI_USAGE: --speed: expected a number');
  });

  it('rejects a broken seed at start with every error listed, file and path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcim-cli-'));
    const seed = join(dir, 'broken.yaml');
    writeFileSync(
      seed,
      `site: { id: "Bad Id", name: x }
halls: [{ id: h1 }]
racks: [{ id: r1, hall: h1, rated_kw: -1 }]
devices:
  - { id: d1, profile: apc-rpdu2, address: { protocol: snmp, host: 127.0.0.1, port: 99999 } }
`,
    );
    const r = await dcim(['sim', '--seed', seed, '--ephemeral', '--duration-s', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('DCIM_E_CONFIG_INVALID');
    expect(r.stderr).toContain(`${seed}: site.id:`);
    expect(r.stderr).toContain(`${seed}: racks[0].rated_kw:`);
    expect(r.stderr).toContain(`${seed}: devices[0].address.port:`);
  });

  it('checks the example agent and collector configs', async () => {
    const devices = loadYamlFile(SiteInventorySchema, join(ROOT, 'seeds', 'demo.yaml')).devices.length;
    const a = await dcim(['agent', '--check', '-c', 'agent/agent.example.yaml']);
    expect(a.stderr).toBe('');
    expect(a.stdout).toContain(`ok (agent edge-1, site demo, ${devices} devices`);
    const c = await dcim(['collector', '--check', '-c', 'collector/collector.example.yaml']);
    expect(c.stdout).toContain(`ok (1 site(s), ${devices} devices`);
  });

  it('rejects a collector config with every problem listed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcim-cli-'));
    const cfg = join(dir, 'collector.yaml');
    writeFileSync(cfg, `collector: { id: main, sites: [nope.yaml] }\nmqtt: { url: "not a url" }\nstore: { kind: influx_v9 }\n`);
    const r = await dcim(['collector', '--check', '-c', cfg]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${cfg}: mqtt.url:`);
    expect(r.stderr).toContain(`${cfg}: store.kind:`);
  });

  it('runs the demo: a live PUE from simulated devices over real SNMP and Modbus', async () => {
    // Until two PUE lines are printed (a condition, not a duration: a busy machine starts slower), then Ctrl-C.
    // 5 s polls: the agent's poll deadline is real time here (0.8 × interval), and the seed's 12
    // Modbus units share one gateway whose queue, on a loaded machine, outlasts a 1 s poll's deadline
    // (a unit such as the PV inverter then never delivers fresh power and the live PUE stays unknown).
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'dcim.ts'), 'demo', '--duration-s', '600', '--print-every-s', '2', '--interval-s', '5', '--http-port', '0'], { cwd: ROOT, env: { ...process.env, DCIM_LOG_LEVEL: 'warn' } });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.resume();
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const pueLines = () => stdout.split('\n').filter((l) => l.includes('PUE 1.'));
    try {
      await until('two PUE lines from the demo', () => pueLines().length >= 2, 120_000, () => stdout.slice(-500));
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    for (const line of pueLines()) {
      const shown = Number(/PUE (\d\.\d{3}) \(instantaneous/.exec(line)?.[1]);
      const truth = Number(/simulator truth (\d\.\d{3})/.exec(line)?.[1]);
      expect(Math.abs(shown - truth)).toBeLessThanOrEqual(0.006);
    }
    expect(stdout).toMatch(/stopped; \d+ messages/);
  }, 180_000);
});
