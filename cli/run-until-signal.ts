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
  /** Stop by itself this long from now (a command whose duration counts once it runs). */
  stopAfter(ms: number): void;
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
  let timer: NodeJS.Timeout | undefined;
  const stopAfter = (ms: number) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(finish, ms);
    timer.unref();
  };
  if (durationMs !== undefined) stopAfter(durationMs);
  // Without this the pending promise alone would not keep the process alive until a signal.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  return {
    stopped,
    signal: abort.signal,
    stopAfter,
    dispose() {
      clearInterval(keepAlive);
      if (timer) clearTimeout(timer);
      // The second-signal handler stays until the stop is done: dispose runs after it.
      process.removeListener('SIGINT', finish);
      process.removeListener('SIGTERM', finish);
    },
  };
}

/** How long stopping may take (the store's last flush has a 10 s request timeout) before the process gives up on it. */
export const STOP_DEADLINE_MS = 30_000;

/** Keep a command alive until a signal (or the duration), then run `stop`; a stop that never ends still ends the process. */
export async function runUntilSignal(stop: () => Promise<void>, durationMs?: number, watch: StopWatch = watchStop(durationMs)): Promise<void> {
  try {
    await watch.stopped;
    const deadline = setTimeout(() => {
      console.error(`DCIM_E_CLI_INTERNAL: stopping took longer than ${STOP_DEADLINE_MS / 1000} s; exiting without waiting further`);
      process.exit(1);
    }, STOP_DEADLINE_MS);
    deadline.unref();
    try {
      await stop();
    } finally {
      clearTimeout(deadline);
    }
  } finally {
    watch.dispose();
  }
}
