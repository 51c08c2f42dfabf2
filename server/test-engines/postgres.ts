/**
 * A throwaway Postgres cluster for tests, on a free loopback port: initdb with trust auth
 * and no fsync into a scratch directory, pg_ctl start (socket in the same directory, TCP
 * on 127.0.0.1 only), and on stop an immediate shutdown and the directory removed. About a
 * second in all (see ../shared/STACK-NOTES.md "Engines for running several nodes").
 * Debian's `postgresql` package is installed when missing (install.ts).
 */
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ensureEngine } from './install.ts';
import { engineUser, freePort, runAs, scratchDir } from './process.ts';

const PG_ROOT = '/usr/lib/postgresql';

/** Debian's initdb of the newest installed major version ("initdb" on the PATH elsewhere). */
function initdbCandidates(): string[] {
  let versions: string[] = [];
  try {
    versions = readdirSync(PG_ROOT).sort((a, b) => Number(b) - Number(a));
  } catch {
    // no Debian layout
  }
  return [...versions.map((v) => path.join(PG_ROOT, v, 'bin', 'initdb')), `${PG_ROOT}/15/bin/initdb`, 'initdb'];
}

export interface PostgresCluster {
  /** postgres://postgres@127.0.0.1:PORT/postgres (trust auth, no password). */
  url: string;
  port: number;
  /** Stops the server and keeps its data (`resume` starts it again on the same port). */
  halt(): void;
  resume(): void;
  stop(): void;
}

/** Installs Postgres if needed and starts a new, empty cluster. */
export async function startPostgres(): Promise<PostgresCluster> {
  const initdb = ensureEngine({ debianPackage: 'postgresql', candidates: initdbCandidates() });
  const bin = path.dirname(initdb);
  const user = engineUser('postgres');
  const dir = scratchDir('ferry-pg-', user);
  const data = path.join(dir, 'data');
  const port = await freePort();
  runAs(user, initdb, ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300`;
  const resume = () =>
    runAs(user, path.join(bin, 'pg_ctl'), ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', 'start']);
  const halt = () => runAs(user, path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
  resume();

  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', stop);
    try {
      runAs(user, path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // halted already
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  // A test run that ends without its teardown must not leave a server behind.
  process.on('exit', stop);
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, halt, resume, stop };
}
