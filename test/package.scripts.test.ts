import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/repo-path.js';

/**
 * Every package.json script runs in CI, at least in its cheapest real mode, so a script that
 * points at a missing file (as `bench` once did) fails here. A script added to package.json
 * without an entry below fails the first test.
 */
const run = promisify(execFile);
const ROOT = REPO_ROOT;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

async function npm(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run('npm', ['run', '-s', ...args], { cwd: ROOT, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 });
}

/** How each script is exercised; `ci` ones are run by CI itself (.ci/run runs `npm test`). */
const COVERAGE: Record<string, { ci: true } | { check: () => Promise<void> }> = {
  test: { ci: true },
  typecheck: { ci: true },
  lint: { ci: true },
  'test:unit': {
    check: async () => {
      const { stdout } = await npm('test:unit', '--', '--help');
      expect(stdout).toMatch(/vitest/i);
    },
  },
  dcim: {
    check: async () => {
      const { stdout } = await npm('dcim', '--', '--help');
      expect(stdout).toMatch(/usage: dcim <command>/);
    },
  },
  demo: {
    check: async () => {
      const { stdout } = await npm('demo', '--', '--help');
      expect(stdout).toMatch(/usage: dcim demo/);
    },
  },
  dashboards: {
    check: async () => {
      // --check compares the committed dashboards with what the generator writes, and writes nothing.
      await npm('dashboards', '--', '--check');
    },
  },
  bench: {
    check: async () => {
      const help = await npm('bench', '--', '--help');
      expect(help.stdout).toMatch(/npm run bench -- <name>/);
      const list = await npm('bench');
      for (const name of ['agent-snmp', 'bureau-ingest', 'collector-ingest', 'kpi-engine', 'live-floor']) expect(list.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
      await expect(npm('bench', '--', 'no-such-bench')).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown benchmark "no-such-bench"/) });
    },
  },
  build: {
    check: async () => {
      const help = await npm('build', '--', '--help');
      expect(help.stdout).toMatch(/--out-dir/);
      // A real build, into a folder inside the repository so the compiled code resolves node_modules.
      await npm('build', '--', '--out-dir', OUT);
      expect(existsSync(join(OUT, 'cli/dcim.js'))).toBe(true);
      const page = (await import(pathToFileURL(join(OUT, 'collector/live/live-page.js')).href)) as { livePageHtml(o?: { bureau?: boolean }): string };
      const html = page.livePageHtml({ bureau: true });
      const script = html.slice(html.indexOf('<script>') + '<script>'.length, html.lastIndexOf('</script>'));
      // The compiled page carries the bundle the build wrote (not a bundler call), started once.
      expect(script).toContain(readFileSync(join(OUT, 'collector/live/page/bundle.js'), 'utf8').trim());
      expect(script).toMatch(/var dcimLivePage = \(\(\) => \{/);
      expect(script).toMatch(/dcimLivePage\.start\(\{.*\}, "zh-CN", true, \{.*\}, \[.*\]\);$/s);
      expect(script).not.toMatch(/__name|<\/script/i);
    },
  },
};

const OUT = join(ROOT, '.dcim', `test-build-${process.pid}`);
afterAll(async () => rm(OUT, { recursive: true, force: true }));

describe('package.json scripts', () => {
  it('are each exercised here or by CI itself', () => {
    expect(Object.keys(pkg.scripts).sort()).toEqual(Object.keys(COVERAGE).sort());
    const ci = readFileSync(join(ROOT, '.ci/run'), 'utf8');
    expect(ci).toMatch(/npm test/);
    expect(pkg.scripts.test).toMatch(/npm run -s typecheck && npm run -s lint && vitest run/);
  });

  for (const [name, how] of Object.entries(COVERAGE)) {
    if ('check' in how) it(`npm run ${name}`, how.check, 300_000);
  }
});
