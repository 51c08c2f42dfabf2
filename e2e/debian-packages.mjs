/**
 * What the e2e/ensure-*.mjs scripts share: finding a program, and installing Debian packages
 * with apt-get when the machine allows it (root, apt-get on the PATH), as a fresh CI machine
 * needs. Each script prints what it does under its own name.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

/** True when `path` exists and may be executed. */
export function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where `command` is on the PATH, or null. */
export function which(command) {
  try {
    return execFileSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** True when this process may install Debian packages (root, with apt-get). */
export function canInstall() {
  return process.getuid?.() === 0 && which('apt-get') !== null;
}

/** Runs `command`, echoing it after `tag`, with apt-get's prompts off. */
export function run(tag, command, args) {
  console.log(`${tag}: $ ${command} ${args.join(' ')}`);
  execFileSync(command, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

/**
 * Installs Debian `packages` with apt-get; refreshes the package lists first only when the
 * install fails without them (a fresh machine may have none). Returns the seconds it took.
 */
export function aptInstall(tag, packages, { recommends = true } = {}) {
  const started = Date.now();
  const args = ['install', '-y', '-q', ...(recommends ? [] : ['--no-install-recommends']), ...packages];
  try {
    run(tag, 'apt-get', args);
  } catch {
    run(tag, 'apt-get', ['update', '-q']);
    run(tag, 'apt-get', args);
  }
  return (Date.now() - started) / 1000;
}
