import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BENCHMARKS, listing } from '../../bench/run.js';

describe('bench/run.ts', () => {
  it('lists every benchmark in bench/, and only those', () => {
    const files = readdirSync(join(import.meta.dirname, '../../bench'))
      .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
      .map((f) => f.slice(0, -'.ts'.length));
    expect(BENCHMARKS.map((b) => b.name).sort()).toEqual(files.sort());
  });

  it('says for each what it measures and roughly how long it takes', () => {
    for (const b of BENCHMARKS) {
      expect(b.measures.length).toBeGreaterThan(20);
      expect(b.takes).toMatch(/^~\d+ (s|min)$/);
      expect(listing()).toContain(`  ${b.name} `);
    }
  });
});
