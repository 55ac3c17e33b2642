/**
 * Keep a long-running command alive until SIGINT/SIGTERM (or an optional duration), then stop
 * its parts in reverse order. A second signal exits at once.
 */
export async function runUntilSignal(stop: () => Promise<void>, durationMs?: number): Promise<void> {
  await new Promise<void>((resolve) => {
    let stopping = false;
    const finish = () => {
      if (stopping) process.exit(130);
      stopping = true;
      resolve();
    };
    process.once('SIGINT', finish);
    process.once('SIGTERM', finish);
    if (durationMs !== undefined) setTimeout(finish, durationMs).unref();
  });
  await stop();
}
