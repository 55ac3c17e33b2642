import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AGENT_METRICS } from '../../../agent/metrics/agent-families.js';
import { AGENT_HEALTH_FIELDS } from '../../../contract/storage-schema.js';
import { repoPath } from '../../support/repo-path.js';

/** agent/README.md "Metrics" documents every metric and health field, with the code's type and labels. */
const readme = readFileSync(repoPath('agent', 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Metrics'), readme.indexOf('\n## ', readme.indexOf('## Metrics') + 1));

describe('agent/README.md "Metrics"', () => {
  it.each(Object.entries(AGENT_METRICS))('documents %s with its type and labels', (name, def) => {
    const row = section.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
    expect(row, `no row for ${name}`).toBeDefined();
    const labels = [...(def.scope === 'agent' ? ['site', 'agent'] : ['site', 'device', 'profile']), ...('extra' in def ? def.extra : [])];
    expect(row).toContain(`| ${def.type} |`);
    expect(row).toContain(`| ${labels.map((l) => `\`${l}\``).join(', ')} |`);
  });

  it.each(AGENT_HEALTH_FIELDS)('documents the health field %s', (name) => {
    expect(section).toContain(`| \`${name}\` |`);
  });

  it('documents nothing the code does not have', () => {
    const documented = [...section.matchAll(/^\| `(dcim_agent_[a-z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(AGENT_METRICS).sort());
  });
});
