/** The app's two places: the send view at `/` and a share at `/s/<id>`. */
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

  go(path: string): void {
    history.pushState(null, '', path);
    this.#path = location.pathname;
  }
}

export const route = new Route();
