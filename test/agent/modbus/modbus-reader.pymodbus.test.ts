import { describe, expect, it } from 'vitest';
import { ModbusProfileSchema, SystemClock, type ModbusProfile, type Reading } from '../../../contract/index.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { ModbusReader } from '../../../agent/modbus/modbus-reader.js';
import { createModbusSerialTransport } from '../../../agent/modbus/modbus-serial-transport.js';
import { freeTcpPort, startPymodbus, useService } from '../support/services.js';

/**
 * The Modbus reader against a real Modbus server: test/agent/fixtures/modbus-server.py
 * (pymodbus) serves the SDM630 layout with the values below on several unit ids.
 */
const SDM630_VALUES = {
  voltage_l1_v: 230.1,
  voltage_l2_v: 231.2,
  voltage_l3_v: 229.8,
  current_l1_a: 12.5,
  current_l2_a: 13.25,
  current_l3_a: 11.75,
  active_power_w: 8123.5,
  frequency_hz: 50.02,
  energy_kwh: 46341.5,
};

const sdm630 = loadProfiles().get('eastron-sdm630') as ModbusProfile;
const cdab: ModbusProfile = { ...sdm630, id: 'sdm630-cdab', points: sdm630.points.map((p) => ({ ...p, order: 'CDAB' as const })) };

function reader(port: number, unitId: number, profile: ModbusProfile, opts: { framing?: 'tcp' | 'rtu_over_tcp'; timeoutMs?: number; retries?: number } = {}) {
  const timeoutMs = opts.timeoutMs ?? 1000;
  const transport = createModbusSerialTransport({ host: '127.0.0.1', port, framing: opts.framing ?? 'tcp', timeoutMs });
  return new ModbusReader({ profile, transport, unitId, policy: { timeoutMs, retries: opts.retries ?? 1 }, clock: new SystemClock() });
}

const values = (rs: Reading[]) => Object.fromEntries(rs.map((r) => [r.point, r.quality === 'good' ? r.value : r.error]));

async function poll(r: ModbusReader) {
  try {
    return await r.read();
  } finally {
    await r.close();
  }
}

