import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DcimError } from '../../../contract/errors.js';
import { alertName, loadAlertRuleSet, parseAlertRules } from '../../../collector/alerts/load-rules.js';
import { formatDuration, spellDuration } from '../../../collector/alerts/duration.js';

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof DcimError) return e.details;
    throw e;
  }
  throw new Error('expected a DcimError');
}

const tmp = () => mkdtempSync(join(tmpdir(), 'dcim-alert-rules-'));

describe('alert rules as data', () => {
  it('loads the built-in defaults with the ASHRAE bands, hold and hysteresis', () => {
    const set = loadAlertRuleSet();
    const ids = set.rules.map((r) => r.id);
    expect(ids).toEqual(
      expect.arrayContaining(['rack_inlet_temperature', 'rack_inlet_rate_of_change', 'sensor_stale', 'meter_stale', 'device_down', 'agent_offline', 'counter_reset', 'pue_target', 'rack_occupancy_target', 'green_share_target']),
    );
    const inlet = set.rules.find((r) => r.id === 'rack_inlet_temperature');
    expect(inlet).toMatchObject({ kind: 'reading', scope: 'rack_group', hysteresis: 1, for: 300_000, bands: { warning: { below: 18, above: 27 }, critical: { below: 15, above: 32 } } });
    expect(set.rules.find((r) => r.id === 'rack_inlet_rate_of_change')).toMatchObject({ over: 900_000, delta: 5 });
    expect(set.rules.find((r) => r.id === 'pue_target')).toMatchObject({ kpi: 'pue', window: '1y', above: 'target' });
    expect(set.inhibit.length).toBeGreaterThanOrEqual(3);
  });

  it('lists every problem of a file with file and path', () => {
    const text = `
rules:
  - id: Bad Id
    kind: reading
    summary: x
  - id: hot
    kind: reading
    point: inlet_temp_c
    meaning: inlet_temp_c
    bands: { warning: { above: 27 }, critical: { above: 25 } }
    summary: "{valeu} too hot"
  - id: kpi1
    kind: kpi
    kpi: pue
    window: instant
    above: target
    severity: warning
    summary: x
  - id: kpi2
    kind: kpi
    kpi: pue
    window: 1d
    severity: page
    for: 5 minutes
    summary: x
  - id: hot
    kind: device_status
    severity: critical
    labels: { severity: high }
    summary: x
inhibit:
  - source: { rules: [nope] }
    target: {}
    equal: [site]
`;
    const problems = problemsOf(() => parseAlertRules(text, 'site.yaml'));
    const expected = [
      /^site\.yaml: rules\[0\]\.id: expected an id/,
      /^site\.yaml: inhibit\[0\]\.target: name rules, kinds and\/or severity/,
      /^site\.yaml: rules\[3\]\.severity: /,
      /^site\.yaml: rules\[3\]\.for: expected a duration/,
    ];
    for (const re of expected) expect(problems.some((p) => re.test(p)), `${re} in\n${problems.join('\n')}`).toBe(true);
  });

  it('checks rule semantics after the schema: placeholders, bands, duplicates, references', () => {
    const text = `
rules:
  - id: hot
    kind: reading
    point: inlet_temp_c
    meaning: inlet_temp_c
    bands: { warning: { above: 27 }, critical: { above: 25 } }
    summary: "{valeu} too hot"
  - id: kpi1
    kind: kpi
    kpi: pue
    window: instant
    above: target
    severity: warning
    summary: x
  - id: down
    kind: device_status
    severity: critical
    labels: { severity: high }
    summary: x
  - id: down
    kind: agent_offline
    severity: critical
    summary: "{agent}"
inhibit:
  - source: { rules: [nope] }
    target: { kinds: [stale] }
    equal: [site]
`;
    const problems = problemsOf(() => parseAlertRules(text, 'site.yaml'));
    const expected = [
      'site.yaml: rules[0].point: name exactly one of point or meaning',
      'site.yaml: rules[0].bands.critical.above: critical.above must be above warning.above (27)',
      'site.yaml: rules[1].window: a target breach needs an energy window (15m … 1y); instant values are never target verdicts',
      'site.yaml: rules[2].labels.severity: label severity is set by the engine',
    ];
    for (const p of expected) expect(problems).toContain(p);
  });

  it('reports unknown placeholders, duplicate ids and unknown references of a valid file', () => {
    const text = `
rules:
  - { id: hot, kind: reading, point: inlet_temp_c, bands: { warning: { above: 27 } }, summary: "{valeu} too hot in {where}" }
  - { id: hot, kind: agent_offline, severity: critical, summary: "{agent}" }
disable: [missing]
inhibit:
  - { source: { rules: [nope] }, target: { kinds: [stale] }, equal: [site] }
`;
    expect(problemsOf(() => parseAlertRules(text, 'site.yaml'))).toEqual([
      'site.yaml: rules[0].summary: unknown placeholder {valeu}',
      'site.yaml: rules[1].id: duplicate rule id hot (also rules[0])',
      'site.yaml: disable[0]: no rule missing is defined before this file',
      'site.yaml: inhibit[0].source.rules[0]: unknown rule nope',
    ]);
  });

  it('a site file replaces a default by id, disables another, and adds its own', () => {
    const dir = tmp();
    const file = join(dir, 'alerts.yaml');
    writeFileSync(
      file,
      `
rules:
  - id: rack_inlet_temperature
    kind: reading
    meaning: inlet_temp_c
    scope: rack
    bands: { warning: { below: 16, above: 25 } }
    for: 2m
    summary: "Hot {where}"
  - id: chiller_alarm
    kind: reading
    point: compressor_alarm
    equals: true
    severity: critical
    labels: { team: facilities }
    summary: "Compressor alarm on {device}"
disable: [green_share_target]
`,
    );
    const set = loadAlertRuleSet({ files: [file] });
    const inlet = set.rules.find((r) => r.id === 'rack_inlet_temperature');
    expect(inlet).toMatchObject({ scope: 'rack', for: 120_000, bands: { warning: { above: 25 } } });
    expect(set.rules.some((r) => r.id === 'green_share_target')).toBe(false);
    expect(set.rules.find((r) => r.id === 'chiller_alarm')).toMatchObject({ equals: true, labels: { team: 'facilities' } });
    // Without the defaults, only the file's rules (and the file's disable has nothing to act on).
    expect(problemsOf(() => loadAlertRuleSet({ files: [file], defaults: false }))).toEqual([`${file}: disable[0]: no rule green_share_target is defined before this file`]);
  });

  it('refuses the same id in two site files, and names unreadable and non-YAML files', () => {
    const dir = tmp();
    const a = join(dir, 'a.yaml');
    const b = join(dir, 'b.yaml');
    const c = join(dir, 'c.yaml');
    writeFileSync(a, 'rules: [{ id: x, kind: agent_offline, severity: warning, summary: s }]\n');
    writeFileSync(b, 'rules: [{ id: x, kind: agent_offline, severity: critical, summary: s }]\n');
    writeFileSync(c, 'rules: [ {\n');
    const problems = problemsOf(() => loadAlertRuleSet({ files: [a, b, c, join(dir, 'missing.yaml')], defaults: false }));
    expect(problems[0]).toMatch(/^.*c\.yaml: /);
    expect(problems).toContain(`${join(dir, 'missing.yaml')}: cannot read: ENOENT: no such file or directory, open '${join(dir, 'missing.yaml')}'`);
    expect(problems).toContain(`${b}: rules[0].id: rule x is already defined in ${a}`);
  });

  it.each([
    [{ id: 'rack_inlet', name: undefined }, 'RackInlet'],
    [{ id: 'x', name: 'Custom' }, 'Custom'],
    [{ id: '9lives', name: undefined }, 'Rule9lives'],
  ])('alertname of %o is %s', (rule, name) => expect(alertName(rule)).toBe(name));

  it.each([
    [0, '0ms'],
    [300_000, '5m'],
    [90_000, '1m30s'],
    [86_400_000 + 3_600_000, '1d1h'],
  ])('formats %i ms as %s', (ms, text) => expect(formatDuration(ms)).toBe(text));

  it.each([
    [500, '1秒'],
    [3_900_000, '1小时5分'],
    [90_061_000, '1天1小时1分1秒'],
    [-1, '-'],
  ])('spells %i ms in Chinese units as %s', (ms, text) => expect(spellDuration(ms, ['天', '小时', '分', '秒'])).toBe(text));
});
