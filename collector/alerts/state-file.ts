import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { AlertRecordSchema, type AlertRecord } from './alert-record.js';

/**
 * The alert state on disk: one small JSON file, rewritten whole (write a temporary file, then
 * rename, so a crash leaves the old or the new file, never half of one). It keeps every pending,
 * firing and recently resolved alert with its delivery bookkeeping, so after a restart nothing
 * fires twice, nothing firing is forgotten, and owed notifications are still sent.
 */
export const StateFileSchema = z.object({
  schema: z.literal(1),
  saved_at: z.number().int(),
  alerts: z.array(AlertRecordSchema),
});
export type StateFile = z.infer<typeof StateFileSchema>;

export type LoadedState = { ok: true; state: StateFile | undefined } | { ok: false; reason: string };

/** The saved state; `state: undefined` when there is no file yet. Never throws. */
export function readStateFile(file: string): LoadedState {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, state: undefined };
    return { ok: false, reason: `cannot read ${file}: ${(e as Error).message}` };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: `${file} is not JSON: ${(e as Error).message}` };
  }
  const r = StateFileSchema.safeParse(data);
  if (!r.success) return { ok: false, reason: `${file} does not match the alert state schema: ${r.error.issues[0]?.message ?? 'invalid'}` };
  return { ok: true, state: r.data };
}

export function writeStateFile(file: string, alerts: Iterable<AlertRecord>, now_ms: number): void {
  mkdirSync(dirname(file), { recursive: true });
  const state: StateFile = { schema: 1, saved_at: now_ms, alerts: [...alerts] };
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(state));
  renameSync(tmp, file);
}

/** Keep an unreadable state file for inspection instead of overwriting it. */
export function setAsideStateFile(file: string, now_ms: number): string | undefined {
  const aside = `${file}.unreadable-${now_ms}`;
  try {
    renameSync(file, aside);
    return aside;
  } catch {
    return undefined;
  }
}
