import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DcimError } from './errors.js';

/**
 * A secret is given by reference: `{env: NAME}` or `{file: path}`. A plain string is allowed
 * for non-secret defaults such as the community "public" on a lab device.
 */
export const SecretRefSchema = z.union([
  z.string(),
  z.object({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/) }).strict(),
  z.object({ file: z.string().min(1) }).strict(),
]);
export type SecretRef = z.infer<typeof SecretRefSchema>;

export function resolveSecret(ref: SecretRef, what: string, env: NodeJS.ProcessEnv = process.env): string {
  if (typeof ref === 'string') return ref;
  if ('env' in ref) {
    const v = env[ref.env];
    if (v === undefined) throw new DcimError('DCIM_E_SECRET_MISSING', `${what}: environment variable ${ref.env} is not set`);
    return v;
  }
  try {
    return readFileSync(ref.file, 'utf8').replace(/\r?\n$/, '');
  } catch (e) {
    throw new DcimError('DCIM_E_SECRET_MISSING', `${what}: cannot read secret file ${ref.file}: ${(e as Error).message}`);
  }
}
