import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DcimError } from '../../contract/index.js';
import { loadAgentConfig } from '../../agent/config.js';
import { repoPath } from '../support/repo-path.js';

/** A Prometheus device in a site seed, as the agent loads it: its bearer token is a secret like the others. */
const seed = readFileSync(repoPath('seeds', 'minimal.yaml'), 'utf8').replace(
  'devices:\n',
  'devices:\n  - id: gpu-node-07\n    profile: dcgm-exporter\n    rack: r01\n    address: { protocol: prometheus, host: 127.0.0.1, port: 9400, bearer_token: TOKEN }\n    interval_s: 15\n',
);
const config = 'agent:\n  id: edge-1\n  site_seed: seeds/site.yaml\n  devices: [gpu-node-07]\nmqtt:\n  url: mqtt://127.0.0.1:1883\nstate_dir: state\n';
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dcim-p5-prom-config-'));
  mkdirSync(join(dir, 'seeds'));
  writeFileSync(join(dir, 'agent.yaml'), config);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('a Prometheus device in the agent config', () => {
  it('takes a bearer token file relative to the seed and keeps the default path /metrics and http', () => {
    writeFileSync(join(dir, 'seeds', 'site.yaml'), seed.replace('bearer_token: TOKEN', 'bearer_token: { file: tokens/dcgm }'));
    mkdirSync(join(dir, 'seeds', 'tokens'));
    writeFileSync(join(dir, 'seeds', 'tokens', 'dcgm'), 'tok\n', { mode: 0o600 });
    const c = loadAgentConfig(join(dir, 'agent.yaml'), {});
    const d = c.inventory.devices.find((x) => x.id === 'gpu-node-07');
    expect(d?.address).toEqual({ protocol: 'prometheus', host: '127.0.0.1', port: 9400, scheme: 'http', path: '/metrics', verify_tls: true, bearer_token: { file: join(dir, 'seeds', 'tokens', 'dcgm') } });
  });

  it('refuses the device when its token is not set (DCIM_E_SECRET_MISSING), naming the field', () => {
    writeFileSync(join(dir, 'seeds', 'site.yaml'), seed.replace('bearer_token: TOKEN', 'bearer_token: { env: P5_DCGM_TOKEN }'));
    let err: DcimError | undefined;
    try {
      loadAgentConfig(join(dir, 'agent.yaml'), {});
    } catch (e) {
      err = e as DcimError;
    }
    expect(err?.code).toBe('DCIM_E_SECRET_MISSING');
    expect(err?.details).toEqual([expect.stringMatching(/devices\[0\]\.address\.bearer_token: environment variable P5_DCGM_TOKEN/)]);
  });
});
