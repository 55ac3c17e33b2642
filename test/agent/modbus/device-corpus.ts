import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { fail, ok } from '../../../shared/result.js';
import type { Launched } from '../../support/local-service.js';
import { findPymodbusPython } from '../support/services.js';

/**
 * The device corpus (test/fixtures/devices/): its Modbus fixtures, and the pymodbus server that
 * serves them (modbus-corpus-server.py) on one loopback port, one unit id per fixture.
 */
export const CORPUS_DIR = join(import.meta.dirname, '..', '..', 'fixtures', 'devices');

export interface ModbusFixture {
  name: string;
  profile: string;
  unit_id: number;
  /** Hand-worked engineering values; null: the device marks the value not available. */
  readings: Record<string, number | string | null>;
  /** A test file of its own reads this fixture (`meters`: test/profiles/devices.meter-corpus.pymodbus.test.ts). */
  suite?: string;
  /** Whether `dcim poll --detect` can name the profile (false: the device has no identification registers). */
  detect?: boolean;
}

export function modbusFixtures(): ModbusFixture[] {
  return readdirSync(CORPUS_DIR)
    .filter((d) => existsSync(join(CORPUS_DIR, d, 'registers.yaml')))
    .sort()
    .map((d) => ({ name: d, ...(parse(readFileSync(join(CORPUS_DIR, d, 'expected.yaml'), 'utf8')) as Omit<ModbusFixture, 'name'>) }));
}

export interface CorpusServer {
  port: number;
  stop(): Promise<void>;
}

export async function startModbusCorpus(): Promise<Launched<CorpusServer>> {
  const py = findPymodbusPython();
  if (!py) return fail({ service: 'pymodbus', reason: 'no python3 with pymodbus (apt-get install python3-pymodbus)' });
  const child = spawn(py, [join(CORPUS_DIR, 'modbus-corpus-server.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
  // The register images as JSON on stdin: the server needs no YAML parser.
  const images = Object.fromEntries(
    readdirSync(CORPUS_DIR)
      .filter((d) => existsSync(join(CORPUS_DIR, d, 'registers.yaml')))
      .map((d) => [d, parse(readFileSync(join(CORPUS_DIR, d, 'registers.yaml'), 'utf8')) as unknown]),
  );
  child.stdin?.end(JSON.stringify(images));
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const t = setTimeout(() => child.kill('SIGKILL'), 2000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.kill('SIGTERM');
    });
  const port = await new Promise<number | undefined>((resolve) => {
    let out = '';
    const t = setTimeout(() => resolve(undefined), 15_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY tcp=(\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', () => resolve(undefined));
  });
  if (port === undefined) {
    await stop();
    throw new Error(`modbus-corpus-server.py did not start: ${stderr.slice(-800)}`);
  }
  return ok({ port, stop });
}
