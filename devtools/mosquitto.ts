import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ok } from '../shared/result.js';
import { isListening } from './free-port.js';
import { LocalService, LOOPBACK, launch, type Launched } from './local-service.js';
import type { ManagedProcess } from './managed-process.js';

const run = promisify(execFile);

export interface MqttUser {
  readonly username: string;
  readonly password: string;
}

export interface MosquittoOptions {
  /** With users the broker refuses anonymous clients and checks a password file. */
  readonly users?: readonly MqttUser[];
  /** Extra mosquitto.conf lines, e.g. the queue limits a collector's persistent session needs. */
  readonly config?: readonly string[];
}

export class Mosquitto extends LocalService {
  constructor(
    proc: ManagedProcess,
    port: number,
    data_dir: string,
    readonly users: readonly MqttUser[],
  ) {
    super('mosquitto', proc, port, `mqtt://${LOOPBACK}:${port}`, data_dir);
  }
}

/** mosquitto 2.x on a free loopback port, persistence in its temp dir. */
export async function startMosquitto(opts: MosquittoOptions = {}): Promise<Launched<Mosquitto>> {
  const users = opts.users ?? [];
  const launched = await launch({
    service: 'mosquitto',
    binary: ['mosquitto'],
    helpers: users.length > 0 ? [['mosquitto_passwd']] : [],
    port_count: 1,
    prepare: async ({ ports, dir, helpers }) => {
      const [port] = ports as [number];
      // mosquitto.conf has no quoting: a value ends at whitespace.
      if (/\s/.test(dir)) throw new Error(`mosquitto cannot use a data dir with spaces: ${dir}`);
      const lines = [
        `listener ${port} ${LOOPBACK}`,
        `allow_anonymous ${users.length === 0}`,
        'persistence true',
        `persistence_location ${dir}${path.sep}`,
        'log_dest stderr',
        'log_type error warning notice information',
        'connection_messages true',
      ];
      lines.push(...(opts.config ?? []));
      if (users.length > 0) {
        const passwordFile = path.join(dir, 'passwd');
        await writePasswordFile(helpers[0] as string, passwordFile, users);
        lines.push(`password_file ${passwordFile}`);
      }
      // As root, mosquitto 2 switches to user "mosquitto", who cannot read our 0700 temp dir.
      if (process.getuid?.() === 0) lines.push('user root');
      const conf = path.join(dir, 'mosquitto.conf');
      await writeFile(conf, `# written by devtools/mosquitto.ts\n${lines.join('\n')}\n`);
      return { args: ['-c', conf], probe: () => isListening(port) };
    },
  });
  if (!launched.ok) return launched;
  const { proc, ports, dir } = launched.value;
  return ok(new Mosquitto(proc, ports[0] as number, dir, users));
}

async function writePasswordFile(mosquittoPasswd: string, file: string, users: readonly MqttUser[]): Promise<void> {
  await writeFile(file, '', { mode: 0o600 });
  for (const { username, password } of users) {
    // -b takes the password from argv: fine for throwaway test credentials.
    await run(mosquittoPasswd, ['-b', file, username, password]);
  }
}
