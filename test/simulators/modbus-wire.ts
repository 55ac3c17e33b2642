import { Socket } from 'node:net';
import { pythonWithPymodbus, run } from './external-tools.js';

/**
 * Raw bytes to a Modbus server and what comes back within a time limit: for the requests
 * third-party clients refuse to send (malformed frames, foreign protocol ids, broadcasts).
 */
export interface Exchange {
  /** Bytes received, concatenated. */
  data: Buffer;
  /** The server closed the connection. */
  closed: boolean;
}

export async function exchange(port: number, chunks: readonly Buffer[], waitMs = 300, gapMs = 0): Promise<Exchange> {
  const socket = new Socket();
  const received: Buffer[] = [];
  let closed = false;
  socket.on('data', (d) => received.push(d));
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(port, '127.0.0.1', () => resolve());
  });
  for (const c of chunks) {
    socket.write(c);
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
  }
  await new Promise((r) => setTimeout(r, waitMs));
  socket.destroy();
  return { data: Buffer.concat(received), closed };
}

/**
 * Read registers with pymodbus over raw RTU frames on TCP (its RTU framer on a TCP client, as
 * for a transparent serial gateway): one JSON result per request. The framer and the unit
 * keyword moved between pymodbus releases; both spellings are handled.
 */
const PYMODBUS_RTU_READ = `
import inspect, json, sys
from pymodbus.client import ModbusTcpClient
try:
    from pymodbus.framer import FramerType
    framer = FramerType.RTU
except ImportError:
    from pymodbus.transaction import ModbusRtuFramer as framer
port = int(sys.argv[1])
requests = json.loads(sys.argv[2])
client = ModbusTcpClient('127.0.0.1', port=port, framer=framer, timeout=1, retries=0)
client.connect()
out = []
for kind, unit, address, count in requests:
    fn = client.read_input_registers if kind == 'input' else client.read_holding_registers
    params = inspect.signature(fn).parameters
    key = 'device_id' if 'device_id' in params else 'slave' if 'slave' in params else 'unit'
    rr = fn(address, count=count, **{key: unit})
    if rr.isError():
        out.append({'exception': getattr(rr, 'exception_code', None)})
    else:
        out.append({'registers': list(rr.registers)})
client.close()
print(json.dumps(out))
`;

export type RtuReadResult = { registers: number[] } | { exception: number | null };

export async function pymodbusRtuRead(python: string, port: number, requests: ['input' | 'holding', number, number, number][]): Promise<RtuReadResult[]> {
  const r = await run(python, ['-c', PYMODBUS_RTU_READ, String(port), JSON.stringify(requests)], 30_000);
  if (r.code !== 0) throw new Error(`pymodbus failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as RtuReadResult[];
}

/**
 * A python3 with pymodbus, or undefined with the skip reason printed; a failure instead when
 * DCIM_REQUIRE_SERVICES=1 (CI installs python3-pymodbus).
 */
export async function pymodbusOrSkip(): Promise<string | undefined> {
  const python = await pythonWithPymodbus();
  if (python) return python;
  if (process.env.DCIM_REQUIRE_SERVICES === '1') throw new Error('DCIM_REQUIRE_SERVICES=1 but no python3 with pymodbus (apt-get install python3-pymodbus)');
  console.warn('simulator tests skipped: no python3 with pymodbus');
  return undefined;
}
