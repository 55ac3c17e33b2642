import { existsSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/repo-path.js';

/**
 * Tests mirror what they test, so a reader finds a file's tests without searching. The test of
 * a source `<dir>/<name>.ts` is `test/<dir>/<name>.test.ts`, or `test/<dir>/<name>.<aspect>.test.ts`
 * when one file has several suites (the agent's restart suite beside its main one); the test of a
 * folder's files as a whole (the device profiles, the seeds, the deploy configs) is
 * `test/<dir>.<aspect>.test.ts` beside that folder's path; a test of a non-TypeScript file drops its extension (`test/package.scripts.test.ts` for
 * package.json). End-to-end suites, which test no one file, live in `test/e2e/`; tests of the test
 * support itself in `test/support/`.
 */
const TEST_DIR = join(REPO_ROOT, 'test');

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'e2e' && dir === TEST_DIR ? [] : testFiles(p);
    return e.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** The source a test file mirrors, or undefined. */
function mirroredSource(testPath: string): string | undefined {
  const rel = relative(TEST_DIR, testPath).split(sep).join('/').replace(/\.test\.ts$/, '');
  const slash = rel.lastIndexOf('/');
  const dir = rel.slice(0, slash + 1);
  const parts = rel.slice(slash + 1).split('.');
  const base = dir.startsWith('support/') ? join(TEST_DIR) : REPO_ROOT;
  for (let n = parts.length; n >= 1; n--) {
    const stem = join(base, dir + parts.slice(0, n).join('.'));
    for (const candidate of [`${stem}.ts`, `${stem}.js`, `${stem}.json`, stem]) if (existsSync(candidate)) return relative(REPO_ROOT, candidate);
  }
  return undefined;
}

describe('test layout', () => {
  it('every test file (outside test/e2e/) sits at the mirrored path of a source file or folder', () => {
    const files = testFiles(TEST_DIR);
    expect(files.length).toBeGreaterThan(150);
    const lost = files.filter((f) => mirroredSource(f) === undefined).map((f) => relative(REPO_ROOT, f));
    expect(lost, 'move each to test/<path of what it tests>[.<aspect>].test.ts').toEqual([]);
  });

  it('maps a test to its source, an aspect suffix to the same source, a folder test to the folder', () => {
    expect(mirroredSource(join(TEST_DIR, 'agent/agent.test.ts'))).toBe('agent/agent.ts');
    expect(mirroredSource(join(TEST_DIR, 'agent/agent.restart.test.ts'))).toBe('agent/agent.ts');
    expect(mirroredSource(join(TEST_DIR, 'profiles/devices.catalogue.test.ts'))).toBe('profiles/devices');
    expect(mirroredSource(join(TEST_DIR, 'package.scripts.test.ts'))).toBe('package.json');
    expect(mirroredSource(join(TEST_DIR, 'support/require-service.test.ts'))).toBe('test/support/require-service.ts');
    expect(mirroredSource(join(TEST_DIR, 'collector/spool-broker.test.ts'))).toBeUndefined();
    expect(mirroredSource(join(TEST_DIR, 'agent/outbox.test.ts'))).toBeUndefined();
  });
});
