#!/usr/bin/env node
// The `ferry` command (package.json "bin"). The TypeScript is bundled with esbuild (a few
// tens of milliseconds) into node_modules/.cache/ferry/, named by its content, and run as
// plain JavaScript: tsx's loader would hold some 35 MiB more for the whole run.
import { createHash } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
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

/** Bundles cli/main.ts into the cache, named by its content; answers the file. */
async function bundle(esbuild) {
  const bundled = await esbuild.build({
    entryPoints: [join(root, 'cli/main.ts')],
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
  const code = bundled.outputFiles[0].contents;
  const cache = join(root, 'node_modules/.cache/ferry');
  const file = join(cache, `cli-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`);
  await mkdir(cache, { recursive: true });
  // Written under a temporary name and renamed: two commands started at once never run half a file.
  const temporary = `${file}.${process.pid}`;
  await writeFile(temporary, code);
  await rename(temporary, file);
  return file;
}
