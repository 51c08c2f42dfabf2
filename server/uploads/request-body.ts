/**
 * The request body @tus/server reads, without a copy of every byte.
 *
 * @tus/server 2 wraps each Node request in srvx's NodeRequest, whose `body` is
 * `Readable.toWeb(req)`; on Node 20 that makes a new Uint8Array copy of every chunk the
 * socket delivers (`new Uint8Array(buffer)`), and tus turns the web stream back into a Node
 * stream (`Readable.fromWeb`, which passes chunks through as they are) before the file store
 * writes them. Per 256 MiB uploaded that was a second 256 MiB of short-lived ArrayBuffers
 * and about twice as many major GCs as the write itself needs (bench: the upload's server
 * CPU). `nodeBody` gives the same stream of bytes with the same backpressure, end, error and
 * cancel behaviour, handing on the socket's own Buffers.
 */
import type { IncomingMessage } from 'node:http';
import { finished } from 'node:stream';

/** Bytes queued ahead of the reader before the request is paused (one socket read). */
export const BODY_HIGH_WATER_BYTES = 64 * 1024;

/**
 * A web ReadableStream of `req`'s body. Like `Readable.toWeb`: the request is paused while
 * the queue is full, the stream errors when the request does (a dropped connection), and
 * cancelling it destroys the request.
 */
export function nodeBody(req: IncomingMessage): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        req.on('data', (chunk: Buffer) => {
          controller.enqueue(chunk);
          if ((controller.desiredSize ?? 0) <= 0) req.pause();
        });
        finished(req, (error) => {
          if (error) controller.error(error);
          else controller.close();
        });
      },
      pull() {
        req.resume();
      },
      cancel(reason: unknown) {
        req.destroy(reason instanceof Error ? reason : undefined);
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: BODY_HIGH_WATER_BYTES }),
  );
}

/** The Node request srvx keeps on the web Request it hands to tus (`runtime.node.req`). */
function nodeRequestOf(request: Request): IncomingMessage | undefined {
  const runtime: unknown = Reflect.get(request, 'runtime');
  if (typeof runtime !== 'object' || runtime === null) return undefined;
  const node: unknown = Reflect.get(runtime, 'node');
  if (typeof node !== 'object' || node === null) return undefined;
  const req: unknown = Reflect.get(node, 'req');
  return typeof req === 'object' && req !== null && 'socket' in req ? (req as IncomingMessage) : undefined;
}

/**
 * Gives `request` (srvx's wrapper of a Node request) the uncopied body when it carries one.
 * A request that is not such a wrapper, or has no body (GET, HEAD), is left as it is.
 */
export function useNodeBody(request: Request): Request {
  const req = nodeRequestOf(request);
  if (!req || request.method === 'GET' || request.method === 'HEAD') return request;
  // An own getter shadows NodeRequest's, which has not run yet. Lazy like srvx's: a request
  // tus answers without reading its body is never read here, so Node drains it after the
  // answer and the keep-alive connection stays usable.
  let body: ReadableStream<Uint8Array> | undefined;
  Object.defineProperty(request, 'body', {
    get: () => {
      body ??= nodeBody(req);
      return body;
    },
    configurable: true,
  });
  return request;
}

/**
 * Makes `server` (a @tus/server Server) read request bodies through `useNodeBody`. Its
 * `handle(req, res)` wraps the Node request and passes it to its own `handler` method,
 * which this wraps on the instance; tus itself is unchanged. False when that method is
 * not there (another @tus/server version): bodies are then read, and copied, as before.
 */
export function readBodiesUncopied(server: object): boolean {
  const handler: unknown = Reflect.get(server, 'handler');
  if (typeof handler !== 'function') return false;
  return Reflect.set(server, 'handler', (request: Request): unknown => handler.call(server, useNodeBody(request)));
}
