import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { freePort } from '../support/services.js';

const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The protocol libraries are loaded when a device first needs them, not with the agent: an SNMP
 * v1/v2c site (the lean codec) never loads net-snmp or modbus-serial, which would cost ~10 MB of
 * RSS at start. In a fresh process, as an agent starts.
 */
describe('protocol libraries load on first use', () => {
  it('net-snmp at the first v3 session, modbus-serial at the first Modbus connection; neither for v2c GETs', async () => {
    const udp = await freePort();
    const tcp = await freePort();
    const { stdout } = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'agent', 'fixtures', 'reader-libraries.ts'), String(udp), String(tcp)], { cwd: ROOT, timeout: 120_000 });
    const stages = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { stage: string; net_snmp: boolean; modbus_serial: boolean });
    expect(stages).toEqual([
      { stage: 'imported', net_snmp: false, modbus_serial: false },
      { stage: 'readers built', net_snmp: false, modbus_serial: false },
      { stage: 'v2c read', net_snmp: false, modbus_serial: false },
      { stage: 'modbus read', net_snmp: false, modbus_serial: true },
      { stage: 'v3 read', net_snmp: true, modbus_serial: true },
    ]);
  }, 150_000);
});
