import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DcimError } from '../../contract/index.js';
import { loadAgentConfig } from '../../agent/config.js';

/** The `spool:` section of the agent config (agent/config.ts, README "The spool"). */
const seed = `
site: { id: demo, name: Demo }
halls: [{ id: h1 }]
racks: []
devices:
  - { id: meter-1, profile: eastron-sdm630, hall: h1, address: { protocol: modbus, host: 127.0.0.1, port: 15020, unit_id: 1 } }
`;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dcim-spool-config-'));
  mkdirSync(join(dir, 'seeds'));
  writeFileSync(join(dir, 'seeds', 'demo.yaml'), seed);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const base = `
agent:
  id: edge1
  site_seed: seeds/demo.yaml
mqtt:
  url: mqtt://127.0.0.1:1883
state_dir: state
`;

function load(spool: string) {
  const f = join(dir, 'agent.yaml');
  writeFileSync(f, base + spool);
  return loadAgentConfig(f, {});
}

function details(spool: string): readonly string[] {
  try {
    load(spool);
  } catch (e) {
    if (e instanceof DcimError) return e.details;
    throw e;
  }
  throw new Error('expected the config to be refused');
}

describe('agent config: spool', () => {
  it('defaults every knob when the section is absent', () => {
    expect(load('').spool).toEqual({
      maxBytes: 512 * 1024 * 1024,
      maxAgeMs: 72 * 3_600_000,
      replayRatePerS: 200,
      maxInFlight: 32,
      fsync: { mode: 'interval', intervalMs: 200 },
    });
  });

  it('defaults the rest when only some keys are given', () => {
    expect(load('spool: { max_age_h: 1 }\n').spool).toMatchObject({ maxAgeMs: 3_600_000, maxBytes: 512 * 1024 * 1024, replayRatePerS: 200 });
  });

  it('reads every key, the directory relative to the config file', () => {
    const c = load(`spool:
  dir: var/spool
  max_bytes: 67108864
  max_age_h: 0.5
  replay_rate_per_s: 50
  max_in_flight: 16
  fsync: never
  fsync_interval_ms: 1000
  segment_bytes: 1048576
`);
    expect(c.spool).toEqual({
      dir: join(dir, 'var', 'spool'),
      maxBytes: 64 * 1024 * 1024,
      maxAgeMs: 1_800_000,
      replayRatePerS: 50,
      maxInFlight: 16,
      fsync: { mode: 'never', intervalMs: 1000 },
      segmentBytes: 1024 * 1024,
    });
  });

  it.each([
    ['a tiny max_bytes', 'spool: { max_bytes: 1000 }', 'spool.max_bytes'],
    ['a size as text', 'spool: { max_bytes: 512MiB }', 'spool.max_bytes'],
    ['a zero age', 'spool: { max_age_h: 0 }', 'spool.max_age_h'],
    ['a negative rate', 'spool: { replay_rate_per_s: -5 }', 'spool.replay_rate_per_s'],
    ['a window too small for a backlog share', 'spool: { max_in_flight: 2 }', 'spool.max_in_flight'],
    ['an unknown fsync mode', 'spool: { fsync: sometimes }', 'spool.fsync'],
    ['segments larger than a quarter of the spool', 'spool: { max_bytes: 4194304, segment_bytes: 2097152 }', 'spool.segment_bytes'],
    ['a typo', 'spool: { max_byte: 1048576 }', 'spool'],
  ])('refuses %s, naming the path', (_name, yaml, path) => {
    const d = details(yaml + '\n');
    expect(d.some((l) => l.includes(`agent.yaml: ${path}`))).toBe(true);
  });
});
