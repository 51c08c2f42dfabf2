import { describe, expect, it, vi } from 'vitest';
import { Attention, type AttentionEnv, activeRegistration, type NotificationStatic } from './attention.ts';

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

function fakeDocument(state: DocumentVisibilityState = 'visible') {
  const listeners = new Map<string, Set<() => void>>();
  return {
    visibilityState: state,
    addEventListener(type: string, fn: () => void) {
      if (!listeners.has(type)) listeners.set(type, new Set());
      listeners.get(type)!.add(fn);
    },
    removeEventListener(type: string, fn: () => void) {
      listeners.get(type)?.delete(fn);
    },
    /** The UA changes visibility (and drops wake locks when hidden). */
    set(next: DocumentVisibilityState) {
      this.visibilityState = next;
      for (const fn of listeners.get('visibilitychange') ?? []) fn();
    },
  };
}

function fakeWakeLock() {
  const locks: { released: boolean; release: () => Promise<void>; drop: () => void }[] = [];
  const wakeLock = {
    request: vi.fn(async (_type: 'screen') => {
      let onRelease: (() => void) | undefined;
      const lock = {
        released: false,
        release: vi.fn(async () => {
          lock.released = true;
          onRelease?.();
        }),
        addEventListener: (_t: 'release', fn: () => void) => {
          onRelease = fn;
        },
        drop: () => {
          lock.released = true;
          onRelease?.();
        },
      };
      locks.push(lock);
      return lock;
    }),
  };
  return { wakeLock, locks, held: () => locks.filter((l) => !l.released).length };
}

function fakeNotification(initial: NotificationPermission = 'default', answer: NotificationPermission = 'granted') {
  const shown: { title: string; options?: NotificationOptions }[] = [];
  const Fake = class {
    static permission: NotificationPermission = initial;
    static requestPermission = vi.fn(async () => {
      Fake.permission = answer;
      return answer;
    });
    constructor(title: string, options?: NotificationOptions) {
      shown.push({ title, ...(options ? { options } : {}) });
    }
  };
  return { Notification: Fake as unknown as NotificationStatic, shown, Fake };
}

describe('Attention: wake lock', () => {
  it('is acquired when a transfer starts and released when all end', async () => {
    const { wakeLock, held } = fakeWakeLock();
    const attention = new Attention({ wakeLock, document: fakeDocument() });
    const a = {};
    const b = {};
    attention.running(a, true);
    attention.running(b, true);
    await flush();
    expect(wakeLock.request).toHaveBeenCalledTimes(1);
    expect(wakeLock.request).toHaveBeenCalledWith('screen');
    expect(held()).toBe(1);
    attention.running(a, false);
    await flush();
    expect(held()).toBe(1);
    attention.running(b, false);
    await flush();
    expect(held()).toBe(0);
    expect(attention.locked).toBe(false);
  });

  it('releases a lock granted after the transfer already ended', async () => {
    const { wakeLock, held } = fakeWakeLock();
    const attention = new Attention({ wakeLock, document: fakeDocument() });
    attention.running('t', true);
    attention.running('t', false);
    await flush();
    expect(held()).toBe(0);
  });

  it('is taken again when the page becomes visible while a transfer runs', async () => {
    const { wakeLock, locks, held } = fakeWakeLock();
    const document = fakeDocument();
    const attention = new Attention({ wakeLock, document });
    attention.running('t', true);
    await flush();
    // Hidden: the browser releases the lock by itself.
    locks[0]!.drop();
    document.set('hidden');
    await flush();
    expect(held()).toBe(0);
    document.set('visible');
    await flush();
    expect(wakeLock.request).toHaveBeenCalledTimes(2);
    expect(held()).toBe(1);
  });

  it('is not taken again on return when nothing runs', async () => {
    const { wakeLock } = fakeWakeLock();
    const document = fakeDocument();
    const attention = new Attention({ wakeLock, document });
    attention.running('t', true);
    await flush();
    attention.running('t', false);
    document.set('hidden');
    document.set('visible');
    await flush();
    expect(wakeLock.request).toHaveBeenCalledTimes(1);
  });

  it('does not ask while hidden; waits for the page to be visible', async () => {
    const { wakeLock, held } = fakeWakeLock();
    const document = fakeDocument('hidden');
    const attention = new Attention({ wakeLock, document });
    attention.running('t', true);
    await flush();
    expect(wakeLock.request).not.toHaveBeenCalled();
    document.set('visible');
    await flush();
    expect(held()).toBe(1);
  });

  it('survives a refused request and a missing API', async () => {
    const refusing = { request: vi.fn(async () => Promise.reject(new DOMException('no', 'NotAllowedError'))) };
    const attention = new Attention({ wakeLock: refusing, document: fakeDocument() });
    expect(() => attention.running('t', true)).not.toThrow();
    await flush();
    expect(attention.locked).toBe(false);
    const bare = new Attention({});
    expect(() => {
      bare.running('t', true);
      bare.running('t', false);
      bare.dispose();
    }).not.toThrow();
  });
});

