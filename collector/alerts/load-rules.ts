import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DcimError } from '../../contract/errors.js';
import { formatIssues, parseYamlText } from '../../shared/config/load.js';
import { unknownPlaceholders } from './alert-template.js';
import { RulesFileSchema, type AlertRule, type InhibitRule } from './rule-schema.js';

/** The rules the engine runs: defaults merged with the site's files, switched-off ones removed. */
export interface AlertRuleSet {
  rules: readonly AlertRule[];
  inhibit: readonly InhibitRule[];
}

/** Where the built-in rules live, from the sources (tsx) and from dist/ alike. */
export function defaultRulesFile(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'default-rules.yaml'), join(here, '..', '..', '..', 'collector', 'alerts', 'default-rules.yaml')];
  return candidates.find((f) => existsSync(f)) ?? (candidates[0] as string);
}

/** The `alertname` of a rule: its `name`, else the id in PascalCase (`rack_inlet` → `RackInlet`). */
export function alertName(rule: Pick<AlertRule, 'id' | 'name'>): string {
  if (rule.name !== undefined) return rule.name;
  const pascal = rule.id
    .split(/[_-]+/)
    .filter((p) => p.length > 0)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');
  return /^[A-Za-z_]/.test(pascal) ? pascal : `Rule${pascal}`;
}

interface ParsedFile {
  file: string;
  rules: AlertRule[];
  disable: string[];
  inhibit: InhibitRule[];
}

function parseRulesFile(file: string, text: string, problems: string[]): ParsedFile | undefined {
  let data: unknown;
  try {
    data = parseYamlText(text, file);
  } catch (e) {
    problems.push(...(e instanceof DcimError && e.details.length > 0 ? e.details : [`${file}: ${(e as Error).message}`]));
    return undefined;
  }
  const r = RulesFileSchema.safeParse(data ?? {});
  if (!r.success) {
    problems.push(...formatIssues(file, r.error));
    return undefined;
  }
  const seen = new Map<string, number>();
  r.data.rules.forEach((rule, i) => {
    const prev = seen.get(rule.id);
    if (prev !== undefined) problems.push(`${file}: rules[${i}].id: duplicate rule id ${rule.id} (also rules[${prev}])`);
    seen.set(rule.id, i);
    for (const field of ['summary', 'description', 'runbook', 'runbook_url'] as const) {
      const text = rule[field];
      if (text === undefined) continue;
      for (const name of unknownPlaceholders(text)) problems.push(`${file}: rules[${i}].${field}: unknown placeholder {${name}}`);
    }
  });
  return { file, ...r.data };
}

/**
 * Load the built-in rules (unless `defaults: false`) and the given files, in order. A file may
 * replace a default by reusing its id and switch rules off with `disable`; two of the site's
 * files defining one id is an error. Every problem of every file is reported at once
 * (`DCIM_E_CONFIG_INVALID`, each detail `file: path: message`).
 */
export function loadAlertRuleSet(opts: { files?: readonly string[]; defaults?: boolean } = {}): AlertRuleSet {
  const sources: { file: string; builtin: boolean }[] = [
    ...(opts.defaults === false ? [] : [{ file: defaultRulesFile(), builtin: true }]),
    ...(opts.files ?? []).map((file) => ({ file, builtin: false })),
  ];
  const problems: string[] = [];
  const parsed: (ParsedFile & { builtin: boolean })[] = [];
  for (const s of sources) {
    let text: string;
    try {
      text = readFileSync(s.file, 'utf8');
    } catch (e) {
      problems.push(`${s.file}: cannot read: ${(e as Error).message}`);
      continue;
    }
    const p = parseRulesFile(s.file, text, problems);
    if (p) parsed.push({ ...p, builtin: s.builtin });
  }
  const set = mergeRuleFiles(parsed, problems);
  if (problems.length > 0) throw new DcimError('DCIM_E_CONFIG_INVALID', `alert rules: ${problems.length} problem(s)`, problems);
  return set;
}

/** Rules from YAML text (tests, tools); same checks as `loadAlertRuleSet` without the defaults. */
export function parseAlertRules(text: string, file = 'rules.yaml'): AlertRuleSet {
  const problems: string[] = [];
  const p = parseRulesFile(file, text, problems);
  const set = p ? mergeRuleFiles([{ ...p, builtin: false }], problems) : { rules: [], inhibit: [] };
  if (problems.length > 0) throw new DcimError('DCIM_E_CONFIG_INVALID', `${file}: ${problems.length} problem(s)`, problems);
  return set;
}

function mergeRuleFiles(files: readonly (ParsedFile & { builtin: boolean })[], problems: string[]): AlertRuleSet {
  const rules = new Map<string, { rule: AlertRule; file: string; builtin: boolean }>();
  const disabled = new Set<string>();
  const inhibit: { rule: InhibitRule; file: string; index: number }[] = [];
  for (const f of files) {
    f.rules.forEach((rule, i) => {
      const prev = rules.get(rule.id);
      if (prev && !prev.builtin && prev.file !== f.file) problems.push(`${f.file}: rules[${i}].id: rule ${rule.id} is already defined in ${prev.file}`);
      rules.set(rule.id, { rule, file: f.file, builtin: f.builtin });
    });
    f.disable.forEach((id, i) => {
      if (!rules.has(id)) problems.push(`${f.file}: disable[${i}]: no rule ${id} is defined before this file`);
      disabled.add(id);
    });
    f.inhibit.forEach((rule, index) => inhibit.push({ rule, file: f.file, index }));
  }
  for (const { rule, file, index } of inhibit) {
    for (const side of ['source', 'target'] as const) {
      (rule[side].rules ?? []).forEach((id, j) => {
        if (!rules.has(id)) problems.push(`${file}: inhibit[${index}].${side}.rules[${j}]: unknown rule ${id}`);
      });
    }
  }
  return {
    rules: [...rules.values()].filter((r) => !disabled.has(r.rule.id)).map((r) => r.rule),
    inhibit: inhibit.map((i) => i.rule),
  };
}
