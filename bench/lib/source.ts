/**
 * The source tree a benchmark measures, and the app built from it. In a checkout shared
 * by several people, half-made edits must neither break nor skew a run, so by default
 * (`BENCH_SRC=head`) the committed app is measured: a `git archive HEAD` snapshot of
 * client/, shared/, server/ and public/ in a temp dir, with the benchmark's own files as
 * they are now and the checkout's node_modules. `BENCH_SRC=worktree` measures the files as
 * they are.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'vite';

export type SourceKind = 'head' | 'worktree';

/** BENCH_SRC from the environment: `head` (default) or `worktree`. */
export function sourceKind(): SourceKind {
  const src = process.env.BENCH_SRC ?? 'head';
  if (src !== 'head' && src !== 'worktree') throw new Error(`BENCH_SRC must be "head" or "worktree", got "${src}"`);
  return src;
}

/**
 * The tree to measure under `checkout` and a name for it (a commit, or "worktree").
 * `benchPaths` (relative to bench/) are copied from the checkout into a snapshot.
 */
export function sourceTree(
  checkout: string,
  tmp: string,
  kind: SourceKind,
  benchPaths: readonly string[],
): { root: string; label: string } {
  if (kind === 'worktree') return { root: checkout, label: 'worktree' };
  const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: checkout, encoding: 'utf8' }).trim();
  const root = join(tmp, 'src');
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
 * false keeps the functions' names for a CPU profile.
 */
export async function buildApp(root: string, outDir: string, minify = true): Promise<void> {
  await build({
    configFile: join(root, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true, ...(minify ? {} : { minify: false }) },
  });
}