describe('Attention: resume', () => {
  it('runs resumers when the page becomes visible, not when it hides', () => {
    const document = fakeDocument();
    const attention = new Attention({ document });
    const nudge = vi.fn();
    const off = attention.onResume(nudge);
    document.set('hidden');
    expect(nudge).not.toHaveBeenCalled();
    document.set('visible');
    expect(nudge).toHaveBeenCalledTimes(1);
    off();
    document.set('hidden');
    document.set('visible');
    expect(nudge).toHaveBeenCalledTimes(1);
  });

  it('keeps going when one resumer throws', () => {
    const document = fakeDocument();
    const attention = new Attention({ document });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const second = vi.fn();
    attention.onResume(() => {
      throw new Error('boom');
    });
    attention.onResume(second);
    expect(() => document.set('visible')).not.toThrow();
    expect(second).toHaveBeenCalled();
    warn.mockRestore();
  });
});

describe('Attention: notifications', () => {
  function setup(permission: NotificationPermission = 'default', answer: NotificationPermission = 'granted') {
    const document = fakeDocument();
    const fake = fakeNotification(permission, answer);
    const store = new Map<string, string>();
    const storage = {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => store.set(k, v),
    };
    const env: AttentionEnv = { document, Notification: fake.Notification, storage };
    return { attention: new Attention(env), document, env, ...fake, store };
  }

  it('asks for permission only when turned on, then notifies only while hidden', async () => {
    const { attention, document, shown, Fake } = setup();
    await attention.notify('t', 'b');
    expect(Fake.requestPermission).not.toHaveBeenCalled();
    expect(await attention.setNotifying(true)).toBe(true);
    expect(Fake.requestPermission).toHaveBeenCalledTimes(1);
    await attention.notify('Visible', 'page says it');
    expect(shown).toHaveLength(0);
    document.set('hidden');
    await attention.notify('Your Ferry link is ready', 'done');
    expect(shown).toEqual([{ title: 'Your Ferry link is ready', options: expect.objectContaining({ body: 'done' }) }]);
  });

  it('does not notify when permission is denied or the user turned it off', async () => {
    const denied = setup('default', 'denied');
    denied.document.set('hidden');
    expect(await denied.attention.setNotifying(true)).toBe(false);
    await denied.attention.notify('t', 'b');
    expect(denied.shown).toHaveLength(0);

    const off = setup('granted');
    off.document.set('hidden');
    await off.attention.setNotifying(true);
    await off.attention.setNotifying(false);
    await off.attention.notify('t', 'b');
    expect(off.shown).toHaveLength(0);
  });

  it('remembers the choice when permission stays granted', async () => {
    const first = setup('granted');
    await first.attention.setNotifying(true);
    const again = new Attention({ ...first.env });
    expect(again.notifying).toBe(true);
    await again.setNotifying(false);
    expect(new Attention({ ...first.env }).notifying).toBe(false);
  });

  it('prefers the service worker registration when there is one', async () => {
    const { env, shown } = setup('granted');
    const viaWorker = vi.fn(async () => {});
    const attention = new Attention({ ...env, showNotification: async () => viaWorker });
    await attention.setNotifying(true);
    (env.document as ReturnType<typeof fakeDocument>).set('hidden');
    await attention.notify('t', 'b');
    expect(viaWorker).toHaveBeenCalledWith('t', expect.objectContaining({ body: 'b' }));
    expect(shown).toHaveLength(0);
  });

  it('shows nothing when the user came back while the service worker was awaited', async () => {
    const { env, shown } = setup('granted');
    const viaWorker = vi.fn(async () => {});
    let activate: (show: typeof viaWorker) => void = () => {};
    const attention = new Attention({
      ...env,
      showNotification: () => new Promise((resolve) => (activate = resolve)),
    });
    await attention.setNotifying(true);
    const document = env.document as ReturnType<typeof fakeDocument>;
    document.set('hidden');
    const notifying = attention.notify('t', 'b');
    document.set('visible');
    activate(viaWorker);
    await notifying;
    expect(viaWorker).not.toHaveBeenCalled();
    expect(shown).toHaveLength(0);
  });

  it('never throws where notifications are missing or refused by the constructor', async () => {
    const bare = new Attention({ document: fakeDocument('hidden') });
    expect(bare.canNotify).toBe(false);
    expect(await bare.setNotifying(true)).toBe(false);
    await expect(bare.notify('t', 'b')).resolves.toBeUndefined();

    const Throwing = class {
      static permission: NotificationPermission = 'granted';
      static requestPermission = async () => 'granted' as const;
      constructor() {
        throw new TypeError('Illegal constructor');
      }
    } as unknown as NotificationStatic;
    const storage = { getItem: () => '1', setItem: () => {} };
    const attention = new Attention({ document: fakeDocument('hidden'), Notification: Throwing, storage });
    expect(attention.notifying).toBe(true);
    await expect(attention.notify('t', 'b')).resolves.toBeUndefined();
  });

  it('builds from the node environment without browser APIs', async () => {
    const { browserEnv } = await import('./attention.ts');
    expect(browserEnv()).toEqual({});
  });

  describe('the service worker registration', () => {
    /** A registration whose worker activates when `activate` is called (never, if it is not). */
    function installing(active = false) {
      const shown: string[] = [];
      const registration = {
        active: active ? {} : null,
        showNotification: vi.fn(async (title: string) => {
          if (!registration.active) throw new TypeError('No active registration available');
          shown.push(title);
        }),
      };
      let activate = () => {};
      const ready = new Promise<ServiceWorkerRegistration>((resolve) => {
        activate = () => {
          registration.active = {};
          resolve(registration as unknown as ServiceWorkerRegistration);
        };
      });
      const container = {
        getRegistration: async () => registration as unknown as ServiceWorkerRegistration,
        ready,
      };
      return { container, registration, shown, activate };
    }

    it('is used at once when its worker is active', async () => {
      const { container, shown } = installing(true);
      const show = await activeRegistration(container, 50);
      await show?.('Download complete');
      expect(shown).toEqual(['Download complete']);
    });

    it('waits for a worker that is still installing (a first visit) instead of being refused', async () => {
      const { container, registration, shown, activate } = installing();
      const showing = activeRegistration(container, 5_000);
      await flush();
      activate();
      const show = await showing;
      expect(show).not.toBeNull();
      await show?.('Download complete');
      expect(shown).toEqual(['Download complete']);
      expect(registration.showNotification).toHaveBeenCalledTimes(1);
    });

    it('gives up after the wait, so the page notification is used', async () => {
      const { container, registration } = installing();
      expect(await activeRegistration(container, 20)).toBeNull();
      expect(registration.showNotification).not.toHaveBeenCalled();
      const none = { getRegistration: async () => undefined, ready: new Promise<ServiceWorkerRegistration>(() => {}) };
      expect(await activeRegistration(none, 20)).toBeNull();
    });
  });
});
