/**
 * What a benchmark must undo however it ends (browsers, servers, temp dirs): registered as
 * it goes, run last-in first-out at the end, on failure, and on SIGINT/SIGTERM. A second
 * signal exits at once.
 */
const pending: (() => Promise<unknown>)[] = [];

/** Registers `undo` to run when the benchmark ends. */
export function onCleanUp(undo: () => Promise<unknown>): void {
  pending.push(undo);
}

/** Runs every registered undo (newest first); a failing one is logged, the rest still run. */
export async function cleanUp(): Promise<void> {
  while (pending.length) await pending.pop()!().catch((error: unknown) => console.error('cleanup:', error));
}

/** Cleans up and exits 130 on SIGINT or SIGTERM. */
export function cleanUpOnSignals(): void {
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted) process.exit(1);
      interrupted = true;
      console.error(`\n${signal}: cleaning up…`);
      void cleanUp().finally(() => process.exit(130));
    });
  }
}

/** Runs a benchmark's `main` with cleanup on signals, failure and success; a failure sets exit code 1. */
export async function runMain(main: () => Promise<void>): Promise<void> {
  cleanUpOnSignals();
  try {
    await main();
  } catch (error) {
    console.error(error);
    process.exitCode = 1;
  } finally {
    await cleanUp();
  }
}
