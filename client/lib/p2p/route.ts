/** How a connection to another device goes (shared/p2p/route.ts, shared with the command). */
export { type Route, routeLabel } from '../../../shared/p2p/route.ts';
