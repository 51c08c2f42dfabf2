/**
 * A TCP proxy in front of the Ferry server that limits what the server sends to
 * `bytesPerSecond`, for every connection together (one token bucket). Unlike CDP network
 * emulation, which reaches only a page and its dedicated workers, it also slows a
 * service worker's fetches. Pages opened at `url` see it as the server's origin.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface ThrottleProxy {
  url: string;
  close(): Promise<void>;
}

export async function throttleProxy(serverPort: number, bytesPerSecond: number): Promise<ThrottleProxy> {
  let nextFree = 0;
  const sockets = new Set<Socket>();
  const proxy = createServer((client) => {
    const upstream = connect(serverPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      const now = Date.now();
      nextFree = Math.max(now, nextFree) + (chunk.length / bytesPerSecond) * 1000;
      upstream.pause();
      setTimeout(() => {
        if (!client.destroyed) client.write(chunk, () => upstream.resume());
      }, nextFree - now);
    });
    // The server closing (or dying) closes the client's connection once what it sent is out.
    upstream.on('end', () => setTimeout(() => client.end(), Math.max(0, nextFree - Date.now())));
    upstream.on('close', () => setTimeout(() => client.destroy(), Math.max(0, nextFree - Date.now()) + 10));
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const address = proxy.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://localhost:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        proxy.close(() => resolve());
      }),
  };
}
