import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { command } from '../../../cli/commands/broker-config.js';
import type { SiteInventory } from '../../../contract/inventory.js';
import { makeTestCertificates } from '../../support/test-ca.js';

/**
 * A broker set up as docs/security.md deploys it: `dcim broker-config` writes the ACL and the
 * password file from the inventory, and the shipped collector/deploy/mosquitto-dcim-auth.conf
 * points at them. The shipped plaintext listener becomes the test launcher's loopback one; the
 * shipped TLS listener moves to `tlsPort` on loopback with a throwaway CA, and takes each client
 * certificate's CN as the user name (the certificate identity variant), so one broker serves both
 * kinds of identity under the same ACL.
 */
const ROOT = path.resolve(import.meta.dirname, '../../..');

export interface SecuredBrokerFiles {
  /** mosquitto.conf lines to hand to startMosquitto({ config }). */
  config: string[];
  /** PEM files by name: ca, and <user>.pem / <user>.key for each user. */
  pem: (name: string) => Buffer;
}

export async function securedBrokerFiles(dir: string, inventory: SiteInventory, passwords: Readonly<Record<string, string>>, tlsPort: number): Promise<SecuredBrokerFiles> {
  const passwordDir = path.join(dir, 'passwords');
  const outDir = path.join(dir, 'out');
  mkdirSync(passwordDir, { recursive: true, mode: 0o700 });
  for (const [user, pw] of Object.entries(passwords)) writeFileSync(path.join(passwordDir, user), `${pw}\n`, { mode: 0o600 });
  const seed = path.join(dir, 'site.json');
  writeFileSync(seed, JSON.stringify(inventory));
  const log = console.log;
  console.log = () => undefined;
  try {
    const rc = await command.run(['--inventory', seed, '--password-dir', passwordDir, '--out', outDir]);
    if (rc !== 0) throw new Error(`dcim broker-config exited ${rc}`);
  } finally {
    console.log = log;
  }
  makeTestCertificates(dir, Object.keys(passwords));
  const shipped = readFileSync(path.join(ROOT, 'collector/deploy/mosquitto-dcim-auth.conf'), 'utf8')
    .split('\n')
    .map((l) => l.trim());
  const config: string[] = [];
  for (const l of shipped) {
    if (l === '' || (l.startsWith('#') && l !== '# use_identity_as_username true')) continue;
    // The launcher opens the plaintext loopback listener itself.
    if (/^listener 1883\b/.test(l)) continue;
    if (/^listener 8883\b/.test(l)) config.push(`listener ${tlsPort} 127.0.0.1`);
    else if (l === 'require_certificate false') config.push('require_certificate true');
    else if (l === '# use_identity_as_username true') config.push('use_identity_as_username true');
    else config.push(l.replace('/etc/mosquitto/dcim/passwd', path.join(outDir, 'passwd')).replace('/etc/mosquitto/dcim/acl', path.join(outDir, 'acl')).replace('/etc/mosquitto/dcim/', `${dir}/`));
  }
  return { config, pem: (name) => readFileSync(path.join(dir, name)) };
}
