/**
 * The benchmark's Ferry server: the real `createFerryServer` with the real configuration
 * from flags and FERRY_* environment (as server/main.ts reads them), except that it serves
 * the client built into bench/out/app (BENCH_DIST_DIR) instead of ./dist, so a build by
 * someone else in the same checkout cannot change the app under measurement. Run directly
 * under node (`node --import tsx bench/serve.ts`) so its pid is the server's own.
 */
import { createFerryServer } from '../server/app.ts';
import { configFromProcess } from '../server/config.ts';

const config = configFromProcess(process.argv.slice(2), process.env);
const ferry = await createFerryServer({ ...config, distDir: process.env.BENCH_DIST_DIR ?? config.distDir });
console.log(`Ferry is running at ${ferry.url}`);

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
// Never outlive the benchmark: the parent closes our stdin when it goes away.
process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM'));
process.stdin.resume();
