import { describe, expect, it } from 'vitest';
import { escapeHelp, escapeLabelValue, formatExposition, formatValue, type MetricFamily } from '../../../shared/metrics/exposition.js';
import { parseExposition } from '../../agent/metrics/parse-exposition.js';

describe('Prometheus text format 0.0.4', () => {
  it.each([
    ['plain', 'pdu-r01-a', 'pdu-r01-a'],
    ['backslash', 'C:\\dcim', 'C:\\\\dcim'],
    ['double quote', 'say "hi"', 'say \\"hi\\"'],
    ['newline', 'a\nb', 'a\\nb'],
    ['all three, in order', '\\"\n', '\\\\\\"\\n'],
    ['unicode and tabs pass through', '机房\t1', '机房\t1'],
    ['empty', '', ''],
  ])('escapes a label value: %s', (_, input, want) => {
    expect(escapeLabelValue(input)).toBe(want);
  });

  it.each([
    ['plain', 'Polls of the device.', 'Polls of the device.'],
    ['backslash and newline', 'a\\b\nc', 'a\\\\b\\nc'],
    ['quotes stay as they are in HELP', 'the "spool"', 'the "spool"'],
  ])('escapes HELP text: %s', (_, input, want) => {
    expect(escapeHelp(input)).toBe(want);
  });

  it.each([
    [0, '0'],
    [-0, '0'],
    [42, '42'],
    [1.5, '1.5'],
    [-3.25, '-3.25'],
    [1e21, '1e+21'],
    [5e-7, '5e-7'],
    [Number.MAX_SAFE_INTEGER, '9007199254740991'],
    [NaN, 'NaN'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
  ])('formats the value %s as %s', (n, want) => {
    expect(formatValue(n)).toBe(want);
  });

  it('writes HELP and TYPE once per family, then its samples, and reads back exactly', () => {
    const nasty = 'a "quoted" \\path\\ with\nnewline';
    const families: MetricFamily[] = [
      { name: 'dcim_agent_device_polls_total', type: 'counter', help: 'Polls\nof the \\device.', samples: [{ labels: { site: 'demo', device: 'pdu-r01-a', profile: 'apc-rpdu2' }, value: 12 }, { labels: { site: 'demo', device: nasty, profile: 'x' }, value: 0 }] },
      { name: 'dcim_agent_spool_records', type: 'gauge', help: 'Spool depth.', samples: [{ value: 3 }] },
      { name: 'dcim_agent_empty', type: 'gauge', help: 'no samples: left out', samples: [] },
      { name: 'dcim_agent_ratio', type: 'gauge', help: 'floats', samples: [{ labels: {}, value: 0.125 }, { labels: { k: '' }, value: 1e-9 }] },
    ];
    const text = formatExposition(families);
    expect(text.split('\n').slice(0, 4)).toEqual([
      '# HELP dcim_agent_device_polls_total Polls\\nof the \\\\device.',
      '# TYPE dcim_agent_device_polls_total counter',
      // label names sorted, as the Go client writes them
      'dcim_agent_device_polls_total{device="pdu-r01-a",profile="apc-rpdu2",site="demo"} 12',
      'dcim_agent_device_polls_total{device="a \\"quoted\\" \\\\path\\\\ with\\nnewline",profile="x",site="demo"} 0',
    ]);
    const parsed = parseExposition(text);
    expect([...parsed.keys()]).toEqual(['dcim_agent_device_polls_total', 'dcim_agent_spool_records', 'dcim_agent_ratio']);
    expect(parsed.get('dcim_agent_device_polls_total')).toEqual({
      type: 'counter',
      help: 'Polls\nof the \\device.',
      samples: [
        { labels: { site: 'demo', device: 'pdu-r01-a', profile: 'apc-rpdu2' }, value: 12 },
        { labels: { site: 'demo', device: nasty, profile: 'x' }, value: 0 },
      ],
    });
    expect(parsed.get('dcim_agent_ratio')?.samples).toEqual([
      { labels: {}, value: 0.125 },
      { labels: { k: '' }, value: 1e-9 },
    ]);
    expect(text.endsWith('\n')).toBe(true);
  });

  it('writes nothing for no samples', () => {
    expect(formatExposition([])).toBe('');
    expect(formatExposition([{ name: 'x', type: 'gauge', help: 'h', samples: [] }])).toBe('');
  });

  it.each<[string, MetricFamily[], RegExp]>([
    ['a counter without _total', [{ name: 'dcim_agent_polls', type: 'counter', help: 'h', samples: [{ value: 1 }] }], /must end in _total/],
    ['a metric name with a dash', [{ name: 'dcim-agent', type: 'gauge', help: 'h', samples: [{ value: 1 }] }], /invalid metric name/],
    ['a metric name starting with a digit', [{ name: '1dcim', type: 'gauge', help: 'h', samples: [{ value: 1 }] }], /invalid metric name/],
    ['a reserved label name', [{ name: 'g', type: 'gauge', help: 'h', samples: [{ labels: { __name__: 'x' }, value: 1 }] }], /invalid label name/],
    ['a label name with a dash', [{ name: 'g', type: 'gauge', help: 'h', samples: [{ labels: { 'a-b': 'x' }, value: 1 }] }], /invalid label name/],
    ['a family twice', [{ name: 'g', type: 'gauge', help: 'h', samples: [{ value: 1 }] }, { name: 'g', type: 'gauge', help: 'h', samples: [{ value: 2 }] }], /listed twice/],
    ['the same series twice (label order aside)', [{ name: 'g', type: 'gauge', help: 'h', samples: [{ labels: { a: '1', b: '2' }, value: 1 }, { labels: { b: '2', a: '1' }, value: 2 }] }], /two samples/],
  ])('refuses %s', (_, families, err) => {
    expect(() => formatExposition(families)).toThrow(err);
  });
});

describe('the strict test parser itself', () => {
  it.each([
    ['no final newline', '# TYPE a gauge\na 1'],
    ['a sample before TYPE', 'a 1\n'],
    ['interleaved families', '# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x="1"} 2\n'],
    ['an unknown escape', '# TYPE a gauge\na{x="\\t"} 1\n'],
    ['an unquoted label value', '# TYPE a gauge\na{x=1} 1\n'],
    ['a duplicate series', '# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n'],
    ['a value that is not a float', '# TYPE a gauge\na 1,5\n'],
    ['a counter without _total', '# TYPE a counter\na 1\n'],
    ['a negative counter', '# TYPE a_total counter\na_total -1\n'],
    ['two spaces', '# TYPE a gauge\na  1\n'],
    ['a stray comment', '# hello\n'],
  ])('refuses %s', (_, text) => {
    expect(() => parseExposition(text)).toThrow();
  });
});
