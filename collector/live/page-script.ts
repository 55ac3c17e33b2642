import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type * as esbuild from 'esbuild';

/**
 * The live page's browser code (page/*.ts, type-checked and linted with the rest) as one script
 * bundled by esbuild: an IIFE that assigns the global `dcimLivePage` (page/main.ts's exports).
 *
 * Compiled (`npm run build`), the bundle is a file next to this module, written by the build
 * (devtools/build.ts), so a deployed collector needs no bundler. Run from the TypeScript sources
 * (tsx, vitest), it is bundled on first use, in memory: there is no generated file that could be
 * older than the sources.
 */
export const PAGE_GLOBAL = 'dcimLivePage';
/** Where the build puts the bundle, relative to this module's compiled file. */
export const PAGE_BUNDLE = 'page/bundle.js';

const ENTRY = fileURLToPath(new URL('./page/main.ts', import.meta.url));

/** esbuild's options for the page; the build and the run from sources use the same. */
export function pageBuildOptions(): esbuild.BuildOptions & { write: false } {
  return {
    entryPoints: [ENTRY],
    bundle: true,
    format: 'iife',
    globalName: PAGE_GLOBAL,
    platform: 'browser',
    target: 'es2022',
    charset: 'utf8',
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
  };
}

/** Bundles page/main.ts now (esbuild is a development dependency: only the sources need it). */
export function bundlePageScript(): string {
  const { buildSync } = createRequire(import.meta.url)('esbuild') as typeof esbuild;
  const out = buildSync(pageBuildOptions());
  const file = out.outputFiles[0];
  if (file === undefined) throw new Error('live page: esbuild produced no output');
  return file.text;
}

let cached: string | undefined;

/** The bundle as it goes into the page's inline `<script>` (see inlineSafe). */
export function pageScript(): string {
  if (cached === undefined) {
    const fromSources = import.meta.url.endsWith('.ts');
    const text = fromSources ? bundlePageScript() : readFileSync(new URL(PAGE_BUNDLE, import.meta.url), 'utf8');
    cached = inlineSafe(text);
  }
  return cached;
}

/** `</script` (any case) as `<\/script`, which ends no element and means the same to JavaScript. */
export function inlineSafe(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1');
}
