import { describe, expect, it } from 'vitest';
import type { Reading } from '../../contract/index.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { PlausibilityChecker, pointRules } from '../../agent/plausibility/plausibility.js';
import { corpusFolders, describeSnmpFixtures, readExpected, readRecording, useSnmpCorpus, type SnmpExpected } from '../agent/support/device-corpus.js';

/**
 * The PDU fixtures of the device corpus (test/fixtures/devices/pdu-*): recordings written from the
 * vendors' MIBs, each with the values a person worked out from the documents. snmpsimd serves each
 * recording (community = folder name); `dcim poll --detect` must name the fixture's profile with
 * its reason, and `dcim poll` with that profile must read every value to the hand-worked figure,
 * nothing more and nothing less; a value the MIB calls "not available" must not come out good.
 */
const fixtures = corpusFolders('pdu-');
/** A recording behind a card that reports a Net-SNMP sysObjectID: no profile claims it, so only the probes can find it. */
const foreign = (fixture: string, sysObjectId: string) => readRecording(fixture).replace(`1.3.6.1.2.1.1.2.0|6|${sysObjectId}`, '1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.8072.3.2.10');
const foreignSysoid = {
  'sentry4-foreign-sysoid': foreign('pdu-sentry4', '1.3.6.1.4.1.1718.4'),
  'eaton-foreign-sysoid': foreign('pdu-eaton-epdu-g3', '1.3.6.1.4.1.534.6.6.7'),
  'cyberpower-foreign-sysoid': foreign('pdu-cyberpower-epdu2', '1.3.6.1.4.1.3808.1.1.3'),
  'apc-rpdu-foreign-sysoid': foreign('pdu-apc-rpdu-ap79xx', '1.3.6.1.4.1.318.1.3.4.5'),
};

/**
 * The readings each PDU profile marks live (`live: true`): the measurements that move on a working
 * PDU (whole-PDU and per-phase power, conductor currents, millivolt voltages). Ratings, states,
 * energy counters, power factors and coarse voltages must never be flagged stuck.
 */
const LIVE: Record<string, string[]> = {
  'pdu-sentry4': ['active_power_w', 'line_current_a', 'phase_current_a', 'phase_power_w'],
  'pdu-apc-rpdu2-banks': ['active_power_w'],
  'pdu-raritan-px2-inlet': ['active_power_w', 'current_a', 'phase_current_a', 'phase_power_w'],
  'pdu-geist-v5': ['active_power_w', 'line_current_a', 'phase_current_a', 'phase_power_w'],
  'pdu-eaton-epdu-g3': ['active_power_w', 'line_current_a', 'phase_power_w', 'phase_voltage_v'],
  'pdu-cyberpower-epdu2': ['active_power_w'],
};

describe('PDU device corpus through snmpsimd', () => {
  const corpus = useSnmpCorpus(fixtures, foreignSysoid);
  const flags = ['--timeout-ms', '1000', '--retries', '1'];

  it('has the PDU fixtures', () => {
    expect(fixtures).toEqual(expect.arrayContaining(['pdu-sentry4', 'pdu-apc-rpdu2-banks', 'pdu-raritan-px2-inlet', 'pdu-geist-v5', 'pdu-eaton-epdu-g3', 'pdu-cyberpower-epdu2', 'pdu-apc-rpdu-ap79xx']));
  });

  it.each([
    ['sentry4-foreign-sysoid', 'sentry4', 'st4InputCordActivePower'],
    ['eaton-foreign-sysoid', 'eaton-epdu', 'inputVoltage'],
    ['cyberpower-foreign-sysoid', 'cyberpower-pdu', 'ePDU2DeviceStatusPowerLoad'],
    ['apc-rpdu-foreign-sysoid', 'apc-rpdu', 'rPDULoadStatusLoad'],
  ])('finds %s as %s under a sysObjectID no profile claims, by %s', async (community, profile, object) => {
    const json = await corpus.detect(community, flags);
    expect(json.system.sys_object_id).toBe('1.3.6.1.4.1.8072.3.2.10');
    expect(json.suggestion).toMatchObject({ profile, how: 'probe' });
    expect(json.suggestion.reason).toContain(object);
  });

  // The same poll again and again, as a frozen card would answer: at `stuck_polls` polls the live
  // readings (non-zero) turn uncertain with DCIM_E_VALUE_STUCK, one poll earlier none does, and
  // nothing else ever does.
  it.each(Object.keys(LIVE))('%s: only the moving measurements are flagged stuck when the card freezes', async (fixture) => {
    const exp = readExpected<SnmpExpected>(fixture);
    const profile = loadProfiles().get(exp.poll_profile);
    if (!profile) throw new Error(`no profile ${exp.poll_profile}`);
    const polled = (await corpus.poll(fixture, exp.poll_profile, flags)) as Reading[];
    const rules = pointRules(profile);
    const runs = new Set(polled.map((r) => rules.get(r.point)?.stuckPolls).filter((n) => n !== undefined));
    expect(runs.size, 'one stuck_polls per PDU profile').toBe(1);
    const stuckPolls = [...runs][0] as number;
    const checker = new PlausibilityChecker(profile);
    let last: Reading[] = [];
    for (let i = 1; i <= stuckPolls; i++) {
      last = checker.check(polled).readings;
      if (i === stuckPolls - 1) expect(last.filter((r) => r.error === 'DCIM_E_VALUE_STUCK')).toEqual([]);
    }
    const stuck = last.filter((r) => r.error === 'DCIM_E_VALUE_STUCK');
    expect(stuck.every((r) => r.quality === 'uncertain')).toBe(true);
    const want = polled.filter((r) => LIVE[fixture]?.includes(r.point) && r.quality === 'good' && typeof r.value === 'number' && r.value !== 0);
    expect(stuck.map((r) => [r.point, r.index])).toEqual(want.map((r) => [r.point, r.index]));
    expect(stuck.length).toBeGreaterThan(0);
  });

  describeSnmpFixtures(fixtures, corpus);
});
