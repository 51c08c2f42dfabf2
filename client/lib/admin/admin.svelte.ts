/**
 * The admin page's state: the admin token (this tab only: sessionStorage, never IndexedDB),
 * the server's overview, the key made last (shown once), and the last failure.
 */
import type { AdminOverview, CreatedKey, CreateKeyRequest } from '../../../shared/access-api.ts';
import { FerryError } from '../../../shared/errors.ts';
import { adminDelete, createKey, getOverview } from './admin-client.ts';

const TOKEN_KEY = 'ferry-admin-token';

export class AdminState {
  #token = $state<string | null>(sessionStorage.getItem(TOKEN_KEY));
  #overview = $state<AdminOverview | null>(null);
  #createdKey = $state<CreatedKey | null>(null);
  #error = $state<string | null>(null);
  #busy = $state(false);

  get signedIn(): boolean {
    return this.#token !== null;
  }
  get overview(): AdminOverview | null {
    return this.#overview;
  }
  /** The key made last: its only showing. */
  get createdKey(): CreatedKey | null {
    return this.#createdKey;
  }
  get error(): string | null {
    return this.#error;
  }
  get busy(): boolean {
    return this.#busy;
  }

  async signIn(token: string): Promise<void> {
    this.#token = token.trim();
    sessionStorage.setItem(TOKEN_KEY, this.#token);
    await this.refresh();
  }

  signOut(): void {
    this.#token = null;
    this.#overview = null;
    this.#createdKey = null;
    sessionStorage.removeItem(TOKEN_KEY);
  }

  refresh(): Promise<void> {
    return this.#run(async (token) => {
      this.#overview = await getOverview(token);
    });
  }

  revokeShare(id: string): Promise<void> {
    return this.#run((token) => adminDelete(token, 'shares', id), true);
  }

  closeRequest(id: string): Promise<void> {
    return this.#run((token) => adminDelete(token, 'requests', id), true);
  }

  revokeKey(id: string): Promise<void> {
    return this.#run((token) => adminDelete(token, 'keys', id), true);
  }

  createKey(body: CreateKeyRequest): Promise<void> {
    return this.#run(async (token) => {
      this.#createdKey = await createKey(token, body);
    }, true);
  }

  dismissKey(): void {
    this.#createdKey = null;
  }

  /** Runs one call with the token; a refused token signs out, any failure is said. */
  async #run(action: (token: string) => Promise<void>, thenRefresh = false): Promise<void> {
    const token = this.#token;
    if (token === null) return;
    this.#busy = true;
    this.#error = null;
    try {
      await action(token);
      if (thenRefresh) this.#overview = await getOverview(token);
    } catch (error) {
      if (error instanceof FerryError && error.code === 'UNAUTHORIZED') {
        this.signOut();
        this.#error = 'The server did not accept this admin token.';
      } else {
        this.#error = error instanceof Error ? error.message : String(error);
      }
    } finally {
      this.#busy = false;
    }
  }
}
