import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { inProcessDcim } from '../cli/support/run-dcim.js';
import { startSnmpsim, useService } from './support/services.js';

/**
 * The UPS fixtures of the device corpus (test/fixtures/devices/ups-*): recordings written from
 * RFC 1628 and the vendors' MIBs, each with the values a person worked out from the documents.
 * snmpsimd serves each recording (community = folder name); `dcim poll --detect` must name the
 * fixture's profile with its reason, and `dcim poll` with that profile must read every value to
 * the hand-worked figure, nothing more and nothing less.
 */
const CORPUS = join(import.meta.dirname, '..', 'fixtures', 'devices');

interface Expected {
  sys_object_id: string;
  detect: { profile: string; how: string; reason_includes: string[] };
  poll_profile: string;
  readings: { point: string; index?: Record<string, string>; value: string | number | null; work: string }[];
}

const fixtures = readdirSync(CORPUS, { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name.startsWith('ups-'))
  .map((d) => d.name)
  .sort();
const expected = new Map(fixtures.map((f) => [f, parse(readFileSync(join(CORPUS, f, 'expected.yaml'), 'utf8')) as Expected]));
const recordings: Record<string, string> = Object.fromEntries(fixtures.map((f) => [f, readFileSync(join(CORPUS, f, 'device.snmprec'), 'utf8')]));
/** A Liebert precision air conditioner's card: Liebert's sysObjectID prefix, no UPS-MIB; its environmental MIB (temperature table, system state). */
recordings['liebert-crac'] = [
  '1.3.6.1.2.1.1.1.0|4|Liebert precision cooling, IS-UNITY card (recording written for dcim-pulse)',
  '1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.476.1.42',
  '1.3.6.1.2.1.1.3.0|67|100',
  '1.3.6.1.2.1.1.5.0|4|crac-3',
  '1.3.6.1.4.1.476.1.42.3.4.1.3.3.1.3.1|2|22',
  '1.3.6.1.4.1.476.1.42.3.4.3.1.0|2|1',
  '',
].join('\n');

type R = { point: string; value: unknown; quality: string; index?: Record<string, string>; error?: string };
const key = (r: { point: string; index?: Record<string, string> | undefined }) => (r.index ? `${r.point}[${Object.entries(r.index).map(([k, v]) => `${k}=${v}`).join(',')}]` : r.point);

describe('UPS device corpus through snmpsimd', () => {
  const sim = useService('snmpsimd', () => startSnmpsim(recordings));

  it('has the UPS fixtures the detection rules need', () => {
    expect(fixtures).toEqual(expect.arrayContaining(['ups-eaton-xups', 'ups-upsmib-sysoid', 'ups-huawei-ups2000']));
  });

  it('detects over SNMPv1 too, where one probe past the end of the MIB fails the whole request (noSuchName): the batch is split', async () => {
    // The recording ends inside UPS-MIB, so the XUPS-MIB probe has nothing after it.
    const r = await inProcessDcim(['poll', '--detect', '--host', '127.0.0.1', '--port', String(sim().port), '--community', 'ups-upsmib-sysoid', '--snmp-version', '1', '--timeout-ms', '1000', '--retries', '0']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as { suggestion: { profile: string; how: string }; probes: { oid: string; answer?: { oid: string; value: string } }[] };
    expect(json.suggestion).toMatchObject({ profile: 'rfc1628-ups', how: 'probe' });
    expect(json.probes).toEqual(
      expect.arrayContaining([
        { oid: '1.3.6.1.2.1.33.1.1.1', answer: { oid: '1.3.6.1.2.1.33.1.1.1.0', value: 'Example Power Ltd' } },
        { oid: '1.3.6.1.4.1.534.1.1.1' },
      ]),
    );
  });

  it('a Liebert air conditioner is not taken for a Liebert UPS: the claim needs UPS-MIB, and the report says why (the air-conditioner profile takes it)', async () => {
    const r = await inProcessDcim(['poll', '--detect', '--host', '127.0.0.1', '--port', String(sim().port), '--community', 'liebert-crac', '--timeout-ms', '1000', '--retries', '0']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as { suggestion: { profile: string; how: string; rejected: string[]; reason: string } };
    expect(json.suggestion).toMatchObject({ profile: 'vertiv-liebert-pac', how: 'match' });
    expect(json.suggestion.rejected).toEqual(['vertiv-liebert-ups: sysObjectID 1.3.6.1.4.1.476.1.42 is under 1.3.6.1.4.1.476.1.42, but no answer under UPS-MIB (upsIdentManufacturer, 1.3.6.1.2.1.33.1.1.1)']);
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
