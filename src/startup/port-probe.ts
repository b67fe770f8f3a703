import net from 'node:net';

/**
 * Resolves when `host:port` can be listened on, and rejects with the listen error (EADDRINUSE, EACCES,
 * EADDRNOTAVAIL) otherwise. main.ts asks this before it starts a database or runs migrations, so a taken
 * port costs nothing. Port 0 (any free port) always can.
 */
export function probePort(port: number, host: string): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve()));
  });
}
