import { describe, expect, it } from 'vitest';
import { inProcessDcim } from '../../cli/support/run-dcim.js';
import { modbusFixtures, startModbusCorpus } from './device-corpus.js';
import { useService } from '../support/services.js';
import { ModbusProfileSchema, type DeviceProfile, type ModbusProfile } from '../../../contract/index.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { detectModbusProfile, scanModbus } from '../../../agent/modbus/modbus-detect.js';
import { createModbusSerialTransport } from '../../../agent/modbus/modbus-serial-transport.js';

/**
 * `dcim poll --detect` on a Modbus address, against the device corpus served by pymodbus: the
 * SunSpec scan names the profile each fixture's expected.yaml names (worked out from the
 * documents), Read Device Identification (43/14) is reported, a garbage 43/14 answer is coded
 * without spoiling the SunSpec answer, and a device that is neither gets no guess.
 */
interface Report {
  answered: boolean;
  suggestion?: { profile: string; reason: string; candidates: { profile: string; coverage: number }[] };
  identification: { vendor?: string; product?: string; code?: string };
  sunspec: { base?: number; models?: { id: number; at: number }[]; code?: string };
  problem?: string;
  next?: string;
}

const detect = async (port: number, unit: number) => {
  const ran = await inProcessDcim(['poll', '--detect', '--host', '127.0.0.1', '--port', String(port), '--unit-id', String(unit), '--timeout-ms', '500']);
  return { ...ran, report: JSON.parse(ran.stdout) as Report };
};

describe('dcim poll --detect over Modbus', () => {
  const server = useService('pymodbus', () => startModbusCorpus());
  const sunspec = modbusFixtures().filter((f) => f.name.startsWith('sunspec'));

  it.each(sunspec.map((f) => [f.name, f] as const))('%s: names the profile of its hand-written expectations and the next command', async (_n, fx) => {
    const { code, report } = await detect(server().port, fx.unit_id);
    expect(code).toBe(0);
    expect(report.suggestion?.profile).toBe(fx.profile);
    expect(report.suggestion?.candidates[0]).toEqual(expect.objectContaining({ profile: fx.profile, coverage: 1 }));
    expect(report.next).toBe(`dcim poll --profile ${fx.profile} --host 127.0.0.1 --port ${server().port} --unit-id ${fx.unit_id} --timeout-ms 500`);
    expect(report.identification).toEqual(expect.objectContaining({ vendor: 'Acme Solar', product: 'AS-10K3' }));
  });

  it('the L 65 device: model 103 found at 40069, where the device put it', async () => {
    const { report } = await detect(server().port, 2);
    expect(report.sunspec.models?.map((m) => [m.id, m.at])).toEqual([[1, 40002], [103, 40069]]);
  });

  it('a garbage 43/14 answer: DCIM_E_MODBUS_DEVICE_ID_INVALID, the SunSpec answer still names the profile', async () => {
    const { code, report } = await detect(server().port, 25);
    expect(code).toBe(0);
    expect(report.identification.code).toBe('DCIM_E_MODBUS_DEVICE_ID_INVALID');
    expect(report.suggestion?.profile).toBe('sunspec-inverter');
  });

  it('a device that says "more follows" forever: refused after 4 requests as DCIM_E_MODBUS_DEVICE_ID_INVALID (without the cap: a timeout), SunSpec answer intact', async () => {
    const { code, report } = await detect(server().port, 27);
    expect(code).toBe(0);
    expect(report.identification).toEqual({ code: 'DCIM_E_MODBUS_DEVICE_ID_INVALID', message: expect.stringContaining('more follows') });
    expect(report.suggestion?.profile).toBe('sunspec-inverter');
  });

  it('a chain without an inverter model (unit 24): no profile is suggested, not even for the optional model 160 rows it cannot have', async () => {
    const { report } = await detect(server().port, 24);
    expect(report.suggestion).toBeUndefined();
    expect(report.sunspec.models?.map((m) => m.id)).toEqual([1]);
  });

  it('neither SunSpec nor a profile it names: no guess, says what the device said about itself', async () => {
    const { code, report, stderr } = await detect(server().port, 26);
    expect(code).toBe(0);
    expect(report.suggestion).toBeUndefined();
    expect(report.sunspec.code).toBe('DCIM_E_SUNSPEC_NOT_FOUND');
    expect(report.problem).toContain('Acme Solar AS-10K3');
    expect(stderr).toContain('choose one with --profile');
  });

  it('a silent unit: exit 3, no usable answer', async () => {
    const ran = await inProcessDcim(['poll', '--detect', '--host', '127.0.0.1', '--port', String(server().port), '--unit-id', '99', '--timeout-ms', '200']);
    expect(ran.code).toBe(3);
    expect(ran.stderr).toContain('no usable answer');
  });
});

/**
 * Identification beyond SunSpec: a profile claims a device by its answer to Read Device
 * Identification (`match.device_id`), and by identification registers the device answers only
 * as one whole block (`match.block`, the Siemens PAC3200's I&M 0).
 */
