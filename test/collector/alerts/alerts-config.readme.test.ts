import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseYamlText } from '../../../shared/config/load.js';
import { AlertsConfigSchema } from '../../../collector/alerts/alerts-config.js';
import { loadAlertRuleSet } from '../../../collector/alerts/load-rules.js';
import { TEMPLATE_VARS } from '../../../collector/alerts/alert-template.js';
import { findBinary } from '../../support/find-binary.js';
import { servicePolicy } from '../../support/require-service.js';
import { repoPath } from '../../support/repo-path.js';

/** collector/README.md "Alerts" must stay true: its examples parse, its lists match the code. */
const README = readFileSync(repoPath('collector', 'README.md'), 'utf8');
const section = (title: string) => {
  const start = README.indexOf(`\n${title}\n`);
  expect(start, title).toBeGreaterThan(0);
  const rest = README.slice(start + title.length + 2);
  const end = rest.search(/\n##+ /);
  return end < 0 ? rest : rest.slice(0, end);
};
const yamlBlocks = (text: string) => [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string);

describe('collector/README.md, section Alerts', () => {
  it('the rule-format example loads on top of the defaults', () => {
    const [example] = yamlBlocks(section('### Rule format'));
    const file = join(mkdtempSync(join(tmpdir(), 'dcim-readme-rules-')), 'alerts.yaml');
    writeFileSync(file, example as string);
    const set = loadAlertRuleSet({ files: [file] });
    expect(set.rules.find((r) => r.id === 'rack_inlet_temperature')).toMatchObject({ scope: 'rack', bands: { warning: { above: 25 } } });
    expect(set.rules.map((r) => r.id)).toEqual(expect.arrayContaining(['chiller_compressor_alarm', 'pue_month']));
    expect(set.rules.some((r) => r.id === 'green_share_target')).toBe(false);
  });

  it('the configuration example is a valid alerts section', () => {
    const [example] = yamlBlocks(section('### Configuration'));
    const parsed = AlertsConfigSchema.safeParse((parseYamlText(example as string, 'README') as { alerts: unknown }).alerts);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  });

  it('lists every placeholder and every built-in rule', () => {
    const rules = section('### Rule format');
    for (const v of TEMPLATE_VARS) expect(rules).toContain(`{${v}}`);
    const defaults = section('### Built-in rules (`alerts/default-rules.yaml`)');
    for (const r of loadAlertRuleSet().rules) expect(defaults).toContain(`\`${r.id}\``);
  });

  it('the Alertmanager routing example passes amtool check-config', async () => {
    const amtool = findBinary(['amtool']);
    if (!amtool.ok) {
      if (servicePolicy().required) throw new Error(`amtool unavailable: ${amtool.reason}`);
      console.warn(`SKIPPED: ${amtool.reason}`);
      return;
    }
    const example = yamlBlocks(section('### Notifiers')).find((b) => b.startsWith('route:')) as string;
    const file = join(mkdtempSync(join(tmpdir(), 'dcim-readme-am-')), 'alertmanager.yml');
    writeFileSync(file, example);
    const { stdout } = await promisify(execFile)(amtool.value, ['check-config', file]);
    expect(stdout).toMatch(/SUCCESS/);
  });
});
