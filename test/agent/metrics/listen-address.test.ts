import { describe, expect, it } from 'vitest';
import { formatListenAddress, listenHostProblem, parseListenAddress } from '../../../agent/metrics/listen-address.js';

describe('the metrics listen address', () => {
  it.each([
    ['127.0.0.1:9464', '127.0.0.1', 9464],
    ['0.0.0.0:9464', '0.0.0.0', 9464],
    ['[::]:9464', '::', 9464],
    ['[::1]:9464', '::1', 9464],
    ['localhost:9464', 'localhost', 9464],
    ['edge-1.mgmt.example:80', 'edge-1.mgmt.example', 80],
    [' 127.0.0.1:0 ', '127.0.0.1', 0],
  ])('%j → %s port %s', (text, host, port) => {
    expect(parseListenAddress(text)).toEqual({ ok: true, value: { host, port } });
  });

  it.each([
    ['9464', /expected host:port/],
    [':9464', /expected host:port/],
    ['127.0.0.1', /expected host:port/],
    ['127.0.0.1:99999', /above 65535/],
    ['127.0.0.1:-1', /expected host:port/],
    ['::1:9464', /expected host:port/],
    ['[127.0.0.1]:9464', /not an IPv6 address/],
    ['bad_host:9464', /neither an IP address nor a host name/],
    ['http://127.0.0.1:9464', /expected host:port/],
    ['', /expected host:port/],
  ])('refuses %j', (text, reason) => {
    const r = parseListenAddress(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });

  it.each([
    [{ host: '127.0.0.1', port: 9464 }, '127.0.0.1:9464'],
    [{ host: '::1', port: 9464 }, '[::1]:9464'],
    [{ host: 'localhost', port: 1 }, 'localhost:1'],
  ])('formats %j as %s', (a, text) => {
    expect(formatListenAddress(a)).toBe(text);
  });
});

describe('whether this machine can bind the address', () => {
  const local = ['127.0.0.1', '10.1.2.3', '::1', 'fe80::1%eth0'];
  it.each<[string, boolean]>([
    ['127.0.0.1', true],
    ['127.0.0.53', true], // all of 127/8 is loopback
    ['0.0.0.0', true],
    ['::', true],
    ['::1', true],
    ['10.1.2.3', true],
    ['fe80::1', true],
    ['10.9.9.9', false],
    ['192.0.2.1', false],
    ['2001:db8::1', false],
    ['edge-1.mgmt.example', true], // a host name is resolved at start, not judged here
  ])('%s → %s', (host, bindable) => {
    const problem = listenHostProblem({ host, port: 9464 }, local);
    expect(problem === undefined).toBe(bindable);
    if (problem) expect(problem).toContain(`${host} is not an address of this machine (it has 127.0.0.1, 10.1.2.3, ::1, fe80::1%eth0)`);
  });
});
