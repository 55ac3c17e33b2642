import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fail, ok } from '../../shared/result.js';

/**
 * Headless Chromium (Debian's `chromium`, driven by playwright-core) for the live page tests.
 * Only the few playwright calls the tests use are typed here: playwright-core is imported
 * dynamically, so a machine without it skips (or fails under DCIM_REQUIRE_SERVICES=1).
 */
export const CHROMIUM = '/usr/bin/chromium';

export interface Browser {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}
export interface Page {
  goto(url: string): Promise<unknown>;
  waitForFunction<A>(fn: (arg: A) => unknown, arg: A, opts?: { timeout: number }): Promise<unknown>;
  evaluate<T, A>(fn: (arg: A) => T, arg: A): Promise<T>;
  screenshot(opts: { path: string; fullPage: boolean }): Promise<unknown>;
  click(selector: string): Promise<void>;
  on(event: 'pageerror', fn: (e: Error) => void): void;
  on(event: 'console', fn: (m: { type(): string; text(): string }) => void): void;
  close(): Promise<void>;
}

export async function startChromium(viewport: { width: number; height: number } = { width: 1280, height: 720 }) {
  if (!existsSync(CHROMIUM)) return fail({ service: 'chromium', reason: `${CHROMIUM} not found (apt-get install chromium)` });
  let pw: { chromium: { launchPersistentContext(dir: string, o: unknown): Promise<Browser> } };
  try {
    pw = (await import('playwright-core' as string)) as typeof pw;
  } catch {
    return fail({ service: 'chromium', reason: 'playwright-core is not installed (npm install playwright-core)' });
  }
  const profile = mkdtempSync(join(tmpdir(), 'dcim-chromium-'));
  // A fresh profile folder per run (playwright passes it as --user-data-dir).
  const browser = await pw.chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return ok({
    browser,
    async stop() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  });
}