describe('ModbusReader against pymodbus', () => {
  const server = useService('pymodbus', () => startPymodbus());

  it('reads the SDM630 layout (float32 ABCD) in two planned requests', async () => {
    const res = await poll(reader(server().tcpPort, 1, sdm630));
    expect(values(res.readings)).toEqual(SDM630_VALUES);
    expect(res.readings.find((x) => x.point === 'active_power_w')).toEqual({ point: 'active_power_w', unit: 'W', value: 8123.5, quality: 'good' });
    expect(res.poll).toMatchObject({ requests: 2, retries: 0, timeouts: 0 });
  });

  it('reads word-swapped floats (CDAB) with the CDAB order', async () => {
    const res = await poll(reader(server().tcpPort, 2, cdab));
    expect(values(res.readings)).toEqual(SDM630_VALUES);
    // …and the same registers read as ABCD give different (wrong) numbers: the order matters.
    const wrong = await poll(reader(server().tcpPort, 2, sdm630));
    expect(values(wrong.readings).active_power_w).not.toBe(8123.5);
  });

  it('reads through an RTU-over-TCP gateway', async () => {
    const res = await poll(reader(server().rtuPort, 1, sdm630, { framing: 'rtu_over_tcp' }));
    expect(values(res.readings)).toEqual(SDM630_VALUES);
  });

  it('one RTU gateway, two units: a silent unit does not spoil the next unit\'s answers', async () => {
    const transport = createModbusSerialTransport({ host: '127.0.0.1', port: server().rtuPort, framing: 'rtu_over_tcp', timeoutMs: 150 });
    const make = (unitId: number) => new ModbusReader({ profile: sdm630, transport, unitId, policy: { timeoutMs: 150, retries: 0 }, clock: new SystemClock() });
    try {
      const silent = await make(9).read();
      expect(silent.poll.timeouts).toBe(1);
      const ok = await make(1).read();
      expect(values(ok.readings)).toEqual(SDM630_VALUES);
    } finally {
      await transport.close();
    }
  });

  it('retries a busy device (exception 6) and counts the retries', async () => {
    const res = await poll(reader(server().tcpPort, 3, sdm630));
    expect(values(res.readings)).toEqual(SDM630_VALUES);
    expect(res.poll).toMatchObject({ requests: 4, retries: 2, timeouts: 0 });
  });

  it('a device that stays busy yields DCIM_E_MODBUS_EXCEPTION per point, every read still tried', async () => {
    const res = await poll(reader(server().tcpPort, 4, sdm630));
    expect(new Set(res.readings.map((r) => r.error))).toEqual(new Set(['DCIM_E_MODBUS_EXCEPTION']));
    expect(res.poll).toMatchObject({ requests: 4, retries: 2 });
  });

  it('a merged read refused with "illegal address" (a hole) is retried point by point', async () => {
    const res = await poll(reader(server().tcpPort, 5, sdm630));
    expect(values(res.readings)).toEqual(SDM630_VALUES);
    // 2 planned reads; the 52..73 read spans a hole → 3 single reads instead.
    expect(res.poll.requests).toBe(5);
  });

  it('a silent unit times out, retries once, and ends the poll', async () => {
    const t0 = Date.now();
    const res = await poll(reader(server().tcpPort, 9, sdm630, { timeoutMs: 150, retries: 1 }));
    expect(res.poll).toMatchObject({ requests: 2, retries: 1, timeouts: 2 });
    expect(new Set(res.readings.map((r) => r.error))).toEqual(new Set(['DCIM_E_MODBUS_TIMEOUT']));
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('status bits, uint32, SunSpec scale factor and coils from one profile', async () => {
    const profile = ModbusProfileSchema.parse({
      id: 'mixed',
      class: 'generic',
      vendor: 'test',
      model: 'mixed',
      protocol: 'modbus',
      points: [
        { name: 'alarm_1', register: 'holding', address: 0, type: 'uint16', bit: 1 },
        { name: 'alarm_2', register: 'holding', address: 0, type: 'uint16', bit: 2 },
        { name: 'run_state', register: 'holding', address: 0, type: 'uint16', bit: 3, enum: { '0': 'stopped', '1': 'running' } },
        { name: 'energy_wh', register: 'holding', address: 10, type: 'uint32', unit: 'Wh' },
        { name: 'supply_temp_c', register: 'holding', address: 20, type: 'int16', unit: 'degC', scale_factor: { register: 'holding', address: 21 } },
        { name: 'pump_1', register: 'coil', address: 0, type: 'bool' },
        { name: 'pump_2', register: 'coil', address: 1, type: 'bool' },
        { name: 'pump_4', register: 'coil', address: 3, type: 'bool' },
      ],
      test_vectors: [{ point: 'energy_wh', raw: [0, 1], expected: 1 }],
    });
    const res = await poll(reader(server().tcpPort, 1, profile));
    expect(values(res.readings)).toEqual({ alarm_1: true, alarm_2: false, run_state: 'running', energy_wh: 100000, supply_temp_c: -0.5, pump_1: true, pump_2: false, pump_4: true });
    // One holding read (0..21) and one coil read (0..3).
    expect(res.poll.requests).toBe(2);
  });

  it('nothing listening: DCIM_E_MODBUS_CONNECT for every point, no request sent', async () => {
    const res = await poll(reader(await freeTcpPort(), 1, sdm630));
    expect(new Set(res.readings.map((r) => r.error))).toEqual(new Set(['DCIM_E_MODBUS_CONNECT']));
    expect(res.poll.requests).toBe(0);
  });

  it('keeps one connection across polls', async () => {
    const r = reader(server().tcpPort, 1, sdm630);
    try {
      const a = await r.read();
      const b = await r.read();
      expect(values(a.readings)).toEqual(values(b.readings));
    } finally {
      await r.close();
    }
  });
});
