#!/usr/bin/env node
/**
 * Makes sure the end-to-end suite has coturn's `turnserver` for the relayed journey
 * (e2e/p2p-turn.spec.ts starts it itself on a free loopback port), on a fresh machine too:
 *
 * 1. $TURNSERVER_PATH, or `turnserver` on the PATH (fast path: nothing to do);
 * 2. else, as root on a machine with apt-get, Debian's `coturn` package (4.6: it relays to
 *    loopback peers only with `--allow-loopback-peers`, which the spec passes);
 * 3. else nothing: the spec fails and says how to install it.
 */
import { aptInstall, canInstall, which } from './debian-packages.mjs';

const found = process.env.TURNSERVER_PATH ?? which('turnserver');
if (found) {
  console.log(`ensure-coturn: using ${found}`);
} else if (canInstall()) {
  console.log('ensure-coturn: no turnserver; installing Debian package "coturn" with apt-get');
  const seconds = aptInstall('ensure-coturn', ['coturn'], { recommends: false });
  const installed = which('turnserver');
  if (!installed) {
    console.error('ensure-coturn: apt-get finished but turnserver is still not on the PATH');
    process.exit(1);
  }
  console.log(`ensure-coturn: installed ${installed} in ${seconds.toFixed(1)} s`);
} else {
  console.warn(
    'ensure-coturn: turnserver not found and apt-get not usable (needs root); install coturn ' +
      'or set TURNSERVER_PATH, or e2e/p2p-turn.spec.ts fails',
  );
}
