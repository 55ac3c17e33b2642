import net from 'node:net';

/**
 * A TCP port on 127.0.0.1 that was free a moment ago: the kernel picks it (bind to 0), we
 * release it and hand the number to a child process. Another process may take it in between;
 * the service launchers detect "address in use" at startup and retry on a fresh port.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('freePort: listening socket has no TCP address'));
        return;
      }
      server.close((err) => (err ? reject(err) : resolve(address.port)));
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:port right now. */
export function isListening(port: number, timeout_ms = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (listening: boolean): void => {
      socket.destroy();
      resolve(listening);
    };
    socket.setTimeout(timeout_ms, () => done(false));
    // With nothing listening, the kernel may pick the probed port itself as the probe's source
    // port (both come from the ephemeral range) and the socket connects to itself: a TCP
    // self-connect, which would report a listener that is not there and hold the port against
    // the child about to bind it.
    socket.once('connect', () => done(socket.localPort !== port));
    socket.once('error', () => done(false));
  });
}
