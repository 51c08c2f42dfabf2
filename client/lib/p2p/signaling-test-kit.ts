/**
 * For the client's signaling tests in Node: real SignalingClients (the page's own class)
 * against a real Ferry server on loopback. Node 20 has no global WebSocket, so `ws` stands
 * in for the browser's; the device's identity is given instead of read from IndexedDB.
 * Callers stub `$state` before importing the classes under test (vitest does not compile
 * runes here).
 */
import { vi } from 'vitest';
import WebSocket from 'ws';
import { SIGNAL_PATH } from '../../../shared/signaling.ts';
import type { DeviceIdentity } from './p2p-db.ts';
import type { SignalingClient } from './signaling.svelte.ts';
import type { SignalingEvents } from './signaling-events.ts';

/**
 * Makes `ws` the global WebSocket for the SignalingClients of this test file; answers the
 * sockets they open, in order, so a test can cut one as a lost network would.
 */
export function useNodeWebSocket(): WebSocket[] {
  const sockets: WebSocket[] = [];
  class TrackedSocket extends WebSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
      this.on('error', () => undefined);
    }
  }
  vi.stubGlobal('WebSocket', TrackedSocket);
  return sockets;
}

/** The /signal address of a server at `base` (http://127.0.0.1:port). */
export function signalUrl(base: string): string {
  return `${base.replace(/^http/, 'ws')}${SIGNAL_PATH}`;
}

/** A device whose identity is kept in memory (renames too). */
export function memoryDevice(identity: DeviceIdentity) {
  let current = identity;
  return {
    load: async () => current,
    rename: async (name: string) => {
      current = { ...current, name };
      return current;
    },
  };
}

/** Resolves with the first payload of `event` that `match` accepts, or rejects after `ms`. */
export function nextEvent<K extends keyof SignalingEvents>(
  client: SignalingClient,
  event: K,
  match: (payload: SignalingEvents[K]) => boolean = () => true,
  ms = 5000,
): Promise<SignalingEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no ${event} within ${ms} ms`));
    }, ms);
    const stop = client.on(event, (payload) => {
      if (!match(payload)) return;
      clearTimeout(timer);
      stop();
      resolve(payload);
    });
  });
}

/** Waits until `check` holds (polling every 10 ms), or fails after `ms` naming `what`. */
export async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
