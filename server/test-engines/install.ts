/**
 * Finding an engine's binary for the tests, installing its Debian package when it is
 * missing: CI and new machines are fresh, and run as root with apt-get (as
 * e2e/ensure-coturn.mjs does for coturn). Without root or apt-get the answer says what to
 * install instead of guessing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface Engine {
  /** What the package is called, for messages and apt-get. */
  debianPackage: string;
  /** Where the binary may already be, first match wins (absolute paths or PATH names). */
  candidates: string[];
}

/** The first candidate that exists, or undefined. */
export function findBinary(candidates: readonly string[]): string | undefined {
  for (const candidate of candidates) {
    if (candidate.startsWith('/')) {
      if (existsSync(candidate)) return candidate;
      continue;
    }
    try {
      const found = execFileSync('sh', ['-c', `command -v ${candidate}`], { encoding: 'utf8' }).trim();
      if (found) return found;
    } catch {
      // not on the PATH
    }
  }
  return undefined;
}

function aptGet(args: string[]): void {
  execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

/**
 * The engine's binary, installing its package with apt-get when it is missing and this
 * process is root. Throws a sentence naming the package when neither works.
 */
export function ensureEngine(engine: Engine): string {
  const found = findBinary(engine.candidates);
  if (found) return found;
  if (process.getuid?.() !== 0 || !findBinary(['apt-get'])) {
    throw new Error(
      `${engine.debianPackage} is not installed and cannot be installed here (needs root and apt-get): ` +
        `install it (${engine.candidates.join(' or ')}) to run the tests that need it`,
    );
  }
  const started = Date.now();
  console.log(`test engines: installing Debian package "${engine.debianPackage}" with apt-get`);
  const install = ['install', '-y', '-q', '--no-install-recommends', engine.debianPackage];
  try {
    aptGet(install);
  } catch {
    // A fresh machine may have no package lists yet.
    aptGet(['update', '-q']);
    aptGet(install);
  }
  const installed = findBinary(engine.candidates);
  if (!installed)
    throw new Error(`apt-get installed ${engine.debianPackage} but ${engine.candidates[0]} is still missing`);
  console.log(`test engines: ${engine.debianPackage} installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return installed;
}
