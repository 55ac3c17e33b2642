import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PAGE_BUNDLE, bundlePageScript } from '../collector/live/page-script.js';

/**
 * `npm run build`: the TypeScript compile (tsconfig.build.json) and then the live page's browser
 * bundle next to the compiled live page, which reads it from there (the compiled code carries no
 * bundler). `--out-dir` builds elsewhere than dist/ (the scripts' test builds into a temp folder).
 */
const USAGE = `Usage: npm run build [-- --out-dir <dir>]
  Compiles with tsconfig.build.json into <dir> (default dist/) and writes the live page's
  browser bundle to <dir>/collector/live/${PAGE_BUNDLE}.`;

const ROOT = resolve(import.meta.dirname, '..');

function main(): number {
  const { values } = parseArgs({ options: { 'out-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  const outDir = resolve(values['out-dir'] ?? join(ROOT, 'dist'));
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', outDir], { stdio: 'inherit' });
  if (tsc.status !== 0) return tsc.status ?? 1;
  const bundle = join(outDir, 'collector/live', PAGE_BUNDLE);
  mkdirSync(dirname(bundle), { recursive: true });
  writeFileSync(bundle, bundlePageScript());
  console.log(`built ${outDir} (live page bundle: ${bundle})`);
  return 0;
}

process.exitCode = main();
