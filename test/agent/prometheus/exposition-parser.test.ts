import { describe, expect, it } from 'vitest';
import { parseExposition, parseSampleValue } from '../../../agent/prometheus/exposition-parser.js';

describe('parseExposition (text format 0.0.4)', () => {
  it('reads names, labels with escapes and blanks, a trailing comma, values and timestamps', () => {
    const ex = parseExposition(
      [
        '# HELP up Whether the target is up \\\\ with a \\n newline.',
        '# TYPE up gauge',
        'up 1',
        '# a plain comment',
        '',
        'temp{gpu="0", UUID="GPU-a",note="say \\"hi\\"\\\\ \\nnext",} 64.5 1765100000000',
        'temp{gpu="1"} -1.5e3',
        '\tdrift{x="y"}\t+Inf',
        'nan_metric NaN',
        'neg -Inf -12',
        'a:b_c{} .5',
      ].join('\n') + '\n',
    );
    expect(ex.problems).toEqual([]);
    expect(ex.samples).toEqual([
      { name: 'up', labels: {}, value: 1 },
      { name: 'temp', labels: { gpu: '0', UUID: 'GPU-a', note: 'say "hi"\\ \nnext' }, value: 64.5, timestampMs: 1765100000000 },
      { name: 'temp', labels: { gpu: '1' }, value: -1500 },
      { name: 'drift', labels: { x: 'y' }, value: Infinity },
      { name: 'nan_metric', labels: {}, value: NaN },
      { name: 'neg', labels: {}, value: -Infinity, timestampMs: -12 },
      { name: 'a:b_c', labels: {}, value: 0.5 },
    ]);
    expect(ex.types.get('up')).toBe('gauge');
  });

  it.each([
    ['a bad escape in a label value', 'm{a="x\\t"} 1', 'bad escape \\t'],
    ['a label value without its closing quote', 'm{a="x} 1', 'closing quote'],
    ['a missing value', 'm{a="x"}', 'no value'],
    ['a missing value after a bare name', 'm', 'no value'],
    ['a value that is no number', 'm 12abc', 'is not a number'],
    ['a hexadecimal value', 'm 0x10', 'is not a number'],
    ['a timestamp that is no integer', 'm 1 1.5', 'not an integer'],
    ['text after the timestamp', 'm 1 2 3', 'after the timestamp'],
    ['a label named twice', 'm{a="1",a="2"} 1', 'given twice'],
    ['a bad label name', 'm{1a="1"} 1', 'bad label name'],
    ['no separator between labels', 'm{a="1" b="2"} 1', 'expected , or }'],
    ['a carriage return (not the format)', 'm 1\r', 'is not a number'],
    ['an unknown type', '# TYPE m gaugey', 'unknown type'],
    ['a bad HELP escape', '# HELP m x \\q', 'bad escape'],
  ])('refuses %s, with its line, and reads the lines around it', (_what, bad, reason) => {
    const ex = parseExposition(`before 1\n${bad}\nafter 2\n`);
    expect(ex.problemCount).toBe(1);
    expect(ex.problems[0]?.line).toBe(2);
    expect(ex.problems[0]?.reason).toContain(reason);
    expect(ex.samples.map((s) => [s.name, s.value])).toEqual([
      ['before', 1],
      ['after', 2],
    ]);
  });

  it('refuses a second HELP or TYPE, a TYPE after samples, and a repeated series; the first stays', () => {
    const ex = parseExposition(
      ['# HELP m one', '# HELP m two', '# TYPE m gauge', '# TYPE m counter', 'm{a="1"} 1', 'm{a="1"} 2', 'm{a="2"} 3', 'n 1', '# TYPE n gauge'].join('\n'),
    );
    expect(ex.problems.map((p) => [p.line, p.reason])).toEqual([
      [2, 'second HELP for m'],
      [4, 'second TYPE for m'],
      [6, 'series m{a="1"} repeated'],
      [9, 'TYPE for n after its samples'],
    ]);
    expect(ex.types.get('m')).toBe('gauge');
    expect(ex.samples.map((s) => s.value)).toEqual([1, 3, 1]);
  });

  it('takes histogram and summary samples as their family for the TYPE rule', () => {
    const ex = parseExposition(['# TYPE h histogram', 'h_bucket{le="1"} 2', 'h_sum 3', 'h_count 2', '# TYPE h_sum gauge'].join('\n'));
    expect(ex.problems).toEqual([]);
    expect(ex.samples).toHaveLength(3);
  });

  it('refuses a line over the limit without reading it, and counts every refused line', () => {
    const huge = `m{a="${'x'.repeat(200)}"} 1`;
    const lines = ['ok 1', huge, ...Array.from({ length: 60 }, (_, i) => `bad${i}`), 'ok2 2'];
    const ex = parseExposition(lines.join('\n'), { maxLineChars: 100 });
    expect(ex.problems[0]).toEqual({ line: 2, reason: `line of ${huge.length} characters exceeds 100` });
    expect(ex.problemCount).toBe(61);
    expect(ex.problems).toHaveLength(50);
    expect(ex.samples.map((s) => s.name)).toEqual(['ok', 'ok2']);
  });

  it('reads sample values as Go floats do', () => {
    expect(parseSampleValue('NaN')).toBeNaN();
    expect(parseSampleValue('+Inf')).toBe(Infinity);
    expect(parseSampleValue('-inf')).toBe(-Infinity);
    expect(parseSampleValue('9.223372036854776e+18')).toBe(2 ** 63);
    expect(parseSampleValue('1e')).toBeUndefined();
    expect(parseSampleValue('')).toBeUndefined();
  });
});