describe('Modbus detection by 43/14 objects and by whole identification blocks', () => {
  const server = useService('pymodbus', () => startModbusCorpus());
  const builtin = loadProfiles();
  const base = builtin.get('siemens-pac3200') as ModbusProfile;
  /** A profile of its own for the corpus's identity (Acme Solar AS-10K3 1.4.2, ModelName AS-10K3-EU): no vendor's facts are invented. */
  const acme = (deviceId: Record<string, string>): Map<string, DeviceProfile> =>
    new Map([...builtin, ['acme-meter', ModbusProfileSchema.parse({ id: 'acme-meter', class: 'meter', vendor: 'Acme', model: 'Meter', protocol: 'modbus', match: { device_id: deviceId }, points: base.points.slice(0, 1), test_vectors: base.test_vectors.slice(0, 1) })]]);
  const scan = async (unit: number, profiles: ReadonlyMap<string, DeviceProfile>) => {
    const transport = createModbusSerialTransport({ host: '127.0.0.1', port: server().port, framing: 'tcp', timeoutMs: 500 });
    try {
      return await scanModbus(transport, unit, 500, profiles);
    } finally {
      await transport.close();
    }
  };

  it('the PAC3200 fixture: named by its I&M 0 block read whole, the reason quoting the manufacturer ID and order number', async () => {
    const { code, report } = await detect(server().port, 150);
    expect(code).toBe(0);
    expect(report.suggestion?.profile).toBe('siemens-pac3200');
    expect(report.suggestion?.reason).toContain("Manufacturer's ID (42: Siemens AG) 42");
    expect(report.suggestion?.reason).toContain('I&M 0 Order No. "7KM2112-0BA00-3AA0"');
  });

  it('the PAC3200 fixture refuses part of its I&M 0 block, as the manual says the meter does (so reading register by register finds nothing)', async () => {
    const transport = createModbusSerialTransport({ host: '127.0.0.1', port: server().port, framing: 'tcp', timeoutMs: 500 });
    try {
      expect((await transport.connect()).ok).toBe(true);
      expect(await transport.read(150, 'holding', 64001, 1, 500)).toEqual(expect.objectContaining({ ok: false, kind: 'exception', code: 2 }));
      expect(await transport.read(150, 'holding', 64001, 27, 500)).toEqual(expect.objectContaining({ ok: true }));
    } finally {
      await transport.close();
    }
  });

  it('match.device_id claims a device that is not SunSpec by its 43/14 objects, the regular ModelName included, and says so', async () => {
    const profiles = acme({ vendor_name: '^acme solar$', product_code: '^AS-10K3$', model_name: '^AS-10K3-EU$' });
    const s = await scan(26, profiles);
    expect(s.identification).toEqual({ ok: true, value: expect.objectContaining({ vendor: 'Acme Solar', model_name: 'AS-10K3-EU' }) });
    const d = detectModbusProfile(s, profiles);
    expect(d.ok && d.value.profile.id).toBe('acme-meter');
    expect(d.ok && d.value.reason).toContain('device identification (43/14): VendorName "Acme Solar"; ProductCode "AS-10K3"; ModelName "AS-10K3-EU": claimed by acme-meter');
  });

  it('match.device_id with one object that does not hold claims nothing', async () => {
    const profiles = acme({ vendor_name: '^acme solar$', model_name: '^AS-20K$' });
    const d = detectModbusProfile(await scan(26, profiles), profiles);
    expect(d).toEqual({ ok: false, reason: expect.stringContaining('no profile recognises it') });
  });

  it('a garbage 43/14 answer (non-text bytes, a length past the frame): coded, and no device_id profile claims the device', async () => {
    const profiles = acme({ vendor_name: '.' });
    const s = await scan(25, profiles);
    expect(s.identification).toEqual(expect.objectContaining({ ok: false, code: 'DCIM_E_MODBUS_DEVICE_ID_INVALID' }));
    const d = detectModbusProfile({ ...s, sunspec: { ok: false, code: 'DCIM_E_SUNSPEC_NOT_FOUND', message: 'as if not SunSpec' } }, profiles);
    expect(d.ok).toBe(false);
  });

  it('a 43/14 answer whose objects are numbered 7, 8, 9 instead of 0, 1, 2: coded as missing its mandatory objects, nothing claimed', async () => {
    const { code, report } = await detect(server().port, 28);
    expect(code).toBe(0);
    expect(report.identification).toEqual({ code: 'DCIM_E_MODBUS_DEVICE_ID_INVALID', message: expect.stringContaining('mandatory object 0 is missing') });
    expect(report.suggestion).toBeUndefined();
  });

  it('ranks by evidence: a profile whose registers and 43/14 objects both hold comes before one with registers alone', () => {
    const profiles = acme({ vendor_name: '^acme solar$' });
    const id = { vendor: 'Acme Solar', product: 'AS-10K3', revision: '1.4.2', conformity: 0x83 };
    const d = detectModbusProfile(
      { sunspec: { ok: false, code: 'DCIM_E_SUNSPEC_NOT_FOUND', message: '' }, identification: { ok: true, value: id }, registers: [{ profile: 'abb-eq-b2x', matched: ['a'] }, { profile: 'acme-meter', matched: ['b'] }], requests: 0 },
      profiles,
    );
    expect(d.ok && d.value.candidates.map((c) => c.profile)).toEqual(['acme-meter', 'abb-eq-b2x']);
  });
});
