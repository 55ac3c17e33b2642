import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * A throwaway CA in `dir` (ca.pem, ca.key), a broker certificate for 127.0.0.1 (broker.pem,
 * broker.key: CN and subjectAltName IP:127.0.0.1, so a client checking the name accepts it) and
 * one client certificate per user whose CN is the user name (<user>.pem, <user>.key), for
 * mosquitto's use_identity_as_username. P-256 keys: quick to make on a busy machine.
 */
export function makeTestCertificates(dir: string, users: readonly string[] = []): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
  ssl('req', '-x509', ...key, '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=dcim test CA');
  writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  const issue = (name: string, cn: string, ext: string[] = []) => {
    ssl('req', ...key, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', ...ext);
  };
  issue('broker', '127.0.0.1', ['-extfile', 'san.ext']);
  for (const u of users) issue(u, u);
}
