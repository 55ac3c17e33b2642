import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DcimError } from '../../../contract/index.js';
import { ALLOW_INSECURE_SECRET_FILES_ENV, modeProblem, readSecretFile, resolveSecret } from '../../../shared/config/secrets.js';
import { memoryLogger } from '../../../shared/log.js';

const dir = mkdtempSync(join(tmpdir(), 'dcim-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** A fresh file per case: the warning is given once per file and process. */
function secretFile(mode: number, text = 's3cret-value\n'): string {
  const f = join(dir, `secret-${n++}.txt`);
  writeFileSync(f, text);
  chmodSync(f, mode); // explicit: the umask must not decide what the test checks
  return f;
}

function refusal(run: () => unknown): DcimError {
  try {
    run();
  } catch (e) {
    if (e instanceof DcimError) return e;
    throw e;
  }
  throw new Error('expected a DcimError');
}

describe('secret files and their permissions', () => {
  it.each([0o600, 0o400, 0o700, 0o611, 0o601])('mode %o (no read or write for group and others) is read', (mode) => {
    expect(resolveSecret({ file: secretFile(mode) }, 'mqtt.password', {})).toBe('s3cret-value');
  });

  it.each([
    [0o644, 'group may read it, others may read it'],
    [0o640, 'group may read it'],
    [0o604, 'others may read it'],
    [0o620, 'group may write it'],
    [0o602, 'others may write it'],
    [0o666, 'group may read and write it, others may read and write it'],
  ])('mode %o is refused with DCIM_E_SECRET_FILE_INSECURE naming the file and the mode', (mode, problem) => {
    const f = secretFile(mode);
    const e = refusal(() => resolveSecret({ file: f }, 'store.token', {}));
    expect(e.code).toBe('DCIM_E_SECRET_FILE_INSECURE');
    expect(e.message).toContain('store.token');
    expect(e.message).toContain(f);
    expect(e.message).toContain(`mode 0${mode.toString(8)}`);
    expect(e.message).toContain(problem);
    expect(e.message).not.toContain('s3cret-value');
  });

  it('the mode of the file a symlink points to is what counts', () => {
    const target = secretFile(0o644);
    const link = join(dir, `link-${n++}`);
    symlinkSync(target, link);
    expect(refusal(() => resolveSecret({ file: link }, 'http.token', {})).code).toBe('DCIM_E_SECRET_FILE_INSECURE');
    chmodSync(target, 0o600);
    expect(resolveSecret({ file: link }, 'http.token', {})).toBe('s3cret-value');
  });

  it(`${ALLOW_INSECURE_SECRET_FILES_ENV}=1 accepts an insecure file and warns once per file, without the secret`, () => {
    const f = secretFile(0o644);
    const g = secretFile(0o664);
    const logger = memoryLogger();
    const env = { [ALLOW_INSECURE_SECRET_FILES_ENV]: '1' };
    for (let i = 0; i < 3; i++) {
      expect(resolveSecret({ file: f }, 'mqtt.password', env, { logger })).toBe('s3cret-value');
      expect(resolveSecret({ file: g }, 'devices[0].address.auth_key', env, { logger })).toBe('s3cret-value');
    }
    expect(logger.lines).toHaveLength(2);
    expect(logger.lines[0]).toMatchObject({ level: 'warn', code: 'DCIM_E_SECRET_FILE_INSECURE', file: f, mode: '0644', setting: 'mqtt.password' });
    expect(logger.lines[1]).toMatchObject({ file: g, mode: '0664' });
    expect(JSON.stringify(logger.lines)).not.toContain('s3cret-value');
  });

  it.each(['0', 'false', '', 'no', 'on'])('%j in the allow variable does not allow', (value) => {
    const f = secretFile(0o640);
    expect(refusal(() => resolveSecret({ file: f }, 'x', { [ALLOW_INSECURE_SECRET_FILES_ENV]: value })).code).toBe('DCIM_E_SECRET_FILE_INSECURE');
  });

  it('a TLS private key is read as bytes under the same rule', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n';
    expect(readSecretFile(secretFile(0o600, pem), 'mqtt.tls.key', {}).toString()).toBe(pem);
    expect(refusal(() => readSecretFile(secretFile(0o644, pem), 'mqtt.tls.key', {})).code).toBe('DCIM_E_SECRET_FILE_INSECURE');
  });

  it('a missing file is DCIM_E_SECRET_MISSING, as before', () => {
    expect(refusal(() => resolveSecret({ file: join(dir, 'nope') }, 'x', {})).code).toBe('DCIM_E_SECRET_MISSING');
  });

  it('inline strings and environment variables are not files: no mode to check', () => {
    expect(resolveSecret('public', 'community', {})).toBe('public');
    expect(resolveSecret({ env: 'T' }, 'token', { T: 'abc' })).toBe('abc');
  });

  it('modeProblem ignores execute bits and the owner', () => {
    expect(modeProblem(0o100711)).toBeUndefined();
    expect(modeProblem(0o100700)).toBeUndefined();
    expect(modeProblem(0o100740)).toBe('group may read it');
  });
});
