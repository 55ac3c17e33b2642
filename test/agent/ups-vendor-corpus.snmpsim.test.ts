import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { inProcessDcim } from '../cli/support/run-dcim.js';
import { startSnmpsim, useService } from './support/services.js';

/**
 * The vendor-MIB UPS fixtures of the device corpus: APC Smart-UPS and Galaxy (PowerNet-MIB) and a
 * Megatec NetAgent card (PPC-MIB), each written from the vendor's MIB with values worked out by
 * hand. snmpsimd serves each recording (community = folder name); `dcim poll --detect` must name
 * the fixture's profile with its reason, and `dcim poll` must read every value to the hand figure
 * (a value the MIB marks "not available" comes out not good), nothing more and nothing less.
 */
const CORPUS = join(import.meta.dirname, '..', 'fixtures', 'devices');
const FIXTURES = ['apc-smart-ups', 'apc-galaxy', 'megatec-netagent'];

interface Expected {
  sys_object_id: string;
  detect: { profile: string; how: string; reason_includes: string[] };
  poll_profile: string;
  readings: { point: string; index?: Record<string, string>; value: string | number | null; work: string }[];
}

const expected = new Map(FIXTURES.map((f) => [f, parse(readFileSync(join(CORPUS, f, 'expected.yaml'), 'utf8')) as Expected]));
const recordings: Record<string, string> = Object.fromEntries(FIXTURES.map((f) => [f, readFileSync(join(CORPUS, f, 'device.snmprec'), 'utf8')]));
/** A NetAgent card that reports a generic Linux agent's sysObjectID: only the PPC-MIB probe can find it. */
recordings['ppc-oem-sysoid'] = [
  '1.3.6.1.2.1.1.1.0|4|Linux netagent 2.6 (recording written for dcim-pulse)',
  '1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.8072.3.2.10',
  '1.3.6.1.2.1.1.3.0|67|100',
  '1.3.6.1.2.1.1.5.0|4|ups-oem',
  '1.3.6.1.4.1.935.1.1.1.1.1.1.0|4|OEM 6KVA',
  '1.3.6.1.4.1.935.1.1.1.2.1.1.0|2|2',
  '',
].join('\n');

type R = { point: string; value: unknown; quality: string; index?: Record<string, string>; error?: string };
const key = (r: { point: string; index?: Record<string, string> | undefined }) => (r.index ? `${r.point}[${Object.entries(r.index).map(([k, v]) => `${k}=${v}`).join(',')}]` : r.point);

describe('vendor-MIB UPS corpus (PowerNet-MIB, PPC-MIB) through snmpsimd', () => {
  const sim = useService('snmpsimd', () => startSnmpsim(recordings));

  it('finds a NetAgent card under an OEM sysObjectID by its PPC-MIB probe alone, and says so', async () => {
    const r = await inProcessDcim(['poll', '--detect', '--host', '127.0.0.1', '--port', String(sim().port), '--community', 'ppc-oem-sysoid', '--timeout-ms', '1000', '--retries', '1']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as { suggestion: { profile: string; how: string; reason: string } };
    expect(json.suggestion).toMatchObject({ profile: 'megatec-netagent', how: 'probe' });
    expect(json.suggestion.reason).toContain('upsBaseIdentModel = "OEM 6KVA" under PPC-MIB');
  });

  describe.each(FIXTURES)('%s', (fixture) => {
    const exp = expected.get(fixture) as Expected;
    const flags = () => ['--host', '127.0.0.1', '--port', String(sim().port), '--community', fixture, '--timeout-ms', '1000', '--retries', '1'];

    it('dcim poll --detect names the profile and says why', async () => {
      const r = await inProcessDcim(['poll', '--detect', ...flags()]);
      expect(r.code, r.stderr).toBe(0);
      const json = JSON.parse(r.stdout) as { system: { sys_object_id: string }; suggestion: { profile: string; how: string; reason: string; ranking: { profile: string }[] }; next: string };
      expect(json.system.sys_object_id).toBe(exp.sys_object_id);
      expect(json.suggestion).toMatchObject({ profile: exp.detect.profile, how: exp.detect.how });
      for (const text of exp.detect.reason_includes) expect(json.suggestion.reason).toContain(text);
      expect(json.suggestion.ranking[0]?.profile).toBe(exp.detect.profile);
      expect(json.next).toContain(`--profile ${exp.detect.profile}`);
    });

    it('dcim poll reads every value to the hand-worked figure', async () => {
      const r = await inProcessDcim(['poll', '--profile', exp.poll_profile, ...flags()]);
      expect(r.code, r.stderr).toBe(0);
      const got = new Map((JSON.parse(r.stdout) as { readings: R[] }).readings.map((x) => [key(x), x]));
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
