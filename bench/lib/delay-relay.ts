/**
 * A UDP relay on loopback that holds every datagram `delayMs` before passing it on, both
 * ways: the delay netem would add, for a TURN server behind it (this machine's kernel has
 * no netem, see bench/README.md). Each client address gets its own upstream socket, so the
 * TURN server sees one 5-tuple per client, as without the relay. Datagrams keep their order
 * (one constant delay, timers of one duration fire in order).
 *
 * `spawnDelayRelay` runs it in a process of its own (this file is also its entry point), so
 * that the benchmark's busy event loop (Playwright, samplers) does not add to the delay.
 */
import { spawn } from 'node:child_process';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { within } from './stats.ts';

const HOST = '127.0.0.1';
/** Socket buffers (bytes; Linux caps them at net.core.rmem_max / wmem_max): bursts must not be dropped. */
const BUFFER_BYTES = 4 * 1024 * 1024;

function udpSocket(): Socket {
  return createSocket({ type: 'udp4', recvBufferSize: BUFFER_BYTES, sendBufferSize: BUFFER_BYTES });
}

function bound(socket: Socket, port = 0): Promise<number> {
  return new Promise((done, fail) => {
    socket.once('error', fail);
    socket.bind(port, HOST, () => {
      socket.off('error', fail);
      done(socket.address().port);
    });
  });
}

export class DelayRelay {
  readonly port: number;
  readonly #front: Socket;
  readonly #delayMs: number;
  readonly #upstream = new Map<string, Promise<Socket>>();

  private constructor(front: Socket, port: number, delayMs: number) {
    this.#front = front;
    this.port = port;
    this.#delayMs = delayMs;
  }

  /** Listens on a free loopback port and passes datagrams to and from `targetPort`, each held `delayMs`. */
  static async start(targetPort: number, delayMs: number): Promise<DelayRelay> {
    const front = udpSocket();
    const relay = new DelayRelay(front, await bound(front), delayMs);
    front.on('message', (message: Buffer, from: RemoteInfo) => {
      void relay.#upstreamFor(from).then((socket) => {
        setTimeout(() => socket.send(message, targetPort, HOST), delayMs);
      });
    });
    return relay;
  }

  #upstreamFor(client: RemoteInfo): Promise<Socket> {
    const key = `${client.address}:${client.port}`;
    let socket = this.#upstream.get(key);
    if (!socket) {
      const upstream = udpSocket();
      upstream.on('message', (message: Buffer) => {
        setTimeout(() => this.#front.send(message, client.port, client.address), this.#delayMs);
      });
      socket = bound(upstream).then(() => upstream);
      this.#upstream.set(key, socket);
    }
    return socket;
  }

  async close(): Promise<void> {
    for (const socket of this.#upstream.values()) (await socket).close();
    await new Promise<void>((done) => this.#front.close(() => done()));
  }
}

/** Runs a DelayRelay in a child process; resolves with its port and a stop function. */
export async function spawnDelayRelay(
  targetPort: number,
  delayMs: number,
): Promise<{ port: number; stop(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', import.meta.filename, String(targetPort), String(delayMs)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const port = await within(
    new Promise<number>((done, fail) => {
      let out = '';
      child.stdout.on('data', (data: Buffer) => {
        out += data.toString();
        const match = /relay on (\d+)/.exec(out);
        if (match) done(Number(match[1]));
      });
      child.once('exit', (code) => fail(new Error(`the delay relay exited (${code}) before it was ready`)));
    }),
    15_000,
    'delay relay start',
  );
  return {
    port,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

if (process.argv[1] === import.meta.filename) {
  const [target, delay] = process.argv.slice(2).map(Number);
  if (!Number.isInteger(target) || !(delay! >= 0)) throw new Error('usage: delay-relay.ts <target port> <delay ms>');
  const relay = await DelayRelay.start(target!, delay!);
  console.log(`relay on ${relay.port}`);
  // Never outlive the benchmark: it closes our stdin when it goes away.
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}
