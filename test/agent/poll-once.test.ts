import { describe, expect, it } from 'vitest';
import { DeviceSchema, ManualClock, type DeviceProfile, type Reading } from '../../contract/index.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import type { DeviceReader, PollResult } from '../../agent/device-reader.js';
import type { AgentDevice } from '../../agent/devices.js';
import type { ProbeAnswers } from '../../agent/detect.js';
import { describeAddress, detectOnce, detectReport, displayValue, pollOnce, pollReport, POLL_ONCE_DEADLINE_MS } from '../../agent/poll-once.js';

const profiles = loadProfiles();
const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);

function target(profile: string, address: Record<string, unknown>): AgentDevice {
  return { device: DeviceSchema.parse({ id: 'poll', profile, address }), profile: profiles.get(profile) as DeviceProfile };
}
const pdu = target('apc-rpdu2', { protocol: 'snmp', host: '127.0.0.1', port: 16161 });
const generic = target('generic-snmp', { protocol: 'snmp', host: '127.0.0.1', port: 16161, community: 'c' });
const poll = { ms: 12.4, requests: 2, retries: 0, timeouts: 0 };
const good = (point: string, value: Reading['value'], unit?: Reading['unit']): Reading => ({ point, value, quality: 'good', ...(unit ? { unit } : {}) });
const bad = (point: string, error: string): Reading => ({ point, value: null, quality: 'bad', error });

describe('pollReport', () => {
  it.each<[string, Reading[], { answered: boolean; state: string; code?: string }]>([
    ['every reading good', [good('active_power_w', 1140, 'W'), good('energy_kwh', 12345.6, 'kWh')], { answered: true, state: 'up' }],
    ['a value the device marks unavailable is still an answer', [good('active_power_w', 1140, 'W'), bad('power_factor_ratio', 'DCIM_E_VALUE_UNAVAILABLE')], { answered: true, state: 'up' }],
    ['some transport failures: degraded, answered', [good('active_power_w', 1140, 'W'), bad('energy_kwh', 'DCIM_E_SNMP_TIMEOUT')], { answered: true, state: 'degraded', code: 'DCIM_E_SNMP_TIMEOUT' }],
    ['every reading timed out: down', [bad('active_power_w', 'DCIM_E_SNMP_TIMEOUT'), bad('energy_kwh', 'DCIM_E_SNMP_TIMEOUT')], { answered: false, state: 'down', code: 'DCIM_E_SNMP_TIMEOUT' }],
    ['no readings at all', [], { answered: false, state: 'up' }],
  ])('%s', (_, readings, want) => {
    const r = pollReport(pdu, T0, { readings, poll });
    expect(r.answered).toBe(want.answered);
    expect(r.status).toEqual({ state: want.state, ...(want.code ? { code: want.code } : {}) });
  });

  it('counts readings by quality, explains every error code and keeps what the agent would publish', () => {
    const readings = [good('active_power_w', 1140, 'W'), bad('power_factor_ratio', 'DCIM_E_VALUE_UNAVAILABLE'), bad('phase_current_a', 'DCIM_E_VALUE_UNAVAILABLE'), { ...good('phase_current_a', 3.1, 'A'), index: { phase: '1' } }];
    const r = pollReport(pdu, T0, { readings, poll });
    expect(r).toMatchObject({
      device: { profile: 'apc-rpdu2', class: 'pdu', vendor: 'APC', protocol: 'snmp', address: 'snmp v2c 127.0.0.1:16161' },
      ts: '2026-01-01T08:00:00.000Z',
      ts_ms: T0,
      poll: { ms: 12, requests: 2, retries: 0, timeouts: 0 },
      summary: { readings: 4, good: 2, uncertain: 0, bad: 2 },
      errors: { DCIM_E_VALUE_UNAVAILABLE: { readings: 2, meaning: expect.stringMatching(/not available/) } },
    });
    expect(r.readings[3]).toEqual({ point: 'phase_current_a', value: 3.1, unit: 'A', quality: 'good', index: { phase: '1' }, display: '3.1 A' });
    // Printed for people: name, unit, index, then the value (the wire uses the schema's order).
    expect(Object.keys(r.readings[3] ?? {})).toEqual(['point', 'unit', 'index', 'value', 'quality', 'display']);
  });

  it.each<[Reading, number | undefined, string]>([
    [good('active_power_w', 1140, 'W'), undefined, '1140 W'],
    [good('voltage_v', 230.1, 'V'), 2, '230.10 V'],
    [good('energy_kwh', '18446744073709551615', 'kWh'), undefined, '18446744073709551615 kWh'],
    [good('load_state', 'normal'), undefined, 'normal'],
    [good('inlet_temp_c', 23.456, 'degC'), 1, '23.5 °C'],
    [good('power_factor_ratio', 0.95, 'ratio'), undefined, '0.95'],
    [good('load_pct', 42, '%'), undefined, '42%'],
    [good('on_battery', false), undefined, 'false'],
    [bad('active_power_w', 'DCIM_E_SNMP_TIMEOUT'), 1, '(DCIM_E_SNMP_TIMEOUT)'],
  ])('displays %j with precision %s as %j', (reading, precision, text) => {
    expect(displayValue(reading, precision)).toBe(text);
  });

  it.each<[AgentDevice, string]>([
    [pdu, 'snmp v2c 127.0.0.1:16161'],
    [target('rfc1628-ups', { protocol: 'snmp', host: '10.0.0.5', version: '3', user: 'ops', auth_protocol: 'sha256', auth_key: { env: 'K' }, priv_protocol: 'aes', priv_key: { file: '/k' }, context: 'ups-1' }), 'snmp v3 10.0.0.5:161 user ops auth sha256 priv aes context ups-1'],
    [target('eastron-sdm630', { protocol: 'modbus', host: 'gw', unit_id: 7, transport: 'rtu_over_tcp' }), 'modbus rtu_over_tcp gw:502 unit 7'],
    [target('redfish-gpu-server', { protocol: 'redfish', host: 'bmc', username: 'admin', password: { env: 'P' }, verify_tls: false }), 'redfish https://bmc:443 user admin (certificate not verified)'],
  ])('describes the address without secrets: %s', (t, text) => {
    expect(describeAddress(t)).toBe(text);
  });
});

