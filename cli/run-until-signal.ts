/**
 * The first SIGINT/SIGTERM (or the end of an optional duration) asks a long-running command to
 * stop; a second signal exits at once (130). Watching starts before anything is started, so a
 * signal that arrives while a part still waits (for its broker, say) stops it too.
 */
export interface StopWatch {
  /** Resolves on the first signal or when the duration is over. */
  readonly stopped: Promise<void>;
  /** Aborted at the same moment, for parts that take an AbortSignal. */
  readonly signal: AbortSignal;
  dispose(): void;
}

export function watchStop(durationMs?: number): StopWatch {
  const abort = new AbortController();
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
  const finish = () => {
    if (abort.signal.aborted) process.exit(130);
    abort.abort();
    resolveStopped();
  };
  process.on('SIGINT', finish);
  process.on('SIGTERM', finish);
  const timer = durationMs !== undefined ? setTimeout(finish, durationMs) : undefined;
  timer?.unref();
  // Without this the pending promise alone would not keep the process alive until a signal.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  return {
    stopped,
    signal: abort.signal,
    dispose() {
      clearInterval(keepAlive);
      if (timer) clearTimeout(timer);
      // The second-signal handler stays until the stop is done: dispose runs after it.
      process.removeListener('SIGINT', finish);
      process.removeListener('SIGTERM', finish);
    },
  };
}

/** Keep a command alive until a signal (or the duration), then run `stop`. */
export async function runUntilSignal(stop: () => Promise<void>, durationMs?: number, watch: StopWatch = watchStop(durationMs)): Promise<void> {
  try {
    await watch.stopped;
    await stop();
  } finally {
    watch.dispose();
  }
}
