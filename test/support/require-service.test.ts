import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { fail, ok } from '../../shared/result.js';
import type { Launched } from './local-service.js';
import { needService, servicePolicy, useService, type Launcher } from './require-service.js';

// The skip-or-fail policy, with launchers that need nothing installed.

class FakeService {
  stops = 0;
  async stop(): Promise<void> {
    this.stops++;
  }
}

const absent: Launcher<FakeService> = async (): Promise<Launched<FakeService>> =>
  fail({ service: 'fake', reason: 'fake-daemon not on PATH (looked in /nowhere)' });

afterEach(() => {
  vi.restoreAllMocks();
});

describe('servicePolicy', () => {
  const cases: { env: NodeJS.ProcessEnv; required: boolean }[] = [
    { env: {}, required: false },
    { env: { DCIM_REQUIRE_SERVICES: '1' }, required: true },
    // Only the documented value turns it on: "0", "true" or "" must not surprise anyone.
    { env: { DCIM_REQUIRE_SERVICES: '0' }, required: false },
    { env: { DCIM_REQUIRE_SERVICES: 'true' }, required: false },
    { env: { DCIM_REQUIRE_SERVICES: '' }, required: false },
  ];
  it.each(cases)('$env → required=$required', ({ env, required }) => {
    expect(servicePolicy(env)).toEqual({ required });
  });
});

describe('needService', () => {
  it('returns the started service', async () => {
    const svc = new FakeService();
    expect(await needService('fake', async () => ok(svc), { required: true })).toBe(svc);
  });

  it('prints SKIPPED with the reason and returns undefined when not required', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(await needService('fake', absent, { required: false })).toBeUndefined();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toMatch(/^SKIPPED: fake unavailable: fake-daemon not on PATH \(looked in \/nowhere\)\..*DCIM_REQUIRE_SERVICES=1/);
  });

  it('fails, naming the reason and the switch, when services are required', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    await expect(needService('fake', absent, { required: true })).rejects.toThrow(
      'fake unavailable: fake-daemon not on PATH (looked in /nowhere) (DCIM_REQUIRE_SERVICES=1 requires it)',
    );
    expect(warn).not.toHaveBeenCalled();
  });

  it('never turns a failed start of an installed binary into a skip', async () => {
    const broken: Launcher<FakeService> = async () => {
      throw new Error('fake did not start: exited before it was ready (exit code 1)');
    };
    await expect(needService('fake', broken, { required: false })).rejects.toThrow(/exit code 1/);
  });
});

describe('useService with an unavailable service (not required)', () => {
  let ran = 0;
  const svc = useService('fake', absent, { policy: { required: false } });

  it('is reported as skipped instead of running', () => {
    ran++;
    svc();
    expect.fail('a test of a block whose service is unavailable must not run');
  });

  afterAll(() => {
    expect(ran).toBe(0);
  });
});

const started = new FakeService();
let accessor: (() => FakeService) | undefined;
describe('useService with an available service', () => {
  const svc = useService('fake', async () => ok(started), { policy: { required: true } });
  accessor = svc;

  it('hands the started service to the tests', () => {
    expect(svc()).toBe(started);
    expect(started.stops).toBe(0);
  });
});

describe('after a useService block', () => {
  it('its service has been stopped exactly once', () => {
    expect(started.stops).toBe(1);
  });

  it('its accessor refuses use outside the block', () => {
    expect(() => accessor?.()).toThrow(/fake is not started: use it inside a test of the block/);
  });
});
