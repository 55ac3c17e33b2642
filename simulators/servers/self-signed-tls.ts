import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TlsMaterial } from './redfish-endpoint.js';

/**
 * A throw-away self-signed certificate for the simulated BMCs, made with the `openssl` command
 * at start (node:crypto makes keys but not X.509 certificates). BMCs ship self-signed
 * certificates too, which is why the agent has `verify_tls: false` for lab networks. One
 * certificate serves every BMC of the process (CN localhost, SAN 127.0.0.1 and localhost).
 */
const run = promisify(execFile);

export async function selfSignedTls(openssl = 'openssl'): Promise<TlsMaterial> {
  const dir = await mkdtemp(join(tmpdir(), 'dcim-sim-tls-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    await run(openssl, [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '30',
      '-subj', '/CN=localhost/O=dcim-pulse simulator', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', key, '-out', cert,
    ]).catch((e: unknown) => {
      throw new Error(`cannot make a self-signed certificate for the HTTPS BMCs with ${openssl}: ${(e as Error).message}; install openssl or give the Redfish devices scheme: http`);
    });
    return { key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
