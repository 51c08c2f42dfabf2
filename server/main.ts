/**
 * `npm start`: builds the client when dist/ is missing or older than its sources, then
 * serves everything. Flags and environment: see config.ts and API.md.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFerryServer } from './app.ts';
import { configFromProcess } from './config.ts';
import { announce, type Logger } from './log.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SOURCES = ['client', 'shared', 'public', 'vite.config.ts'];

function newestMtime(entry: string): number {
  if (!existsSync(entry)) return 0;
  const info = statSync(entry);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const name of readdirSync(entry)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    newest = Math.max(newest, newestMtime(path.join(entry, name)));
  }
  return newest;
}

async function buildClientIfStale(distDir: string, logger: Logger): Promise<void> {
  const index = path.join(distDir, 'index.html');
  const built = existsSync(index) ? statSync(index).mtimeMs : 0;
  const sources = Math.max(...SOURCES.map((s) => newestMtime(path.join(ROOT, s))));
  if (built > 0 && built >= sources) return;
  const configFile = path.join(ROOT, 'vite.config.ts');
  if (!existsSync(configFile)) {
    logger.error('vite.config.ts is missing, so the web app cannot be built; serving the API only.');
    return;
  }
  logger.info('building the web app…');
  try {
    const vite = await import('vite');
    await vite.build({ configFile, root: undefined, logLevel: 'warn' });
  } catch (error) {
    logger.error({ err: error }, 'building the web app failed; serving the API only.');
  }
}

/** A bad setting or an engine that is missing or unreachable stops start-up with its sentence, not a stack. */
function cannotStart(error: unknown): never {
  console.error(`Ferry could not start. ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

let config: ReturnType<typeof configFromProcess>;
try {
  config = configFromProcess(process.argv.slice(2), process.env);
} catch (error) {
  cannotStart(error);
}
// A client served from FERRY_DIST_DIR was built elsewhere (`vite build --outDir …`): leave it be.
if (process.env.FERRY_SKIP_BUILD !== '1' && !process.env.FERRY_DIST_DIR) {
  await buildClientIfStale(config.distDir, config.logger);
}
const ferry = await createFerryServer(config).catch(cannotStart);
// Scripts (and the e2e and restart tests) wait for this text on stdout, whatever the log level.
announce(config.logger, `Ferry is running at ${ferry.url}`, { url: ferry.url });

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    ferry.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
