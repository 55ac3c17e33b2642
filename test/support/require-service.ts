import { afterAll, beforeAll, beforeEach } from 'vitest';
import { fail, ok, type Result } from '../../shared/result.js';
import type { Launched } from './local-service.js';

/**
 * The one place that decides what a missing service means. A developer without mosquitto gets
 * a visible skip; CI sets DCIM_REQUIRE_SERVICES=1 so a missing service fails the run instead of
 * turning it silently green.
 */
export interface ServicePolicy {
  readonly required: boolean;
}

export function servicePolicy(env: NodeJS.ProcessEnv = process.env): ServicePolicy {
  return { required: env.DCIM_REQUIRE_SERVICES === '1' };
}

export interface Stoppable {
  stop(): Promise<void>;
}

export type Launcher<T> = () => Promise<Launched<T>>;

/**
 * Start a service, or apply the policy: returns undefined after printing "SKIPPED: …", or throws
 * when services are required. A binary that is present but fails to start always throws.
 */
export async function needService<T>(
  label: string,
  start: Launcher<T>,
  policy: ServicePolicy = servicePolicy(),
): Promise<T | undefined> {
  const started = await startOrSkip(label, start, policy);
  return started.ok ? started.value : undefined;
}

/** needService with the skip reason kept, for callers that report it. */
async function startOrSkip<T>(label: string, start: Launcher<T>, policy: ServicePolicy): Promise<Result<T, string>> {
  const launched = await start();
  if (launched.ok) return ok(launched.value);
  const why = `${label} unavailable: ${launched.reason.reason}`;
  if (policy.required) throw new Error(`${why} (DCIM_REQUIRE_SERVICES=1 requires it)`);
  console.warn(`SKIPPED: ${why}. .ci/run installs it; DCIM_REQUIRE_SERVICES=1 makes this a failure.`);
  return fail(why);
}

export interface UseServiceOptions {
  readonly policy?: ServicePolicy;
}

/**
 * Hook a service into the current describe block (or file): started once before its tests,
 * stopped after them. Returns an accessor for use inside tests. When the service is unavailable
 * every test of the block is reported as skipped with the reason (or the block fails, when
 * services are required).
 *
 *   describe('collector → InfluxDB', () => {
 *     const influx = useService('influxd', () => startInfluxV1());
 *     it('writes a point', async () => { await influx().createDatabase('dcim'); … });
 *   });
 */
export function useService<T extends Stoppable>(label: string, start: Launcher<T>, opts: UseServiceOptions = {}): () => T {
  let service: T | undefined;
  let skipReason: string | undefined;

  beforeAll(async () => {
    const started = await startOrSkip(label, start, opts.policy ?? servicePolicy());
    if (started.ok) service = started.value;
    else skipReason = started.reason;
  });

  beforeEach((ctx) => {
    if (skipReason !== undefined) ctx.skip(skipReason);
  });

  afterAll(async () => {
    const running = service;
    service = undefined;
    await running?.stop();
  });

  return () => {
    if (service === undefined) throw new Error(`${label} is not started: use it inside a test of the block that called useService`);
    return service;
  };
}
