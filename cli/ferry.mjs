#!/usr/bin/env node
// The `ferry` command (package.json "bin"). The TypeScript is bundled with esbuild (a few
// tens of milliseconds) into node_modules/.cache/ferry/, named by its content, and run as
// plain JavaScript: tsx's loader would hold some 35 MiB more for the whole run.
import { createHash } from 'node:crypto';
import { access, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
// esbuild is a devDependency (tsx and vite need it too); an install without dev dependencies
// has none, and then tsx runs the source.
const esbuild = await import('esbuild').catch(() => null);
if (esbuild) await import(pathToFileURL(await bundle(esbuild)).href);
else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./main.ts');
}

/**
 * Bundles cli/main.ts, and cli/hash-worker.ts (the hashing thread it starts), into one
 * directory of the cache named by their content; answers the main file.
 */
async function bundle(esbuild) {
  const bundled = await esbuild.build({
    entryPoints: { cli: join(root, 'cli/main.ts'), 'hash-worker': join(root, 'cli/hash-worker.ts') },
    outdir: join(root, 'node_modules/.cache/ferry/out'),
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    write: false,
    logLevel: 'error',
  });
  // The build service (a child process) is not needed past this point: it would live, and
  // hold its memory, as long as the command.
  await esbuild.stop?.();
  const digest = createHash('sha256');
  for (const file of bundled.outputFiles) digest.update(basename(file.path)).update(file.contents);
  const cache = join(root, 'node_modules/.cache/ferry');
  const dir = join(cache, `cli-${digest.digest('hex').slice(0, 16)}`);
  const main = join(dir, 'cli.mjs');
  if (await exists(main)) return main;
  // Written into a temporary directory and renamed: two commands started at once never run
  // half a bundle (the one that renames second finds the directory there and drops its own).
  const temporary = `${dir}.${process.pid}`;
  await mkdir(temporary, { recursive: true });
  for (const file of bundled.outputFiles) await writeFile(join(temporary, basename(file.path)), file.contents);
  try {
    await rename(temporary, dir);
  } catch (error) {
    if (!(await exists(main))) throw error;
    await rm(temporary, { recursive: true, force: true });
  }
  return main;
}

async function exists(file) {
  return access(file).then(
    () => true,
    () => false,
  );
}
