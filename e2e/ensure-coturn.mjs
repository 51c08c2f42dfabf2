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
import { execFileSync } from 'node:child_process';

function run(command, args) {
  console.log(`ensure-coturn: $ ${command} ${args.join(' ')}`);
  execFileSync(command, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

function which(command) {
  try {
    return execFileSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

const started = Date.now();
const found = process.env.TURNSERVER_PATH ?? which('turnserver');
if (found) {
  console.log(`ensure-coturn: using ${found}`);
} else if (process.getuid?.() === 0 && which('apt-get')) {
  console.log('ensure-coturn: no turnserver; installing Debian package "coturn" with apt-get');
  try {
    run('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'coturn']);
  } catch {
    // A fresh machine may have no package lists yet.
    run('apt-get', ['update', '-q']);
    run('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'coturn']);
  }
  const installed = which('turnserver');
  if (!installed) {
    console.error('ensure-coturn: apt-get finished but turnserver is still not on the PATH');
    process.exit(1);
  }
  console.log(`ensure-coturn: installed ${installed} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} else {
  console.warn(
    'ensure-coturn: turnserver not found and apt-get not usable (needs root); install coturn ' +
      'or set TURNSERVER_PATH, or e2e/p2p-turn.spec.ts fails',
  );
}