describe('detectReport', () => {
  const system = (oid: string | null, extra: Reading[] = []): PollResult => ({
    readings: [good('sys_descr', 'APC Web/SNMP Management Card'), oid === null ? bad('sys_object_id', 'DCIM_E_SNMP_NO_SUCH_OBJECT') : good('sys_object_id', oid), good('uptime_s', 1234.5, 's'), good('sys_name', 'pdu-r01-a'), ...extra],
    poll,
  });

  // A vendor claim holds when the profile's probe answers (the card serves the MIB the profile reads).
  const APC_PROBE = '1.3.6.1.4.1.318.1.1.26.4.3.1.5';
  const RARITAN_PROBE = '1.3.6.1.4.1.13742.6.5.2.3.1.4';
  const answered = (probe: string): ProbeAnswers => new Map([[probe, { oid: `${probe}.1`, text: '1140' }]]);

  it.each<[string, PollResult, Record<string, unknown>, ProbeAnswers?]>([
    ['an APC rPDU2 by its sysObjectID', system('1.3.6.1.4.1.318.1.3.4.6'), { suggestion: { profile: 'apc-rpdu2', how: 'match', matched_prefix: '1.3.6.1.4.1.318.1.3.4.6', vendor: 'APC', class: 'pdu' } }, answered(APC_PROBE)],
    ['a deeper OID under a claimed prefix', system('1.3.6.1.4.1.13742.6.7'), { suggestion: { profile: 'raritan-px2', how: 'match' } }, answered(RARITAN_PROBE)],
    ['an APC sysObjectID whose probe goes unanswered: the claim does not hold', system('1.3.6.1.4.1.318.1.3.4.6'), { suggestion: { profile: 'generic-snmp', how: 'generic' } }],
    ['an unknown device: the generic profile, said so', system('1.3.6.1.4.1.99999.1'), { suggestion: { profile: 'generic-snmp', how: 'generic', reason: expect.stringMatching(/no profile claims/) } }],
    ['no sysObjectID in the answer', system(null), { problem: expect.stringMatching(/did not report sysObjectID/) }],
    ['a sysObjectID that is not an OID', system('hello'), { problem: expect.stringMatching(/not a numeric OID/) }],
    ['no answer', { readings: [bad('sys_descr', 'DCIM_E_SNMP_TIMEOUT'), bad('sys_object_id', 'DCIM_E_SNMP_TIMEOUT')], poll: { ...poll, timeouts: 1 } }, { answered: false, problem: expect.stringMatching(/did not answer \(DCIM_E_SNMP_TIMEOUT\)/) }],
  ])('%s', (_, result, want, answers) => {
    const r = detectReport(generic, T0, result, profiles, answers);
    expect(r).toMatchObject(want);
    if (r.answered) expect(r.system).toMatchObject({ sys_descr: 'APC Web/SNMP Management Card', sys_name: 'pdu-r01-a', uptime_s: 1234.5 });
    expect('suggestion' in r).toBe(!('problem' in r));
  });
});

describe('pollOnce and detectOnce run the reader once, with a deadline, and close it', () => {
  function reader(result: PollResult | Error) {
    const calls: { deadlineAt?: number }[] = [];
    let closed = 0;
    const r: DeviceReader = {
      read: async (o) => {
        calls.push(o ?? {});
        if (result instanceof Error) throw result;
        return result;
      },
      close: async () => void closed++,
    };
    return { r, calls, closed: () => closed };
  }

  it('polls', async () => {
    const clock = new ManualClock(T0);
    const x = reader({ readings: [good('active_power_w', 1, 'W')], poll });
    const report = await pollOnce(pdu, () => x.r, clock);
    expect(report.answered).toBe(true);
    expect(x.calls).toEqual([{ deadlineAt: T0 + POLL_ONCE_DEADLINE_MS }]);
    expect(x.closed()).toBe(1);
  });

  it('closes the reader when it throws', async () => {
    const x = reader(new Error('bug'));
    await expect(pollOnce(pdu, () => x.r, new ManualClock(T0))).rejects.toThrow('bug');
    expect(x.closed()).toBe(1);
  });

  it('detects with the generic profile only, probing what the claims ask for', async () => {
    const x = reader({ readings: [good('sys_object_id', '1.3.6.1.4.1.318.1.3.4.6')], poll });
    const probed: string[][] = [];
    const prober = Object.assign(x.r, {
      getNextEach: async (oids: readonly string[]) => {
        probed.push([...oids]);
        return { next: new Map(oids.map((o) => [o, { oid: `${o}.1`, type: 66, value: 1140 }])), failed: new Map(), poll: { ms: 1, requests: 1, retries: 0, timeouts: 0 } };
      },
    });
    const report = await detectOnce(generic, () => prober, new ManualClock(T0), profiles);
    expect(report.suggestion?.profile).toBe('apc-rpdu2');
    expect(probed.flat()).toContain('1.3.6.1.4.1.318.1.1.26.4.3.1.5');
    await expect(detectOnce(pdu, () => x.r, new ManualClock(T0), profiles)).rejects.toThrow(/generic-snmp/);
  });
});
