/**
 * The source tree a benchmark measures, and the app built from it. In a checkout shared
 * by several people, half-made edits must neither break nor skew a run, so by default
 * (`BENCH_SRC=head`) the committed app is measured: a `git archive HEAD` snapshot of
 * client/, shared/, server/ and public/ in a temp dir, with the benchmark's own files as
 * they are now and the checkout's node_modules. `BENCH_SRC=worktree` measures the files as
 * they are; any other value is a git revision to snapshot instead of HEAD (`HEAD~3`, a
 * commit), for a before/after pair.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'vite';

/** `worktree`, or the git revision to snapshot. */
export type SourceKind = 'worktree' | { revision: string };

/** BENCH_SRC (or `name`) from the environment: `head` (default), `worktree`, or a git revision. */
export function sourceKind(name = 'BENCH_SRC'): SourceKind {
  const src = process.env[name] ?? 'head';
  if (src === 'worktree') return src;
  if (!/^[\w./~^@{}-]+$/.test(src))
    throw new Error(`${name} must be "head", "worktree" or a git revision, got "${src}"`);
  return { revision: src === 'head' ? 'HEAD' : src };
}

/**
 * The tree to measure under `checkout` and a name for it (a commit, or "worktree").
 * `benchPaths` (relative to bench/) are copied from the checkout into a snapshot, which is
 * made in `tmp/<dir>` (two snapshots, e.g. before and after, need two dirs).
 */
export function sourceTree(
  checkout: string,
  tmp: string,
  kind: SourceKind,
  benchPaths: readonly string[],
  dir = 'src',
): { root: string; label: string } {
  if (kind === 'worktree') return { root: checkout, label: 'worktree' };
  const commit = execFileSync('git', ['rev-parse', '--verify', `${kind.revision}^{commit}`], {
    cwd: checkout,
    encoding: 'utf8',
  }).trim();
  const root = join(tmp, dir);
  mkdirSync(root);
  const paths = ['client', 'shared', 'server', 'public', 'vite.config.ts', 'tsconfig.json', 'package.json'];
  const archive = execFileSync('git', ['archive', commit, ...paths], { cwd: checkout, maxBuffer: 256 * 1024 * 1024 });
  execFileSync('tar', ['-x', '-C', root], { input: archive });
  for (const path of benchPaths) cpSync(join(checkout, 'bench', path), join(root, 'bench', path), { recursive: true });
  symlinkSync(join(checkout, 'node_modules'), join(root, 'node_modules'));
  return { root, label: commit.slice(0, 12) };
}

/**
 * Builds the web app of `root` into `outDir` with the app's own Vite config; `minify`
 * false keeps the functions' names for a CPU profile. The config's `root: 'client'` is
 * relative to the working directory, so it is given here: without it a snapshot's build
 * compiled the checkout's client/ instead (its worktree, half-made edits and all).
 */
export async function buildApp(root: string, outDir: string, minify = true): Promise<void> {
  await build({
    configFile: join(root, 'vite.config.ts'),
    root: join(root, 'client'),
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true, ...(minify ? {} : { minify: false }) },
  });
}
