/** A signaling client for the tests: a real `ws` WebSocket with a queue of parsed server messages. */
import WebSocket from 'ws';
import { parseServerMessage, type ServerMessage, type ServerMessageOf, SIGNAL_PATH } from '../../shared/signaling.ts';

type Waiter = { match: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void };

export class SignalClient {
  readonly ws: WebSocket;
  /** Received and not yet taken by `next`. */
  readonly inbox: ServerMessage[] = [];
  /** Frames that did not parse as server messages (there should be none). */
  readonly garbage: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  welcome!: ServerMessageOf<'welcome'>;
  #waiters: Waiter[] = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
    );
    ws.on('message', (data) => {
      const parsed = parseServerMessage(String(data));
      if (!parsed.ok) {
        this.garbage.push(String(data));
        return;
      }
      const waiter = this.#waiters.find((w) => w.match(parsed.message));
      if (waiter) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve(parsed.message);
      } else this.inbox.push(parsed.message);
    });
  }

  /** Connects to `<base>/signal` and waits for `welcome`. */
  static async connect(
    base: string,
    opts: { headers?: Record<string, string>; autoPong?: boolean; path?: string } = {},
  ): Promise<SignalClient> {
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}${opts.path ?? SIGNAL_PATH}`, {
      headers: opts.headers ?? {},
      autoPong: opts.autoPong ?? true,
    });
    ws.on('error', () => undefined);
    const client = new SignalClient(ws);
    client.welcome = await client.next('welcome');
    return client;
  }

  /** The first message of `type` (and matching `where`), waiting up to `timeoutMs` for it. */
  next<T extends ServerMessage['type']>(
    type: T,
    where: (m: ServerMessageOf<T>) => boolean = () => true,
    timeoutMs = 3000,
  ): Promise<ServerMessageOf<T>> {
    const match = (m: ServerMessage): boolean => m.type === type && where(m as ServerMessageOf<T>);
    const index = this.inbox.findIndex(match);
    if (index >= 0) return Promise.resolve(this.inbox.splice(index, 1)[0] as ServerMessageOf<T>);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as ServerMessageOf<T>);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`no ${type} within ${timeoutMs} ms; inbox: ${JSON.stringify(this.inbox).slice(0, 500)}`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  /** Sends an object as JSON, or a string / bytes as they are. */
  send(message: unknown, opts: { binary?: boolean } = {}): void {
    const frame = typeof message === 'string' || Buffer.isBuffer(message) ? message : JSON.stringify(message);
    this.ws.send(frame, { binary: opts.binary ?? false });
  }

  get id(): string {
    return this.welcome.peerId;
  }

  close(): void {
    this.ws.close();
  }
}

/** Resolves with the HTTP status a refused WebSocket handshake got. */
export function refusedStatus(base: string, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}${path}`, { headers });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => reject(new Error(`${path} was accepted`)));
    ws.on('error', () => undefined);
  });
}

/** Pairs two connected devices by code (`a` makes it, `b` enters it); answers their pair room and its token. */
export async function pairByCode(a: SignalClient, b: SignalClient): Promise<{ room: string; roomToken: string }> {
  a.send({ type: 'pair-create' });
  b.send({ type: 'pair-join', code: (await a.next('pair-code')).code });
  const { room, roomToken } = await b.next('paired');
  await a.next('paired');
  return { room, roomToken };
}
