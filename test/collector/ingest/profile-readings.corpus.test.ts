import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkAgainstProfile, profileReadingRules } from '../../../collector/ingest/profile-readings.js';
import type { Reading } from '../../../contract/messages.js';
import { loadProfiles } from '../../../profiles/catalogue.js';

/**
 * The device corpus (test/fixtures/devices/) holds, per recorded device, every reading a poll must
 * produce, worked out by hand from the device's documents, and the corpus tests hold the agent to
 * exactly those. So each of them must pass the collector's profile check: a refusal here would be
 * a real device's reading refused in production.
 */
const CORPUS = join(import.meta.dirname, '../../fixtures/devices');
const profiles = loadProfiles();

interface Expected {
  profile?: string;
  poll_profile?: string;
  readings?: Record<string, unknown> | { point: string; index?: Record<string, string>; value: unknown }[];
}

/** `"point[tag=value]"` keys of the map form. */
function fromKey(key: string, value: unknown): { point: string; index?: Record<string, string>; value: unknown } {
  const m = /^([^[]+)\[([^=\]]+)=([^\]]+)\]$/.exec(key);
  return m ? { point: m[1]!, index: { [m[2]!]: m[3]! }, value } : { point: key, value };
}

const fixtures = readdirSync(CORPUS, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

describe('profile check against the device corpus', () => {
  it('has fixtures to check', () => {
    expect(fixtures.length).toBeGreaterThan(30);
  });

  it.each(fixtures)('accepts every hand-worked reading of %s', (fixture) => {
    const expected = parse(readFileSync(join(CORPUS, fixture, 'expected.yaml'), 'utf8')) as Expected;
    const id = expected.poll_profile ?? expected.profile;
    const profile = id ? profiles.get(id) : undefined;
    expect(profile, `${fixture}: profile ${id}`).toBeDefined();
    const rules = profileReadingRules(profile!);
    const list = Array.isArray(expected.readings) ? expected.readings : Object.entries(expected.readings ?? {}).map(([k, v]) => fromKey(k, v));
    expect(list.length).toBeGreaterThan(0);
    const refused = list.flatMap((e) => {
      const r = { point: e.point, value: e.value, quality: e.value === null ? 'bad' : 'good', ...(e.index ? { index: e.index } : {}) } as Reading;
      const why = checkAgainstProfile(rules, r);
      return why ? [`${e.point}${e.index ? JSON.stringify(e.index) : ''} = ${JSON.stringify(e.value)}: ${why.reason}`] : [];
    });
    expect(refused).toEqual([]);
  });
});
