import { requestIdOfPath } from '../../shared/request-link.ts';

/** The app's places: the send view at `/`, a share at `/s/<id>`, a request link at `/r/<id>`, the admin page at `/admin`. */
class Route {
  #path = $state(location.pathname);

  constructor() {
    addEventListener('popstate', () => {
      this.#path = location.pathname;
    });
  }

  /** The share id when the page is a share link, else null. */
  get shareId(): string | null {
    return /^\/s\/([A-Za-z0-9_-]{16})\/?$/.exec(this.#path)?.[1] ?? null;
  }

  /** The request id when the page is a request link, else null. */
  get requestId(): string | null {
    return requestIdOfPath(this.#path);
  }

  /** The admin page (`/admin`). */
  get isAdmin(): boolean {
    return /^\/admin\/?$/.test(this.#path);
  }

  go(path: string): void {
    history.pushState(null, '', path);
    this.#path = location.pathname;
  }
}

export const route = new Route();
