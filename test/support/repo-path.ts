import { join } from 'node:path';

/** The repository's root, so a test names a file the same way wherever the test lives. */
export const REPO_ROOT = join(import.meta.dirname, '..', '..');

/** A path inside the repository: `repoPath('seeds', 'demo.yaml')` or `repoPath('seeds/demo.yaml')`. */
export const repoPath = (...parts: string[]): string => join(REPO_ROOT, ...parts);
