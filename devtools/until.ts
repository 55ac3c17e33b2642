/**
 * Waits in real time until `cond` holds (it may be async), polling every `every_ms`; after
 * `timeout_ms` fails with `what` and, when given, `state()` to say where things stood. The default
 * bound is generous: it costs nothing when the condition comes, and a loaded machine is slow.
 */
export async function until(what: string, cond: () => boolean | Promise<boolean>, timeout_ms = 30_000, state?: () => string, every_ms = 20): Promise<void> {
  const deadline = Date.now() + timeout_ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout_ms} ms waiting for ${what}${state ? `: ${state()}` : ''}`);
    await new Promise((r) => setTimeout(r, every_ms));
  }
}
