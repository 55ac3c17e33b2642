import { z } from 'zod';

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
