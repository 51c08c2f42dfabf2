/**
 * WebKit, Safari's engine, as Debian ships it: WebKitGTK's MiniBrowser driven over W3C
 * WebDriver by WebKitWebDriver, shown on an Xvfb display of its own (WebKitGTK has no
 * headless mode). `launchWebKit()` starts all three on a free display and port with a
 * fresh home (so a fresh profile and an XDG download directory of its own); `stop()` ends
 * them and removes both directories.
 *
 * The driver gives no console and cannot run a script before the page's own: WATCH_SCRIPT
 * (listeners for uncaught errors, unhandled rejections and CSP violations) is put into every
 * page by the proxy the journeys open Ferry through (../firefox/support/slow-proxy.ts), and
 * `problems()` reads what it saw. `open()` also installs it after load, for pages opened
 * some other way (it does nothing where the proxy put it first).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Builder, Capabilities, type WebDriver } from 'selenium-webdriver';
import { freePort } from '../../support/server.ts';

export const WEBKIT_DRIVER_PATH = process.env.WEBKIT_DRIVER_PATH ?? 'WebKitWebDriver';
export const MINIBROWSER_PATH = process.env.MINIBROWSER_PATH ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

const START_TIMEOUT_MS = 20_000;

export interface WebKit {
  driver: WebDriver;
  /** Where MiniBrowser saves downloads (its XDG download directory). */
  downloads: string;
  /** Opens `url` in the one window (keeping what the page it leaves saw) and watches it. */
  open(url: string): Promise<void>;
  /** The addresses opened with `open()`, in order. */
  readonly opened: string[];
  /** Watches the current document (again after a navigation the test did not make with `open`). */
  watch(): Promise<void>;
  /** Uncaught errors, unhandled rejections and CSP violations seen in every watched document so far. */
  problems(): Promise<string[]>;
  /** Runs `fn` in the page with `args` (JSON values) and returns its (awaited) result. */
  run<T, A extends unknown[]>(fn: (...args: A) => T | Promise<T>, ...args: A): Promise<T>;
  stop(): Promise<void>;
}

/** Starts Xvfb on a free display; resolves with the process and its display (":N"). */
async function startXvfb(): Promise<{ process: ChildProcess; display: string }> {
  // -displayfd: Xvfb picks a free display itself and writes its number to fd 3 once ready.
  const xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x900x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  const display = await new Promise<string>((done, fail) => {
    let said = '';
    let errors = '';
    const timer = setTimeout(() => fail(new Error(`Xvfb did not start: ${errors}`)), START_TIMEOUT_MS);
    xvfb.stderr?.on('data', (chunk: Buffer) => {
      errors += chunk.toString();
    });
    xvfb.stdio[3]?.on('data', (chunk: Buffer) => {
      said += chunk.toString();
      if (said.includes('\n')) {
        clearTimeout(timer);
        done(`:${said.trim()}`);
      }
    });
    xvfb.once('error', (error) =>
      fail(new Error(`Xvfb could not run (node e2e/ensure-webkit.mjs installs it): ${error}`)),
    );
    xvfb.once('exit', (code) => fail(new Error(`Xvfb exited (${code}): ${errors}`)));
  });
  return { process: xvfb, display };
}

