import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SiteInventorySchema } from '../../contract/index.js';
import { memoryLogger } from '../../shared/log.js';
import { GUIAN, bigSite, type HallSpec } from '../../seeds/generate.js';
import { noiseAmplitude } from '../../simulators/encode/measurement-noise.js';
import { startSimSite, type SimSite } from '../../simulators/index.js';
import { missingTools, parseMbpoll, parseSnmpOutput, run, snmpInt } from './external-tools.js';
import { pymodbusOrSkip, pymodbusRtuRead } from './modbus-wire.js';

/**
 * Scale, not speed: one process serves more than 10,000 devices of a generated Gui'an-like
 * site, and a sample of them (the last of each port, where an off-by-one would show) answers
 * with its own values. bench/sim-scale.ts measures time, memory and CPU.
 */
const missing = missingTools(['snmpget', 'mbpoll']);
const suite = missing.length > 0 ? describe.skip : describe;
const skipNote = missing.length > 0 ? ` (skipped: ${missing.join(', ')} not on PATH)` : '';
const python = await pymodbusOrSkip();
const withPymodbus = python ? it : it.skip;

const HALLS = 20;
const halls: HallSpec[] = Array.from({ length: HALLS }, (_, h) => ({ ...GUIAN.halls[h % 2]!, id: `h${h + 1}`, name: `Hall ${h + 1}` }));
const { header: _header, ...body } = bigSite({ ...GUIAN, id: 'scale', halls });
const INVENTORY = SiteInventorySchema.parse(body);

suite(`a site of more than 10,000 devices in one process${skipNote}`, () => {
  let site: SimSite;
  beforeAll(async () => {
    site = await startSimSite({ inventory: INVENTORY, bind: 'ephemeral', logger: memoryLogger('error') });
  }, 120_000);
  afterAll(async () => site?.stop());
  const lastOn = (protocol: string, transport?: string) => {
    const eps = site.endpoints().filter((e) => e.protocol === protocol && (transport === undefined || e.transport === transport));
    return eps[eps.length - 1]!;
  };

  it('serves them all on a few ports: one for SNMP, 247 units per Modbus port, one per BMC', () => {
    expect(site.deviceIds().length).toBeGreaterThanOrEqual(10_000);
    expect(site.deviceIds().length).toBe(INVENTORY.devices.length);
    const listeners = site.listeners();
    expect(listeners.filter((l) => l.protocol === 'snmp')).toHaveLength(1);
    for (const l of listeners.filter((x) => x.protocol === 'modbus')) expect(l.devices).toBeLessThanOrEqual(247);
  });

  it('answers the last PDU by community and the last UPS by SNMPv3 context', async () => {
    const pdu = site.endpoints().filter((e) => e.protocol === 'snmp' && e.snmp_version === '2c').at(-1)!;
    const name = parseSnmpOutput((await run('snmpget', ['-v2c', '-c', pdu.community!, '-On', '-t', '2', '-r', '1', `127.0.0.1:${pdu.port}`, '1.3.6.1.2.1.1.5.0'])).stdout);
    expect(name.get('1.3.6.1.2.1.1.5.0')).toBe(`STRING: "${pdu.device}"`);
    const ups = site.endpoints().filter((e) => e.snmp_version === '3').at(-1)!;
    const r = await run('snmpget', ['-v3', '-l', 'authPriv', '-u', ups.user!, '-a', 'SHA-256', '-A', 'sim-auth-key-123', '-x', 'AES', '-X', 'sim-priv-key-123', '-n', ups.context!, '-On', '-t', '2', '-r', '1', `127.0.0.1:${ups.port}`, '1.3.6.1.2.1.1.5.0', '1.3.6.1.2.1.33.1.4.4.1.4.1']);
    const got = parseSnmpOutput(r.stdout);
    expect(got.get('1.3.6.1.2.1.1.5.0')).toBe(`STRING: "${ups.device}"`);
    expect(snmpInt(got.get('1.3.6.1.2.1.33.1.4.4.1.4.1'))).toBeGreaterThan(0);
  });

  it('answers the last CRAH on the last Modbus TCP port with its own reading', async () => {
    const e = site.endpoints().filter((x) => x.protocol === 'modbus' && x.transport === 'tcp' && x.device.startsWith('crah-')).at(-1)!;
    expect(site.listeners().filter((l) => l.protocol === 'modbus' && l.transport === 'tcp').length).toBeGreaterThanOrEqual(2);
    const before = site.truth().devices[e.device]!.power_w;
    const r = await run('mbpoll', ['-m', 'tcp', '-1', '-o', '2', '-p', String(e.port), '-a', String(e.unit_id), '-t', '3:float', '-B', '-r', '11', '-c', '1', '127.0.0.1']);
    const after = site.truth().devices[e.device]!.power_w;
    // CRAH template: input 10-11 float32 fan power (W); mbpoll prints 6 significant digits.
    const read = parseMbpoll(r.stdout).get(11)!;
    expect(read).toBeGreaterThanOrEqual(Math.min(before, after) * (1 - 1e-5));
    expect(read).toBeLessThanOrEqual(Math.max(before, after) * (1 + 1e-5));
  });

  it('answers the last GPU server BMC over Redfish', async () => {
    const e = lastOn('redfish');
    const before = site.truth().devices[e.device]!.power_w;
    const r = await fetch(`http://127.0.0.1:${e.port}/redfish/v1/Chassis/1/EnvironmentMetrics`, { headers: { authorization: `Basic ${Buffer.from('admin:sim').toString('base64')}` } });
    const read = ((await r.json()) as { PowerWatts: { Reading: number } }).PowerWatts.Reading;
    const after = site.truth().devices[e.device]!.power_w;
    // The BMC's power reading is live: the truth plus measurement noise (JSON numbers, no register step).
    const noise = noiseAmplitude(Math.max(before, after), 0);
    expect(read).toBeGreaterThanOrEqual(Math.min(before, after) - 0.01 - noise);
    expect(read).toBeLessThanOrEqual(Math.max(before, after) + 0.01 + noise);
  });

  withPymodbus('answers the last rack inlet sensor on the last RS-485 gateway', async () => {
    const e = lastOn('modbus', 'rtu_over_tcp');
    const [r] = await pymodbusRtuRead(python!, e.port, [['input', e.unit_id!, 1, 1]]);
    expect((r as { registers: number[] }).registers[0]! / 10).toBeCloseTo(Number(site.servedQuantities(e.device)!.values.inlet_temp_c), 0);
  });
});
