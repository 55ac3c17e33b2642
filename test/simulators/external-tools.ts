import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

/**
 * Third-party clients the simulator tests read through (net-snmp's snmpget/snmpwalk, mbpoll,
 * pymodbus). They run as child processes, asynchronously: the simulator under test lives in
 * this process and must keep serving while they wait.
 */
const execFileAsync = promisify(execFile);

export function onPath(tool: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, tool)));
}

/**
 * Which of `tools` are missing. A missing tool skips the suite with the reason in its name,
 * unless DCIM_REQUIRE_SERVICES=1, where it is a failure (CI must have them).
 */
export function missingTools(tools: readonly string[]): string[] {
  const missing = tools.filter((t) => !onPath(t));
  if (missing.length > 0 && process.env.DCIM_REQUIRE_SERVICES === '1') {
    throw new Error(`DCIM_REQUIRE_SERVICES=1 but ${missing.join(', ')} not on PATH (apt-get install snmp mbpoll)`);
  }
  if (missing.length > 0) console.warn(`simulator tests skipped: ${missing.join(', ')} not on PATH`);
  return missing;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function run(cmd: string, args: readonly string[], timeoutMs = 10_000): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileAsync(cmd, [...args], { encoding: 'utf8', timeout: timeoutMs });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number | string; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

/**
 * `snmpget -On -Oe` output lines → {oid: "TYPE: value"} ("No Such Instance …" kept verbatim).
 * A walk that reaches the end of the agent's MIB ends with an endOfMibView line repeating the
 * last OID (RFC 3416 §4.2.2); it is not a value, so it is left out.
 */
export function parseSnmpOutput(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const m = /^\.?([\d.]+) = (.*)$/.exec(line.trim());
    if (m && !m[2]!.startsWith('No more variables left in this MIB View')) out.set(m[1]!, m[2]!);
  }
  return out;
}

/** The integer of an `INTEGER: 809` style value. */
export function snmpInt(value: string | undefined): number {
  const m = /^(?:INTEGER|Counter32|Counter64|Gauge32|Timeticks): \(?(-?\d+)/.exec(value ?? '');
  if (!m) throw new Error(`not an SNMP number: ${value}`);
  return Number(m[1]);
}

/** mbpoll's `[53]: 	9561.14` lines → {reference: value}. */
export function parseMbpoll(stdout: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of stdout.split('\n')) {
    const m = /^\[(\d+)\]:\s+(\S+)/.exec(line.trim());
    if (m) out.set(Number(m[1]), Number(m[2]));
  }
  return out;
}

/** A python3 that can import pymodbus, if any (Debian's python3-pymodbus sits in /usr/bin). */
export async function pythonWithPymodbus(): Promise<string | undefined> {
  for (const py of ['python3', '/usr/bin/python3']) {
    if (py.startsWith('/') ? !existsSync(py) : !onPath(py)) continue;
    const r = await run(py, ['-c', 'import pymodbus']);
    if (r.code === 0) return py;
  }
  return undefined;
}

/**
 * Read input registers with pymodbus: one JSON result per request, `{registers}` or
 * `{exception}`. The unit keyword moved between pymodbus releases (unit → slave → device_id).
 */
const PYMODBUS_READ = `
import inspect, json, sys
from pymodbus.client import ModbusTcpClient
port = int(sys.argv[1])
requests = json.loads(sys.argv[2])
client = ModbusTcpClient('127.0.0.1', port=port, timeout=2)
client.connect()
params = inspect.signature(client.read_input_registers).parameters
key = 'device_id' if 'device_id' in params else 'slave' if 'slave' in params else 'unit'
out = []
for unit, address, count in requests:
    rr = client.read_input_registers(address, count=count, **{key: unit})
    if rr.isError():
        out.append({'exception': getattr(rr, 'exception_code', None)})
    else:
        out.append({'registers': list(rr.registers)})
client.close()
print(json.dumps(out))
`;

export type PymodbusResult = { registers: number[] } | { exception: number | null };

export async function pymodbusRead(python: string, port: number, requests: [unit: number, address: number, count: number][]): Promise<PymodbusResult[]> {
  const r = await run(python, ['-c', PYMODBUS_READ, String(port), JSON.stringify(requests)]);
  if (r.code !== 0) throw new Error(`pymodbus failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as PymodbusResult[];
}
