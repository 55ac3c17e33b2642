import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The suites that take longest (with DCIM_LONG_TESTS=1, as CI runs them), longest first. Vitest
 * starts files it has no timing for (a clean clone) largest first, and these are small files: left
 * to that order they would start last, and the run would end with one worker on a long suite while
 * the other sits idle. Started first, the short files fill the other worker around them. A file
 * missing from the list only runs in vitest's own order; a stale entry is harmless.
 */
export const LONGEST_FIRST = [
  'test/e2e/guian-day.test.ts',
  'test/e2e/demo-energy.2s.test.ts',
  'test/cli/failure.test.ts',
  'test/e2e/demo-energy.day.test.ts',
  'test/package.scripts.test.ts',
  'test/e2e/demo-energy.test.ts',
  'test/e2e/bureau-federation.test.ts',
  'test/cli/dcim.test.ts',
  'test/cli/commands/demo.test.ts',
  'test/cli/commands/agent.check.test.ts',
  'test/e2e/attacks.test.ts',
  'test/collector/federation/restore.test.ts',
];

/** Vitest's order (failed, then longest last time, then largest first), with LONGEST_FIRST ahead. */
export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification): number => {
      const i = LONGEST_FIRST.indexOf(relative(this.ctx.config.root, f.moduleId).split('\\').join('/'));
      return i < 0 ? LONGEST_FIRST.length : i;
    };
    return sorted.map((f, i) => ({ f, i, r: rank(f) })).sort((a, b) => a.r - b.r || a.i - b.i).map(({ f }) => f);
  }
}
