import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { inProcessDcim } from '../cli/support/run-dcim.js';
import { startSnmpsim, useService } from './support/services.js';

/**
 * The PDU fixtures of the device corpus (test/fixtures/devices/pdu-*): recordings written from the
 * vendors' MIBs, each with the values a person worked out from the documents. snmpsimd serves each
 * recording (community = folder name); `dcim poll --detect` must name the fixture's profile with
 * its reason, and `dcim poll` with that profile must read every value to the hand-worked figure,
 * nothing more and nothing less; a value the MIB calls "not available" must not come out good.
 */
const CORPUS = join(import.meta.dirname, '..', 'fixtures', 'devices');

interface Expected {
  sys_object_id: string;
  detect: { profile: string; how: string; reason_includes: string[] };
  poll_profile: string;
  readings: { point: string; index?: Record<string, string>; value: string | number | null; work: string }[];
}

const fixtures = readdirSync(CORPUS, { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name.startsWith('pdu-'))
  .map((d) => d.name)
  .sort();
const expected = new Map(fixtures.map((f) => [f, parse(readFileSync(join(CORPUS, f, 'expected.yaml'), 'utf8')) as Expected]));
const recordings: Record<string, string> = Object.fromEntries(fixtures.map((f) => [f, readFileSync(join(CORPUS, f, 'device.snmprec'), 'utf8')]));
/** The Sentry4 recording behind a card that reports a Net-SNMP sysObjectID: no profile claims it, so only the probes can find it. */
recordings['sentry4-foreign-sysoid'] = (recordings['pdu-sentry4'] ?? '').replace('1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.1718.4', '1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.8072.3.2.10');

type R = { point: string; value: unknown; quality: string; index?: Record<string, string>; error?: string };
const key = (r: { point: string; index?: Record<string, string> | undefined }) => (r.index ? `${r.point}[${Object.entries(r.index).map(([k, v]) => `${k}=${v}`).join(',')}]` : r.point);

describe('PDU device corpus through snmpsimd', () => {
  const sim = useService('snmpsimd', () => startSnmpsim(recordings));

  it('has the PDU fixtures', () => {
    expect(fixtures).toEqual(expect.arrayContaining(['pdu-sentry4', 'pdu-apc-rpdu2-banks', 'pdu-raritan-px2-inlet', 'pdu-geist-v5']));
  });

  it('finds a Sentry4 under a sysObjectID no profile claims, by its input cord table', async () => {
    const r = await inProcessDcim(['poll', '--detect', '--host', '127.0.0.1', '--port', String(sim().port), '--community', 'sentry4-foreign-sysoid', '--timeout-ms', '1000', '--retries', '1']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as { system: { sys_object_id: string }; suggestion: { profile: string; how: string; reason: string } };
    expect(json.system.sys_object_id).toBe('1.3.6.1.4.1.8072.3.2.10');
    expect(json.suggestion).toMatchObject({ profile: 'sentry4', how: 'probe' });
    expect(json.suggestion.reason).toContain('st4InputCordActivePower');
  });

  describe.each(fixtures)('%s', (fixture) => {
    const exp = expected.get(fixture) as Expected;
    const flags = () => ['--host', '127.0.0.1', '--port', String(sim().port), '--community', fixture, '--timeout-ms', '1000', '--retries', '1'];

    it('dcim poll --detect names the profile and says why', async () => {
      const r = await inProcessDcim(['poll', '--detect', ...flags()]);
      expect(r.code, r.stderr).toBe(0);
      const json = JSON.parse(r.stdout) as { system: { sys_object_id: string }; suggestion: { profile: string; how: string; reason: string; ranking: { profile: string; reason: string }[] }; next: string };
      expect(json.system.sys_object_id).toBe(exp.sys_object_id);
      expect(json.suggestion).toMatchObject({ profile: exp.detect.profile, how: exp.detect.how });
      for (const text of exp.detect.reason_includes) expect(json.suggestion.reason).toContain(text);
      expect(json.suggestion.ranking[0]?.profile).toBe(exp.detect.profile);
      expect(json.next).toContain(`--profile ${exp.detect.profile}`);
    });

    it('dcim poll reads every value to the hand-worked figure', async () => {
      const r = await inProcessDcim(['poll', '--profile', exp.poll_profile, ...flags()]);
      expect(r.code, r.stderr).toBe(0);
      const got = new Map(((JSON.parse(r.stdout) as { readings: R[] }).readings).map((x) => [key(x), x]));
      const want = new Map(exp.readings.map((x) => [key(x), x]));
      expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [k, w] of want) {
        const g = got.get(k) as R;
        if (w.value === null) {
          expect(g.quality, `${k}: ${w.work}`).not.toBe('good');
          expect(g.value, `${k}: ${w.work}`).toBeNull();
        } else {
          expect(g.quality, `${k}: ${w.work} (${g.error ?? ''})`).toBe('good');
          if (typeof w.value === 'number') expect(g.value as number, `${k}: ${w.work}`).toBeCloseTo(w.value, 9);
          else expect(g.value, `${k}: ${w.work}`).toBe(w.value);
        }
      }
    });
  });
});
