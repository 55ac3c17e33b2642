import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SeqStore } from '../../agent/seq-store.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'dcim-seq-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('SeqStore', () => {
  it('starts at 0 and counts up', () => {
    const s = new SeqStore({ file: join(tmp(), 'seq.json'), block: 10 });
    s.open();
    expect([s.next(), s.next(), s.next()]).toEqual([0, 1, 2]);
  });

  it('reserves a block on disk before handing out its first number', () => {
    const file = join(tmp(), 'seq.json');
    const s = new SeqStore({ file, block: 10 });
    s.open();
    s.next();
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ reserved: 10 });
    for (let i = 1; i < 10; i++) s.next();
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ reserved: 10 });
    expect(s.next()).toBe(10);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ reserved: 20 });
  });

  it('never reuses a number after a crash (restart resumes at the reservation)', () => {
    const file = join(tmp(), 'state', 'seq.json');
    const a = new SeqStore({ file, block: 100 });
    a.open();
    const handedOut = Array.from({ length: 150 }, () => a.next());
    // "crash": no close, a new process opens the same file
    const b = new SeqStore({ file, block: 100 });
    b.open();
    const after = b.next();
    expect(after).toBeGreaterThan(Math.max(...handedOut));
    expect(after).toBe(200);
  });

  it('block 1 persists every increment (bd_seq)', () => {
    const file = join(tmp(), 'bd.json');
    for (let i = 0; i < 3; i++) {
      const s = new SeqStore({ file, block: 1 });
      s.open();
      expect(s.next()).toBe(i);
    }
  });

  it.each([['not json', '{{'], ['negative', '{"reserved":-5}'], ['fractional', '{"reserved":1.5}'], ['wrong shape', '[1]'], ['empty', '']])(
    'a corrupt file (%s) resumes above now × 1000 and says so',
    (_name, text) => {
      const file = join(tmp(), 'seq.json');
      writeFileSync(file, text);
      const problems: string[] = [];
      const s = new SeqStore({ file, now: () => 1_700_000_000_000, onCorrupt: (r) => problems.push(r) });
      s.open();
      expect(s.next()).toBe(1_700_000_000_000_000);
      expect(problems).toHaveLength(1);
    },
  );

  it('refuses to count before open()', () => {
    expect(() => new SeqStore({ file: join(tmp(), 'x.json') }).next()).toThrow(/before open/);
  });
});
