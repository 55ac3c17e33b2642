import { describe, expect, it } from 'vitest';
import type { Reading } from '../../contract/index.js';
import { judgePoll, nextStatus } from '../../agent/device-status.js';

const good = (point = 'p'): Reading => ({ point, value: 1, quality: 'good' });
const bad = (error: string, point = 'p'): Reading => ({ point, value: null, quality: 'bad', error });

describe('judgePoll', () => {
  it.each([
    ['all good', [good(), good()], { state: 'up' }],
    ['nothing to read (an empty table)', [], { state: 'up' }],
    ['sentinels and undecodable values do not degrade', [good(), bad('DCIM_E_VALUE_UNAVAILABLE'), bad('DCIM_E_DECODE_VALUE'), bad('DCIM_E_SNMP_NO_SUCH_OBJECT'), bad('DCIM_E_SNMP_BAD_TYPE')], { state: 'up' }],
    ['every reading timed out', [bad('DCIM_E_SNMP_TIMEOUT'), bad('DCIM_E_SNMP_TIMEOUT')], { state: 'down', code: 'DCIM_E_SNMP_TIMEOUT' }],
    ['connection refused', [bad('DCIM_E_MODBUS_CONNECT')], { state: 'down', code: 'DCIM_E_MODBUS_CONNECT' }],
    ['some points failed in transport', [good(), bad('DCIM_E_MODBUS_EXCEPTION')], { state: 'degraded', code: 'DCIM_E_MODBUS_EXCEPTION' }],
    ['the most frequent failure names the state', [bad('DCIM_E_SNMP_ERROR'), bad('DCIM_E_SNMP_TIMEOUT'), bad('DCIM_E_SNMP_TIMEOUT')], { state: 'down', code: 'DCIM_E_SNMP_TIMEOUT' }],
    ['a transport failure next to a sentinel is still degraded', [bad('DCIM_E_DECODE_VALUE'), bad('DCIM_E_SNMP_TIMEOUT')], { state: 'degraded', code: 'DCIM_E_SNMP_TIMEOUT' }],
  ] as const)('%s', (_name, readings, expected) => {
    expect(judgePoll([...readings])).toEqual(expected);
  });
});

describe('nextStatus', () => {
  it('first poll is always a change', () => {
    expect(nextStatus(undefined, { state: 'up' }, 1000)).toEqual({ status: { state: 'up', since: 1000, last_ok: 1000 }, changed: true });
    expect(nextStatus(undefined, { state: 'down', code: 'DCIM_E_SNMP_TIMEOUT' }, 1000)).toEqual({
      status: { state: 'down', code: 'DCIM_E_SNMP_TIMEOUT', since: 1000, last_ok: null },
      changed: true,
    });
  });

  it('same state keeps since, moves last_ok, is not a change', () => {
    const a = nextStatus(undefined, { state: 'up' }, 1000).status;
    expect(nextStatus(a, { state: 'up' }, 2000)).toEqual({ status: { state: 'up', since: 1000, last_ok: 2000 }, changed: false });
  });

  it('going down keeps the last good time', () => {
    const a = nextStatus(undefined, { state: 'up' }, 1000).status;
    const b = nextStatus(a, { state: 'down', code: 'DCIM_E_MODBUS_TIMEOUT' }, 2000);
    expect(b).toEqual({ status: { state: 'down', code: 'DCIM_E_MODBUS_TIMEOUT', since: 2000, last_ok: 1000 }, changed: true });
    expect(nextStatus(b.status, { state: 'down', code: 'DCIM_E_MODBUS_TIMEOUT' }, 3000).changed).toBe(false);
  });

  it('a different failure code is a change', () => {
    const a = nextStatus(undefined, { state: 'down', code: 'DCIM_E_MODBUS_TIMEOUT' }, 1000).status;
    expect(nextStatus(a, { state: 'down', code: 'DCIM_E_MODBUS_CONNECT' }, 2000)).toMatchObject({ changed: true, status: { since: 2000 } });
  });
});
