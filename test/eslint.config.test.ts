import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * The folder-import rule in eslint.config.js: each top-level folder imports only the folders it may
 * build on. Linted as if the snippet were a file at the given path, through the project's own config.
 */
const root = join(import.meta.dirname, '..');
const eslint = new ESLint({ cwd: root });

async function folderProblems(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, path) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'dcim/folder-imports').map((m) => m.message);
}

describe('the folder-import rule', () => {
  it('refuses an import across program folders, in every import form', async () => {
    expect(await folderProblems('agent/x.ts', "import { Collector } from '../collector/collector.js';\nexport { Collector };\n")).toEqual([
      'agent/ may not import from collector/ (it may import: contract, shared, profiles).',
    ]);
    expect(await folderProblems('collector/kpi/x.ts', "export * from '../../simulators/sim-site.js';\n")).toHaveLength(1);
    expect(await folderProblems('simulators/x.ts', "export { Agent } from '../agent/agent.js';\n")).toHaveLength(1);
    expect(await folderProblems('agent/x.ts', "export const load = () => import('../collector/collector.js');\n")).toHaveLength(1);
    expect(await folderProblems('agent/x.ts', "export type C = import('../collector/collector.js').Collector;\n")).toHaveLength(1);
  });

  it('keeps the contract at the bottom and the shared library below the profiles', async () => {
    expect(await folderProblems('contract/x.ts', "import type { Logger } from '../shared/log.js';\nexport type L = Logger;\n")).toEqual([
      'contract/ may not import from shared/ (it may import: nothing).',
    ]);
    expect(await folderProblems('shared/x.ts', "import { loadProfiles } from '../profiles/catalogue.js';\nexport { loadProfiles };\n")).toHaveLength(1);
    expect(await folderProblems('bench/x.ts', "import { until } from '../test/support/until.js';\nexport { until };\n")).toHaveLength(1);
    expect(await folderProblems('devtools/x.ts', "import { until } from '../test/support/until.js';\nexport { until };\n")).toHaveLength(1);
  });

  it('lets a folder import itself and the folders below it', async () => {
    expect(await folderProblems('agent/x.ts', "import { topics } from '../contract/index.js';\nimport { createLogger } from '../shared/log.js';\nimport { loadProfiles } from '../profiles/catalogue.js';\nimport { Agent } from './agent.js';\nexport { topics, createLogger, loadProfiles, Agent };\n")).toEqual([]);
    expect(await folderProblems('cli/x.ts', "import { Agent } from '../agent/agent.js';\nimport { Collector } from '../collector/collector.js';\nexport { Agent, Collector };\n")).toEqual([]);
    expect(await folderProblems('test/x.test.ts', "import { until } from './support/until.js';\nimport { Agent } from '../agent/agent.js';\nexport { until, Agent };\n")).toEqual([]);
  });
});
