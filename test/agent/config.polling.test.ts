import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DcimError } from '../../contract/index.js';
import { loadAgentConfig } from '../../agent/config.js';
import { repoPath } from '../support/repo-path.js';

/** The `polling:` section of the agent config: defaults, overrides, every problem listed. */
const seed = readFileSync(repoPath('seeds', 'minimal.yaml'), 'utf8');
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dcim-agent-polling-'));
  mkdirSync(join(dir, 'seeds'));
  writeFileSync(join(dir, 'seeds', 'site.yaml'), seed);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const config = (polling = '') => {
  const f = join(dir, 'agent.yaml');
  writeFileSync(f, `agent: { id: edge-1, site_seed: seeds/site.yaml }\nmqtt: { url: mqtt://127.0.0.1:1883 }\nstate_dir: state\n${polling}`);
  return f;
};

describe('agent config: polling', () => {
  it('defaults every key', () => {
    expect(loadAgentConfig(config(), {}).polling).toEqual({
      maxConcurrent: 64,
      maxJitterMs: 250,
      backoffMaxMs: 300_000,
      snmp: { timeoutMs: 2000, retries: 1 },
      modbus: { timeoutMs: 1000, retries: 1 },
      redfish: { timeoutMs: 5000, retries: 1 },
      prometheus: { timeoutMs: 3000, retries: 1 },
    });
  });

  it('takes overrides, each protocol on its own', () => {
    const c = loadAgentConfig(config('polling:\n  max_concurrent: 256\n  backoff_max_s: 60\n  snmp: { timeout_ms: 1500 }\n  redfish: { retries: 0 }\n  prometheus: { timeout_ms: 800 }\n'), {});
    expect(c.polling).toMatchObject({ maxConcurrent: 256, backoffMaxMs: 60_000, snmp: { timeoutMs: 1500, retries: 1 }, modbus: { timeoutMs: 1000, retries: 1 }, redfish: { timeoutMs: 5000, retries: 0 }, prometheus: { timeoutMs: 800, retries: 1 } });
  });

  it('lists every bad key with its path', () => {
    let e: unknown;
    try {
      loadAgentConfig(config('polling:\n  max_concurrent: 0\n  snmp: { timeout_ms: 10, retries: 9 }\n  modbus: { timeout: 5 }\n  lanes: 3\n'), {});
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(DcimError);
    const details = (e as DcimError).details.join('\n');
    for (const path of ['polling.max_concurrent', 'polling.snmp.timeout_ms', 'polling.snmp.retries', 'polling.modbus', 'polling']) expect(details).toContain(path);
    expect((e as DcimError).details.length).toBeGreaterThanOrEqual(5);
  });
});
