import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { DcimError } from '../../contract/errors.js';

/**
 * The one config loader: YAML file → zod schema → domain type. Every problem is reported at
 * once, each as `file: path.to[3].field: message`.
 */
export function formatIssues(file: string, error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path
      .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
      .join('');
    return `${file}: ${path || '(root)'}: ${issue.message}`;
  });
}

export function parseWith<S extends z.ZodType>(schema: S, data: unknown, file: string): z.infer<S> {
  const r = schema.safeParse(data);
  if (!r.success) {
    const details = formatIssues(file, r.error);
    throw new DcimError('DCIM_E_CONFIG_INVALID', `${file}: ${details.length} problem(s)`, details);
  }
  return r.data;
}

export function parseYamlText(text: string, file: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new DcimError('DCIM_E_CONFIG_UNREADABLE', `${file}: not valid YAML`, doc.errors.map((e) => `${file}: ${e.message.split('\n')[0]}`));
  }
  return doc.toJS();
}

export function loadYamlFile<S extends z.ZodType>(schema: S, file: string): z.infer<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new DcimError('DCIM_E_CONFIG_UNREADABLE', `${file}: cannot read: ${(e as Error).message}`);
  }
  return parseWith(schema, parseYamlText(text, file), file);
}
