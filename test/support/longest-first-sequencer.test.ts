import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LONGEST_FIRST } from './longest-first-sequencer.js';
import { REPO_ROOT } from './repo-path.js';

describe('the longest suites started first', () => {
  it('names only test files that exist, each once', () => {
    expect(LONGEST_FIRST.filter((f) => !f.endsWith('.test.ts') || !existsSync(join(REPO_ROOT, f)))).toEqual([]);
    expect(new Set(LONGEST_FIRST).size).toBe(LONGEST_FIRST.length);
  });
});