/** Starts WebKitWebDriver on a free loopback port; resolves once it answers /status. */
async function startDriver(env: NodeJS.ProcessEnv): Promise<{ process: ChildProcess; url: string }> {
  const port = await freePort();
  const driver = spawn(WEBKIT_DRIVER_PATH, [`--port=${port}`, '--host=local'], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let errors = '';
  driver.stderr?.on('data', (chunk: Buffer) => {
    errors = (errors + chunk.toString()).slice(-2000);
  });
  const exited = new Promise<never>((_, fail) => {
    driver.once('error', (error) => fail(new Error(`WebKitWebDriver could not run: ${error}`)));
    driver.once('exit', (code) => fail(new Error(`WebKitWebDriver exited (${code}): ${errors}`)));
  });
  exited.catch(() => {});
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const ready = await fetch(`${url}/status`).then(
      (answer) => answer.ok,
      () => false,
    );
    if (ready) return { process: driver, url };
    if (driver.exitCode !== null) await exited;
    if (Date.now() > deadline) throw new Error(`WebKitWebDriver did not answer on ${url}: ${errors}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Ends `child` (SIGTERM, then SIGKILL after 5 s) and waits until it is gone. */
async function end(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await gone;
  clearTimeout(timer);
}

/** Installed in each watched document, before the page's own scripts when the proxy put it in. */
function watchPage(): void {
  const w = window as unknown as { __ferryProblems?: string[] };
  if (w.__ferryProblems) return;
  const problems: string[] = [];
  w.__ferryProblems = problems;
  const csp = (directive: string, blocked: string, where: string): string =>
    `CSP violation: ${directive} blocked ${blocked || '(inline)'} at ${where}`;
  window.addEventListener('error', (event) => {
    problems.push(`error: ${event.message} at ${event.filename}:${event.lineno}`);
  });
  window.addEventListener('unhandledrejection', (event) => {
    const reason = event.reason as unknown;
    problems.push(
      `unhandled rejection: ${reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason)}`,
    );
  });
  document.addEventListener('securitypolicyviolation', (event) => {
    problems.push(csp(event.violatedDirective, event.blockedURI, `${event.sourceFile}:${event.lineNumber}`));
  });
}

/**
 * The page script for the proxy. tsx compiles with esbuild's keepNames, which puts
 * `__name(...)` calls into nested functions; scripts sent to the page bring their own.
 */
export const WATCH_SCRIPT = `(() => { const __name = (target) => target; (${watchPage.toString()})(); })();`;

/** Starts Xvfb, WebKitWebDriver and a MiniBrowser session with a fresh home and download directory. */
export async function launchWebKit(): Promise<WebKit> {
  const home = await mkdtemp(join(tmpdir(), 'ferry-webkit-home-'));
  const downloads = join(home, 'Downloads');
  const config = join(home, '.config');
  await mkdir(downloads, { recursive: true });
  await mkdir(config, { recursive: true });
  // WebKitGTK saves downloads where the XDG user dirs say (glib's G_USER_DIRECTORY_DOWNLOAD).
  await writeFile(join(config, 'user-dirs.dirs'), `XDG_DOWNLOAD_DIR="${downloads}"\n`);
  let xvfb: ChildProcess | undefined;
  let driverProcess: ChildProcess | undefined;
  const stopAll = async (): Promise<void> => {
    await end(driverProcess);
    await end(xvfb);
    // WebKit's web processes can still be writing their shader cache for a moment after the
    // driver is gone (ENOTEMPTY seen once): rm retries those errors.
    await rm(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  };
  try {
    const x = await startXvfb();
    xvfb = x.process;
    const env = {
      ...process.env,
      DISPLAY: x.display,
      HOME: home,
      XDG_CONFIG_HOME: config,
      XDG_DATA_HOME: join(home, '.local', 'share'),
      XDG_CACHE_HOME: join(home, '.cache'),
      // No desktop session here: keep GTK from looking for an accessibility bus or a portal.
      NO_AT_BRIDGE: '1',
      GTK_USE_PORTAL: '0',
    };
    const started = await startDriver(env);
    driverProcess = started.process;
    const driver = await new Builder()
      .usingServer(started.url)
      .withCapabilities(
        new Capabilities({
          browserName: 'MiniBrowser',
          'webkitgtk:browserOptions': { binary: MINIBROWSER_PATH, args: ['--automation'] },
        }),
      )
      .build();
    await driver.manage().setTimeouts({ script: 60_000, pageLoad: 60_000 });
    const run = async <T, A extends unknown[]>(fn: (...args: A) => T | Promise<T>, ...args: A): Promise<T> => {
      // An async script, so that a promise `fn` returns is awaited in the page.
      // The script brings its own `__name` (see WATCH_SCRIPT).
      const source = `const done = arguments[arguments.length - 1];
        const args = Array.prototype.slice.call(arguments, 0, -1);
        const __name = (target) => target;
        Promise.resolve()
          .then(() => (${fn.toString()}).apply(null, args))
          .then((value) => done({ ok: true, value }), (error) => done({ ok: false, error: String(error) }));`;
      const answer = (await driver.executeAsyncScript(source, ...args)) as { ok: boolean; value: T; error?: string };
      if (!answer.ok) throw new Error(`in WebKit: ${answer.error}`);
      return answer.value;
    };
    const watch = async (): Promise<void> => await run(watchPage);
    /** What the current document saw, each line prefixed with its address. */
    const current = async (): Promise<string[]> =>
      await run(() => {
        const seen = (window as unknown as { __ferryProblems?: string[] }).__ferryProblems;
        return (seen ?? ['the page is not watched']).map((line) => `${location.pathname}: ${line}`);
      });
    const left: string[] = [];
    const opened: string[] = [];
    return {
      driver,
      downloads,
      opened,
      async open(url) {
        if (opened.length > 0) left.push(...(await current().catch((error) => [`unreadable page: ${error}`])));
        opened.push(url);
        await driver.get(url);
        await watch();
      },
      watch,
      run,
      async problems() {
        return [...left, ...(await current())];
      },
      async stop() {
        await driver.quit().catch(() => {});
        await stopAll();
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
