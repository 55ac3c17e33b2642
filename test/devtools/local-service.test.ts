import { access } from 'node:fs/promises';
import { get } from 'node:http';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { useService } from '../support/require-service.js';
import {
  isListening,
  startAlertmanager,
  startInfluxV1,
  startMosquitto,
  startVictoriaMetrics,
  type Mosquitto,
} from '../support/services.js';

// Each block starts its real service from PATH, proves it works end to end with a plain client,
// then takes it down and brings it back the way the fault tests will.

const clients: MqttClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
});

async function connect(broker: Mosquitto, auth: { username?: string; password?: string } = {}): Promise<MqttClient> {
  const client = await connectAsync(broker.url, { reconnectPeriod: 0, connectTimeout: 3_000, protocolVersion: 5, ...auth });
  clients.push(client);
  return client;
}

function nextMessage(client: MqttClient, topic: string): Promise<{ payload: string; retain: boolean }> {
  return new Promise((resolve) => {
    client.on('message', (t, payload, packet) => {
      if (t === topic) resolve({ payload: payload.toString(), retain: packet.retain });
    });
  });
}

describe('mosquitto', () => {
  const broker = useService('mosquitto', () => startMosquitto());

  it('listens only where it says and carries a message from publisher to subscriber', async () => {
    expect(broker().url).toBe(`mqtt://127.0.0.1:${broker().port}`);
    const sub = await connect(broker());
    const pub = await connect(broker());
    const got = nextMessage(sub, 'dcim/v1/test/ping');
    await sub.subscribeAsync('dcim/v1/test/ping', { qos: 1 });
    await pub.publishAsync('dcim/v1/test/ping', 'hello', { qos: 1 });
    expect(await got).toEqual({ payload: 'hello', retain: false });
  });

  it('keeps retained messages across a restart on the same port (persistence in its data dir)', async () => {
    const pub = await connect(broker());
    await pub.publishAsync('dcim/v1/test/state', '{"online":true}', { qos: 1, retain: true });
    await pub.endAsync();

    await broker().halt();
    expect(broker().isRunning()).toBe(false);
    expect(await isListening(broker().port)).toBe(false);
    await expect(connectAsync(broker().url, { reconnectPeriod: 0, connectTimeout: 1_000 })).rejects.toThrow();

    await broker().restart();
    expect(broker().isRunning()).toBe(true);
    const sub = await connect(broker());
    const got = nextMessage(sub, 'dcim/v1/test/state');
    await sub.subscribeAsync('dcim/v1/test/state', { qos: 1 });
    expect(await got).toEqual({ payload: '{"online":true}', retain: true });
  });
});

describe('mosquitto with a password file', () => {
  const broker = useService('mosquitto', () => startMosquitto({ users: [{ username: 'agent-1', password: 's3cret pass' }] }));

  it('refuses anonymous and wrong-password clients and accepts the configured user', async () => {
    await expect(connectAsync(broker().url, { reconnectPeriod: 0, protocolVersion: 5 })).rejects.toThrow(/Not authorized|Bad User Name or Password/i);
    await expect(
      connectAsync(broker().url, { reconnectPeriod: 0, protocolVersion: 5, username: 'agent-1', password: 'wrong' }),
    ).rejects.toThrow(/Not authorized|Bad User Name or Password/i);
    const client = await connect(broker(), { username: 'agent-1', password: 's3cret pass' });
    expect(client.connected).toBe(true);
    expect(broker().users).toEqual([{ username: 'agent-1', password: 's3cret pass' }]);
  });
});

