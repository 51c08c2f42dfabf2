/** How a connection to another device goes: straight, or through a TURN server. */
export type Route = 'direct' | 'relayed';

/** What the UI says about a route. */
export function routeLabel(route: Route): string {
  return route === 'direct' ? 'direct' : 'relayed (TURN)';
}
