import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, parseRemembered, REMEMBER_KEY, SettingsMemory } from './settings-memory.ts';

function memoryStorage() {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
    removeItem: (key: string) => void items.delete(key),
  };
}

describe('SettingsMemory', () => {
  it('starts every send from the defaults when "Remember my settings" is off', () => {
    const storage = memoryStorage();
    const memory = new SettingsMemory(storage);
    expect(memory.next({ expiresInSeconds: 300, maxDownloads: '1' }, false)).toEqual(DEFAULT_SETTINGS);
    expect(storage.items.size).toBe(0);
    expect(memory.load()).toBeNull();
  });

  it('with it on, the next send and the next visit start from the last send’s expiry and limit', () => {
    const storage = memoryStorage();
    expect(new SettingsMemory(storage).next({ expiresInSeconds: 3600, maxDownloads: ' 2 ' }, true)).toEqual({
      expiresInSeconds: 3600,
      maxDownloads: '2',
    });
    expect(new SettingsMemory(storage).load()).toEqual({ expiresInSeconds: 3600, maxDownloads: '2' });
    // Only these two fields are ever stored: never a password.
    expect(Object.keys(JSON.parse(storage.items.get(REMEMBER_KEY) ?? '{}')).sort()).toEqual([
      'expiresInSeconds',
      'maxDownloads',
    ]);
  });

  it('forgets when turned off', () => {
    const storage = memoryStorage();
    const memory = new SettingsMemory(storage);
    memory.save({ expiresInSeconds: 300, maxDownloads: '5' });
    memory.forget();
    expect(memory.load()).toBeNull();
  });

  it('remembers nothing where storage refuses', () => {
    const refusing = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('denied');
      },
      removeItem: () => {
        throw new Error('denied');
      },
    };
    const memory = new SettingsMemory(refusing);
    expect(memory.next({ expiresInSeconds: 300, maxDownloads: '5' }, true)).toEqual(DEFAULT_SETTINGS);
    expect(memory.load()).toBeNull();
  });

  it('ignores stored values it does not recognise', () => {
    expect(parseRemembered('{"expiresInSeconds":7,"maxDownloads":""}')).toBeNull();
    expect(parseRemembered('{"expiresInSeconds":3600,"maxDownloads":"x"}')).toBeNull();
    expect(parseRemembered('not json')).toBeNull();
    expect(parseRemembered(null)).toBeNull();
    expect(parseRemembered('{"expiresInSeconds":300,"maxDownloads":"3"}')).toEqual({
      expiresInSeconds: 300,
      maxDownloads: '3',
    });
  });
});
