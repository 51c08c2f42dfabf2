/** Small pieces the engine helpers share: a free loopback port, a scratch directory an engine's own user can use, running as that user. */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Whom to run an engine as: the named system user when we are root (Postgres refuses root), else ourselves. */
export function engineUser(name: string): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * A new directory under the system temp dir that `user` owns. mkdtemp makes it 0700; the
 * temp dir itself (1777) is traversable, so the engine reaches it.
 */
export function scratchDir(prefix: string, user: { uid: number; gid: number } | undefined): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  if (user) {
    chownSync(dir, user.uid, user.gid);
    chmodSync(dir, 0o700);
  }
  return dir;
}

/** Runs `command` to completion as `user` (or ourselves); its output goes to the error on failure. */
export function runAs(user: { uid: number; gid: number } | undefined, command: string, args: string[]): void {
  execFileSync(command, args, { stdio: 'pipe', ...(user ?? {}) });
}
