import { describe, expect, it } from 'vitest';
import { inProcessDcim } from '../../cli/support/run-dcim.js';
import { modbusFixtures, startModbusCorpus } from './device-corpus.js';
import { useService } from '../support/services.js';

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
