import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../cli/dcim.js';
import { SiteInventorySchema, type KpiValue, type TelemetryMessage } from '../../../contract/index.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { loadYamlFile } from '../../../shared/config/load.js';
import { simulateReadings, type SimReadings } from '../kpi-sim-readings.js';
import { REPO_ROOT } from '../../support/repo-path.js';

/**
 * `dcim kpi --seed --readings` on a file generated from the simulator (the 53-device demo seed,
 * 32 minutes, every device every 30 s), with bad lines mixed in: the energy PUE of every complete
 * quarter hour matches the simulator's ground truth, and every bad line is counted and reported.
 */
const ROOT = REPO_ROOT;
const SEED = join(ROOT, 'seeds', 'demo.yaml');
const run = promisify(execFile);
// 00:00 UTC = 08:00 in Asia/Shanghai: quarter hours line up in both.
const START = Date.UTC(2026, 5, 1, 0, 0, 0);

async function dcim(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'dcim.ts'), ...args], { cwd: ROOT, timeout: 60_000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, DCIM_LOG_LEVEL: 'warn' } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

interface Output {
  site: string;
  from: string;
  to: string;
  input: Record<string, number | string | null>;
  problems: { line: number; code: string; reason: string }[];
  kpis: KpiValue[];
  latest: KpiValue[];
}

let dir: string;
let file: string;
let sim: SimReadings;
const badLines: string[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dcim-kpi-cli-'));
  const inventory = loadYamlFile(SiteInventorySchema, SEED);
  sim = simulateReadings(inventory, loadProfiles(), { start_ms: START, duration_ms: 32 * 60_000, step_s: 30 });
  const m0 = sim.messages[0]!;
  const pdu = sim.messages.find((m) => m.class === 'pdu')!;
  const lines = sim.messages.map((m) => JSON.stringify(m));
  // Bad lines at known positions (1-based line numbers after insertion), and one redelivery.
  badLines.push(
    '{ not json',
    JSON.stringify({ ...pdu, class: 'meter', seq: 9_000_001 }),
    JSON.stringify({ ...m0, device: 'no-such-device', seq: 9_000_002 }),
    JSON.stringify({ ...m0, ts: 'yesterday', seq: 9_000_003 }),
  );
  // A fresh seq within what the agent could have sent (a leap of millions would be refused as implausible).
  const withOneBadReading: TelemetryMessage = { ...pdu, seq: sim.messages.length + 1, ts: pdu.ts + 1, readings: [...pdu.readings, { point: 'active_power_w', value: 5, unit: 'kWh', quality: 'good' }] };
  lines.splice(10, 0, ...badLines, lines[3]!, '', JSON.stringify(withOneBadReading));
  file = join(dir, 'readings.jsonl');
  writeFileSync(file, lines.join('\n') + '\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dcim kpi --seed --readings (offline)', () => {
  it('computes the windows of a simulated file; the quarter-hour PUE matches the ground truth', async () => {
    const r = await dcim(['kpi', '--seed', SEED, '--readings', file]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Output;
    expect(out.site).toBe('demo');
    expect(out.input).toMatchObject({ lines: sim.messages.length + badLines.length + 2, accepted: sim.messages.length + 1, invalid: 3, unknown: 1, duplicates: 1, readings_invalid: 1 });
    expect(out.problems.map((p) => [p.line, p.code])).toEqual([
      [11, 'DCIM_E_MQTT_PAYLOAD_INVALID'],
      [12, 'DCIM_E_MQTT_PAYLOAD_INVALID'],
      [13, 'DCIM_E_MQTT_PAYLOAD_INVALID'],
      [14, 'DCIM_E_MQTT_PAYLOAD_INVALID'],
      [17, 'DCIM_E_READING_INVALID'],
    ]);
    expect(out.problems[0]!.reason).toMatch(/not JSON/);
    expect(out.problems[1]!.reason).toMatch(/class meter but profile apc-rpdu2 is a pdu/);
    expect(out.problems[2]!.reason).toMatch(/device no-such-device is not in the seed/);
    expect(r.stderr).toContain('3 invalid and 1 unknown line(s) skipped');

    const pue15 = out.kpis.filter((k) => k.kpi === 'pue' && k.window === '15m');
    expect(pue15.map((k) => k.window_end)).toEqual([START + 15 * 60_000, START + 30 * 60_000]);
    for (const k of pue15) {
      const truth = sim.truth.windows['15m'].find((w) => w.window_start === k.window_start)!;
      expect(k).toMatchObject({ ok: true, quality: 'measured', category: 2, basis: 'energy' });
      expect(Math.abs(k.value! - truth.pue!) / truth.pue!, `window ${new Date(k.window_start).toISOString()}`).toBeLessThan(0.005);
      expect(Math.abs(k.inputs!.it_kwh! - truth.it_kwh) / truth.it_kwh).toBeLessThan(0.005);
    }
    // Windows that began before the first reading are not invented.
    expect(out.kpis.every((k) => k.window_start >= START)).toBe(true);
    expect(out.latest.find((k) => k.kpi === 'pue_live')).toMatchObject({ ok: true });
  });

  it('filters by --window and --kpi, and limits with --from/--to', async () => {
    const chunks: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => chunks.push(String(c)) > 0);
    let code: number;
    try {
      code = await main(['kpi', '--seed', SEED, '--readings', file, '--window', '15m', '--kpi', 'pue', '--to', new Date(START + 15 * 60_000).toISOString()]);
    } finally {
      spy.mockRestore();
    }
    expect(code).toBe(0);
    const out = JSON.parse(chunks.join('')) as Output;
    expect(out.kpis.map((k) => `${k.kpi}/${k.window}/${k.window_end}`)).toEqual([`pue/15m/${START + 15 * 60_000}`]);
    expect(new Set(out.latest.map((k) => `${k.kpi}/${k.window}`))).toEqual(new Set(['pue/15m']));
  });

  it.each<[string, string[], number, RegExp]>([
    ['no --readings', ['kpi', '--seed', 'seeds/demo.yaml'], 2, /--seed <site\.yaml> and --readings <file\.jsonl> are required/],
    ['an unknown window', ['kpi', '--seed', 'seeds/demo.yaml', '--readings', 'x.jsonl', '--window', '2d'], 2, /--window: unknown "2d"/],
    ['a recompute flag offline', ['kpi', '--seed', 'seeds/demo.yaml', '--readings', 'x.jsonl', '--site', 'demo'], 2, /--site belong to dcim kpi recompute/],
    ['an offline flag with recompute', ['kpi', 'recompute', '--site', 'demo', '--seed', 'seeds/demo.yaml'], 2, /recompute does not take --seed/],
    ['a time without offset', ['kpi', 'recompute', '--site', 'demo', '--from', '2026-01-01T00:00', '--to', '2026-01-02', '--config', 'collector/collector.example.yaml'], 2, /--from: .*expected a date/],
    ['a missing readings file', ['kpi', '--seed', 'seeds/demo.yaml', '--readings', 'no-such-file.jsonl'], 1, /DCIM_E_CONFIG_UNREADABLE: .*no-such-file\.jsonl: cannot read/],
    ['an unknown subcommand', ['kpi', 'recalc'], 2, /unexpected argument "recalc"/],
  ])('refuses %s with a clear message', async (_name, args, code, message) => {
    // In process (main() is what the binary runs): these fail before any work.
    const errors: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void errors.push(a.map(String).join(' ')));
    try {
      expect(await main(args)).toBe(code);
    } finally {
      spy.mockRestore();
    }
    expect(errors.join('\n')).toMatch(message);
  });
});
