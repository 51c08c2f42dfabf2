/**
 * What the send view knows about upload access: whether this server takes shares only from
 * holders of an upload key (GET /api/config), and whether this browser has one. The key is
 * entered once, kept in IndexedDB (upload-key-db.ts) and sent with every creation.
 */
import { type AppConfig, appConfigSchema, type UploadAccess, uploadKeySchema } from '../../../shared/access-api.ts';
import type { FerryError } from '../../../shared/errors.ts';
import { call } from '../api/share-client.ts';
import { loadUploadKey, removeUploadKey, saveUploadKey } from './upload-key-db.ts';

export class UploadAccessState {
  #mode = $state<UploadAccess | null>(null);
  #hasKey = $state(false);
  #formOpen = $state(false);
  #problem = $state<string | null>(null);

  /** `open`, `key`, or null until the server answered. */
  get mode(): UploadAccess | null {
    return this.#mode;
  }

  get hasKey(): boolean {
    return this.#hasKey;
  }

  /** The key form is shown: asked for, or needed and missing, or the server refused the key. */
  get formOpen(): boolean {
    return this.#formOpen || (this.#mode === 'key' && !this.#hasKey);
  }

  /** Why the key form is open, when the server refused a send. */
  get problem(): string | null {
    return this.#problem;
  }

  async load(): Promise<void> {
    this.#hasKey = (await loadUploadKey().catch(() => null)) !== null;
    try {
      const config: AppConfig = await call(appConfigSchema, '/api/config');
      this.#mode = config.uploadAccess;
    } catch {
      // Offline or an older server: sends say what the server wants when they are refused.
    }
  }

  /** Saves a key; answers a sentence when it is not one. */
  async save(text: string): Promise<string | null> {
    const parsed = uploadKeySchema.safeParse(text.trim());
    if (!parsed.success) return 'That is not an upload key. A key starts with “fk_” and has 46 characters.';
    await saveUploadKey(parsed.data);
    this.#hasKey = true;
    this.#formOpen = false;
    this.#problem = null;
    return null;
  }

  async remove(): Promise<void> {
    await removeUploadKey();
    this.#hasKey = false;
  }

  open(): void {
    this.#formOpen = true;
  }

  close(): void {
    this.#formOpen = false;
    this.#problem = null;
  }

  /** A send was refused for its key: open the form and say why. */
  refused(error: FerryError | null): void {
    if (error?.code === 'UPLOAD_KEY_REQUIRED') {
      this.#mode = 'key';
      this.#problem = 'Enter the upload key this server’s admin gave you, then send again.';
      this.#formOpen = true;
    } else if (error?.code === 'UPLOAD_KEY_INVALID') {
      this.#problem = 'The server did not accept the saved upload key. Enter a new one from this server’s admin.';
      this.#formOpen = true;
    }
  }
}
