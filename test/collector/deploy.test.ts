import { readFileSync } from 'node:fs';
import path from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { Collector } from '../../collector/collector.js';
import { ManualClock } from '../../contract/clock.js';
import { SiteInventorySchema } from '../../contract/inventory.js';
import { loadYamlFile } from '../../shared/config/load.js';
import { memoryLogger } from '../../shared/log.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { topics } from '../../contract/topics.js';
import { parseCommandArgs } from '../../cli/args.js';
import { command as agentCommand } from '../../cli/commands/agent.js';
import { command as collectorCommand } from '../../cli/commands/collector.js';
import { startMosquitto } from '../support/mosquitto.js';
import { useService } from '../support/require-service.js';
import { RecordingSink } from './support/recording-sink.js';
import { until } from '../support/until.js';

/**
 * The deployment files operators copy: the mosquitto settings a collector's persistent session
 * needs (collector/deploy/mosquitto-dcim.conf), checked on a real mosquitto against its defaults,
 * and the systemd units (agent/deploy, collector/deploy), whose commands must be ones the CLI takes.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const SEED = loadYamlFile(SiteInventorySchema, path.join(ROOT, 'seeds/minimal.yaml'));
const T0 = Date.UTC(2026, 0, 1, 8, 5, 0);
/** More than mosquitto's default queue of 1,000 messages per session. */
const BACKLOG = 3000;

/** The snippet's directives, comments and blank lines left out. */
function snippet(): string[] {
  return readFileSync(path.join(ROOT, 'collector/deploy/mosquitto-dcim.conf'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

const poll = (seq: number) =>
  JSON.stringify({ schema: 1, agent: 'edge-1', site: 'demo', device: 'pdu-r01-a', class: 'pdu', seq, ts: T0, readings: [{ point: 'active_power_w', value: 1000 + seq, unit: 'W', quality: 'good' }], poll: { ms: 5, requests: 1, retries: 0 } });

function collectorOn(url: string, sink = new RecordingSink()): Collector {
  return new Collector({ id: 'deploy', inventories: [SEED], mqtt: { url, clientId: 'deploy-collector' }, sink, profiles: loadProfiles(), logger: memoryLogger('error'), clock: new ManualClock(T0), kpiIntervalMs: 5000 });
}

/** The collector goes away, BACKLOG polls are published, the collector comes back: how many does it get? */
async function afterOutage(url: string): Promise<number> {
  const first = collectorOn(url);
  await first.start();
  await first.stop();
  const pub = await mqtt.connectAsync(url, { clientId: 'deploy-agent', clean: true });
  for (let seq = 1; seq <= BACKLOG; seq++) await pub.publishAsync(topics.telemetry('demo', 'edge-1', 'pdu-r01-a'), poll(seq), { qos: 1 });
  await pub.endAsync();
  const sink = new RecordingSink();
  const back = collectorOn(url, sink);
  await back.start();
  try {
    // The broker delivers a session's queue in order, and a message published now is queued
    // behind what it kept: once this marker is in, everything the broker kept is in.
    const marker = BACKLOG + 1;
    await mqtt.connectAsync(url, { clientId: 'deploy-marker', clean: true }).then(async (c) => {
      await c.publishAsync(topics.telemetry('demo', 'edge-1', 'pdu-r01-a'), poll(marker), { qos: 1 });
      await c.endAsync();
    });
    await until('the marker published after the outage', () => sink.lines.some((l) => l.includes(`active_power_w=${1000 + marker}`)), 60_000, () => `${back.stats().messages_received} messages, ${sink.lines.length} lines`);
    return back.stats().messages_received - 1;
  } finally {
    await back.stop();
  }
}

describe('collector/deploy/mosquitto-dcim.conf on a real mosquitto', () => {
  const sized = useService('mosquitto', () => startMosquitto({ config: snippet() }));
  const stock = useService('mosquitto', () => startMosquitto());

  it('holds a collector outage longer than the default queue, every message delivered once', async () => {
    expect(snippet()).toContain('max_queued_messages 1000000');
    expect(await afterOutage(sized().url)).toBe(BACKLOG);
  }, 60_000);

  it('(what it fixes) the stock broker drops what is beyond its 1,000-message queue', async () => {
    const got = await afterOutage(stock().url);
    expect(got).toBeGreaterThanOrEqual(1000);
    expect(got).toBeLessThan(BACKLOG);
  }, 60_000);
});

/** The parsed flags of a command line (a help request has none). */
function flags(spec: Parameters<typeof parseCommandArgs>[0], args: string[]): Record<string, unknown> {
  const parsed = parseCommandArgs(spec, args);
  return parsed.help ? {} : parsed.values;
}

describe('the systemd units', () => {
  const units = [
    { file: 'agent/deploy/dcim-agent.service', command: agentCommand, config: '/etc/dcim/agent.yaml', state: 'dcim-agent' },
    { file: 'collector/deploy/dcim-collector.service', command: collectorCommand, config: '/etc/dcim/collector.yaml', state: 'dcim-collector' },
  ];
  it.each(units)('$file runs `dcim $command.spec.name` with flags the CLI takes, checks the config first, and keeps its state', ({ file, command, config, state }) => {
    const lines = readFileSync(path.join(ROOT, file), 'utf8').split('\n');
    const value = (key: string) => lines.filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));
    const [pre] = value('ExecStartPre');
    const [start] = value('ExecStart');
    for (const exec of [pre, start]) {
      const [node, cli, name, ...args] = (exec ?? '').split(' ');
      expect(node).toBe('/usr/bin/node');
      expect(cli).toBe('/opt/dcim-pulse/dist/cli/dcim.js');
      expect(name).toBe(command.spec.name);
      expect(flags(command.spec, args).config).toBe(config);
    }
    expect(flags(command.spec, pre!.split(' ').slice(3)).check).toBe(true);
    expect(value('StateDirectory')).toEqual([state]);
    expect(value('KillSignal')).toEqual(['SIGTERM']);
    // systemd has no trailing comments: a `#` after a value would become part of it.
    for (const l of lines) if (/^[A-Za-z]+=/.test(l)) expect(l, l).not.toMatch(/\s#/);
  });
});