describe('influxd (v1)', () => {
  const influx = useService('influxd', () => startInfluxV1());
  const ts = 1_767_225_600_000; // 2026-01-01T00:00:00Z

  it('accepts a line written with plain fetch to /write and answers it through InfluxQL', async () => {
    await influx().createDatabase('dcim');
    const res = await fetch(`${influx().url}/write?db=dcim&precision=ms`, {
      method: 'POST',
      body: `pdu,site=gui_an,device=pdu-a1 active_power_w=1234.5,energy_kwh=42i ${ts}`,
    });
    expect(res.status).toBe(204);
    const series = await influx().query('dcim', 'SELECT active_power_w, energy_kwh FROM pdu GROUP BY site');
    expect(series).toEqual([
      { name: 'pdu', tags: { site: 'gui_an' }, columns: ['time', 'active_power_w', 'energy_kwh'], values: [[ts, 1234.5, 42]] },
    ]);
  });

  it('reports InfluxQL and write errors with the server message', async () => {
    await expect(influx().query('dcim', 'SELECT FROM')).rejects.toThrow(/error parsing query/);
    await expect(influx().query('no_such_db', 'SELECT * FROM pdu')).rejects.toThrow(/database not found/);
    await expect(influx().write('dcim', 'pdu active_power_w=')).rejects.toThrow(/HTTP 400.*unable to parse/);
  });

  it('keeps its data through a clean restart and through a crash (WAL replay)', async () => {
    await influx().write('dcim', [`ups,site=gui_an load_pct=41 ${ts}`, `ups,site=gui_an load_pct=43 ${ts + 1000}`]);
    const port = influx().port;

    await influx().halt();
    expect(await fetch(`${influx().url}/ping`).then(() => 'answered', () => 'refused')).toBe('refused');
    await influx().restart();
    expect(influx().port).toBe(port);
    expect((await influx().query('dcim', 'SELECT count(load_pct) FROM ups'))[0]?.values).toEqual([[0, 2]]);

    await influx().write('dcim', `ups,site=gui_an load_pct=45 ${ts + 2000}`);
    await influx().halt({ hard: true });
    await influx().restart();
    expect((await influx().query('dcim', 'SELECT count(load_pct) FROM ups'))[0]?.values).toEqual([[0, 3]]);
  });
});

describe('victoria-metrics', () => {
  const vm = useService('victoria-metrics', () => startVictoriaMetrics());
  const ts = 1_767_225_600_000;

  it('stores what /api/v2/write receives and gives it back as raw samples', async () => {
    const res = await fetch(`${vm().url}/api/v2/write?bucket=dcim&precision=ms`, {
      method: 'POST',
      body: [`meter,site=gui_an,role=it energy_kwh=100.5 ${ts}`, `meter,site=gui_an,role=it energy_kwh=101.25 ${ts + 60_000}`].join('\n'),
    });
    expect(res.status).toBe(204);
    const series = await vm().waitForSeries('meter_energy_kwh', (s) => s[0]?.values.length === 2);
    expect(series).toEqual([
      { metric: { __name__: 'meter_energy_kwh', site: 'gui_an', role: 'it' }, values: [100.5, 101.25], timestamps: [ts, ts + 60_000] },
    ]);
  });

  it('keeps its data through a restart, and a frozen instance stops answering until thawed', async () => {
    await vm().restart();
    expect((await vm().exportSeries('meter_energy_kwh'))[0]?.values).toEqual([100.5, 101.25]);

    await vm().freeze();
    // A new connection each time, as a client that was not already talking to it: fetch's pool
    // is per process and would otherwise hand back whatever connection it holds for this port.
    const health = (): Promise<string> =>
      new Promise((resolve) => {
        const req = get(`${vm().url}/health`, { agent: false, timeout: 300 }, (res) => {
          res.resume();
          resolve(String(res.statusCode));
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', (e) => resolve(e.message === 'timeout' ? 'TimeoutError' : e.message));
      });
    expect(await health()).toBe('TimeoutError');
    vm().thaw();
    expect(await health()).toBe('200');
  });
});

describe('alertmanager', () => {
  const am = useService('alertmanager', () => startAlertmanager());
  const alert = {
    labels: { alertname: 'PueAboveTarget', site: 'gui_an', severity: 'warning' },
    annotations: { summary: 'PUE 1.42 above target 1.25' },
  };

  it('accepts POST /api/v2/alerts and lists the alert back', async () => {
    const res = await fetch(`${am().url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([alert]),
    });
    expect(res.status).toBe(200);
    const alerts = await am().alerts(['alertname="PueAboveTarget"']);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ labels: alert.labels, annotations: alert.annotations, receivers: ['blackhole'], state: 'active' });
    expect(await am().alerts(['alertname="Nothing"'])).toEqual([]);
  });

  it('forgets alerts on restart: they live in memory, so a notifier must keep re-sending firing alerts', async () => {
    await am().restart();
    expect(await am().alerts()).toEqual([]);
  });
});

describe('alertmanager with its own config', () => {
  const am = useService('alertmanager', () =>
    startAlertmanager({ config_yaml: 'route:\n  receiver: oncall\nreceivers:\n  - name: oncall\n' }),
  );

  it('routes by the given config and removes its data dir on stop', async () => {
    await fetch(`${am().url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ labels: { alertname: 'UpsOnBattery' } }]),
    });
    expect((await am().alerts())[0]?.receivers).toEqual(['oncall']);
    const dir = am().data_dir;
    await am().stop();
    await expect(access(dir)).rejects.toThrow(/ENOENT/);
    await am().stop(); // a second stop (the afterAll) is harmless
    await expect(am().restart()).rejects.toThrow(/stopped for good/);
  });
});
