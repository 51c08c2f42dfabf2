/**
 * ICE servers for RTCPeerConnection: STUN URLs as configured, TURN URLs with short-lived
 * credentials in coturn's shared-secret scheme ("TURN REST API", draft-uberti-behave-turn-
 * rest-00; coturn `--use-auth-secret --static-auth-secret=<secret>`):
 *   username   = "<expiry, unix seconds>:<id>"
 *   credential = base64(HMAC-SHA1(secret, username))
 * coturn recomputes the HMAC and refuses the username once its expiry has passed.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { IceConfig, IceServer } from '../../shared/signaling.ts';
import type { FerryConfig } from '../config.ts';
import { sendJson } from '../http/respond.ts';
import type { Router } from '../http/router.ts';

/** The coturn credential for `username`. */
export function turnCredential(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username).digest('base64');
}

/** The ICE configuration at `now` for one user (`id` goes into the TURN username). */
export function iceConfig(ice: FerryConfig['ice'], now: number, id: string): IceConfig {
  const iceServers: IceServer[] = [];
  if (ice.stunUrls.length > 0) iceServers.push({ urls: [...ice.stunUrls] });
  const iceTransportPolicy = ice.transportPolicy;
  if (ice.turnUrls.length === 0 || !ice.turnSecret) return { iceServers, iceTransportPolicy, expiresAt: null };
  const expiry = Math.floor(now / 1000) + ice.turnTtlS;
  const username = `${expiry}:${id}`;
  iceServers.push({ urls: [...ice.turnUrls], username, credential: turnCredential(ice.turnSecret, username) });
  return { iceServers, iceTransportPolicy, expiresAt: expiry * 1000 };
}

/** GET /api/ice: fresh credentials for a client whose earlier ones are about to expire. */
export function addIceRoute(router: Router, config: FerryConfig): Router {
  return router.add('/api/ice', {
    GET: ({ res }) => sendJson(res, 200, iceConfig(config.ice, config.now(), randomBytes(9).toString('base64url'))),
  });
}
