import { rename, writeFile } from 'node:fs/promises';
import type { SiteTruth } from './truth-recorder.js';

/**
 * The truth file: one JSON document (a SiteTruth, or `{sites: SiteTruth[]}` for several),
 * rewritten whole each time. Written to a temporary file beside it and renamed, so a reader
 * never sees half a document.
 */
export async function writeTruthFile(path: string, truth: SiteTruth | { sites: SiteTruth[] }): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(truth)}\n`, 'utf8');
  await rename(tmp, path);
}
