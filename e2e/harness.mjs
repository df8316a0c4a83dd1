// Starts everything one browser test run needs and stops it again:
// a private Redis, the real WeWatch server bound to a free port, and headless
// Chromium in which every simulated viewer is its own browser context (own cookies).
//
// Nothing here knows about the product's pages; the tests do.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the server runs from here, as `make run` does. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const REDIS_BIN = '/usr/bin/redis-server';
const CHROMIUM_BIN = '/usr/bin/chromium';
const REDIS_READY_TIMEOUT_MS = 10_000;
const SERVER_READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
/** How much of a child's output is kept for failure messages. */
const OUTPUT_KEEP_CHARS = 64 * 1024;

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** What the default browser allows: media may start without a click, and makes no sound. */
const DEFAULT_BROWSER = { autoplayPolicy: 'no-user-gesture-required', muteAudio: true };

/** Thrown from a `waitFor` check to stop waiting at once: the awaited thing can no longer happen. */
export class GiveUp extends Error {}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` until it returns a truthy value or `timeout` ms pass.
 * Resolves with `{ value, ms }`; on time-out throws an error naming `what`, with the
 * text of `describe()` (the state of the pages, say) appended.
 * A `check` that throws (a page in the middle of navigating) counts as "not yet",
 * unless it throws `GiveUp`.
 */
export async function waitFor(what, check, { timeout = 15_000, interval = 100, describe } = {}) {
  const start = performance.now();
  let lastError;
  for (;;) {
    try {
      const value = await check();
      if (value) return { value, ms: Math.round(performance.now() - start) };
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      lastError = err;
    }
    if (performance.now() - start >= timeout) {
      let details = '';
      if (describe) {
        try {
          details = `\n${await describe()}`;
        } catch (err) {
          details = `\n(could not describe the pages: ${err.message})`;
        }
      }
      const last = lastError ? `\nlast error while checking: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${last}${details}`);
    }
    await sleep(interval);
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Sends PING to a Redis on `port`; true when it answers +PONG. */
function redisPing(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1_000, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
  });
}

/** A spawned child whose output is kept (bounded) for failure messages. */
export class Child {
  constructor(name, command, args, options) {
    this.name = name;
    this.output = '';
    this.exit = null;
    this.proc = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
      this.proc.on('error', (err) => {
        this.output += `\n[${name} could not start: ${err.message}]\n`;
        this.exit = { code: null, signal: null, error: err };
        resolve(this.exit);
      });
    });
    const keep = (chunk) => {
      this.output += chunk.toString();
      if (this.output.length > OUTPUT_KEEP_CHARS) this.output = this.output.slice(-OUTPUT_KEEP_CHARS);
    };
    this.proc.stdout.on('data', keep);
    this.proc.stderr.on('data', keep);
  }

  get running() {
    return this.exit === null;
  }

  /** SIGTERM, then SIGKILL after a grace period. */
  async stop() {
    if (!this.running) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.running && this.proc.kill('SIGKILL'), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }

  /** The last `chars` characters of what the child printed. */
  tail(chars = 8_000) {
    return this.output.length > chars ? `…${this.output.slice(-chars)}` : this.output;
  }
}

async function startRedis(dir) {
  if (!existsSync(REDIS_BIN)) throw new Error(`${REDIS_BIN} not found; install Debian's redis-server`);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const redis = new Child('redis-server', REDIS_BIN, [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--dir', dir,
      '--save', '',
      '--appendonly', 'no',
    ], { cwd: dir });
    try {
      await waitFor(`redis-server on port ${port}`, async () => {
        if (!redis.running) throw new GiveUp(`redis-server exited (${JSON.stringify(redis.exit)})`);
        return redisPing(port);
      }, { timeout: REDIS_READY_TIMEOUT_MS, interval: 50 });
      return { redis, port };
    } catch (err) {
      await redis.stop();
      // The port may have been taken between choosing it and binding it: try another.
      if (attempt >= 3) throw new Error(`${err.message}\nredis-server output:\n${redis.tail()}`);
    }
  }
}

function serverBinary() {
  const bin = path.resolve(REPO_ROOT, process.env.WEWATCH_BIN || 'target/debug/wewatch');
  if (!existsSync(bin)) {
    throw new Error(
      `the WeWatch server binary was not found at ${bin}; build it first (cargo build) ` +
        'or point WEWATCH_BIN at it',
    );
  }
  return bin;
}

/** A setting's value as TOML: numbers as `String()` writes them, strings quoted, arrays of these. */
function tomlValue(value) {
  if (Array.isArray(value)) return `[${value.map(tomlValue).join(', ')}]`;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  throw new Error(`cannot write ${JSON.stringify(value)} as a TOML value`);
}

/**
 * The settings file `text` (TOML) with each `settings[section][key]` set: the key's line
 * replaced where the section has one, else added to the section (or a new section).
 */
export function overrideSettings(text, settings) {
  const lines = text.split('\n');
  const header = (line) => /^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$/.exec(line);
  for (const [section, values] of Object.entries(settings)) {
    for (const [key, value] of Object.entries(values)) {
      const line = `${key} = ${tomlValue(value)}`;
      const start = lines.findIndex((l) => header(l)?.[1] === section);
      if (start < 0) {
        lines.push('', `[${section}]`, line);
        continue;
      }
      let end = lines.findIndex((l, i) => i > start && header(l));
      if (end < 0) end = lines.length;
      const keyLine = new RegExp(`^\\s*${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*=`);
      const at = lines.findIndex((l, i) => i > start && i < end && keyLine.test(l));
      if (at >= 0) lines[at] = line;
      else lines.splice(start + 1, 0, line);
    }
  }
  return lines.join('\n');
}

/**
 * Writes a copy of the server's settings file (`WEWATCH_CONFIG`, default `server.toml`) into
 * `dir` with `settings` ({section: {key: value}}) overriding it; returns the copy's path.
 */
async function writeSettings(dir, settings) {
  const source = path.resolve(REPO_ROOT, process.env.WEWATCH_CONFIG || 'server.toml');
  const target = path.join(dir, 'server.toml');
  await writeFile(target, overrideSettings(await readFile(source, 'utf8'), settings));
  return target;
}

/** The server's environment: a free port, the given Redis, and a throw-away secret and key prefix. */
function serverEnv({ redisPort, logDir }) {
  return {
    ...process.env,
    PORT: '0',
    REDIS_URL: `redis://127.0.0.1:${redisPort}/`,
    WEWATCH_SECRET_KEY: randomBytes(32).toString('hex'),
    WEWATCH_LOG_DIR: logDir,
    WEWATCH_KEY_PREFIX: `e2e${randomBytes(4).toString('hex')}:`,
  };
}

/** Starts the server with `env` and waits until it says where it listens. */
async function startServer(env) {
  const bin = serverBinary();
  const server = new Child('wewatch', bin, [], { cwd: REPO_ROOT, env });
  const listening = /listening on (https?:\/\/[^\s"'\\,]+)/;
  try {
    const { value: baseUrl } = await waitFor('the server to print "listening on http://…"', () => {
      const m = server.output.match(listening);
      if (m) return m[1].replace(/\/+$/, '').replace('://0.0.0.0:', '://127.0.0.1:');
      if (!server.running) throw new GiveUp(`the server exited before saying where it listens (${JSON.stringify(server.exit)})`);
      return null;
    }, { timeout: SERVER_READY_TIMEOUT_MS, interval: 50 });
    return { server, baseUrl };
  } catch (err) {
    await server.stop();
    throw new Error(`${err.message}\n--- server output (${bin}) ---\n${server.tail() || '(nothing)'}`);
  }
}

/**
 * Starts Redis, the server and Chromium. `settings` ({section: {key: value}}, optional)
 * overrides values of `server.toml` for this run, as in `{ sync: { wait_limit_secs: 2 } }`:
 * the server then reads a copy of it (`WEWATCH_CONFIG`), kept in the temporary directory.
 * Returns:
 * - `baseUrl`: the server's address, like `http://127.0.0.1:41234`;
 * - `newViewer(name, contextOptions)`: a fresh browser context (a different person) with one
 *   page, whose console lines and page errors are kept for failure messages; `contextOptions`
 *   go to Playwright's `browser.newContext` (a phone's viewport and touch screen, say);
 * - `launchBrowser({ autoplayPolicy, muteAudio })`: another Chromium with its own
 *   `--autoplay-policy` (omitted when null) and sound on or off; it has a `newViewer(name)`
 *   of its own and is closed by `stop()`;
 * - `stopServer()`: stops the server (SIGTERM, SIGKILL after a grace period) and resolves
 *   with how it exited; `restartServer()`: starts it again on the same port with the same
 *   Redis, key prefix and secret, so `baseUrl`, cookies and parties stay valid;
 * - `serverOutput()`, `browserLog()`: what the server (every run of it) and the pages
 *   printed, for diagnostics;
 * - `stop()`: stops everything and removes the temporary directory.
 */
export async function startHarness({ settings = null } = {}) {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'wewatch-e2e-'));
  const redisDir = path.join(tmp, 'redis');
  const logDir = path.join(tmp, 'logs');
  await mkdir(redisDir);
  await mkdir(logDir);

  let redis = null;
  let server = null;
  /** What earlier runs of the server printed, oldest first (bounded). */
  let earlierServerOutput = '';
  const browsers = [];
  const pageLog = [];
  // Whatever happens to the test process, never leave a Redis or a server behind.
  const killAll = () => {
    for (const c of [server, redis]) if (c?.running) c.proc.kill('SIGKILL');
  };
  process.once('exit', killAll);

  const stop = async () => {
    process.removeListener('exit', killAll);
    for (const b of browsers.splice(0).reverse()) await b.close().catch(() => {});
    if (server) await server.stop();
    if (redis) await redis.stop();
    await rm(tmp, { recursive: true, force: true });
  };

  const serverOutput = (chars = 8_000) => {
    const all = earlierServerOutput + (server ? server.output : '');
    return all.length > chars ? `…${all.slice(-chars)}` : all;
  };

  try {
    let chromium;
    try {
      ({ chromium } = await import('playwright-core'));
    } catch (err) {
      throw new Error(`playwright-core is not installed: run "npm ci" in e2e/ (${err.message})`);
    }

    let redisPort;
    ({ redis, port: redisPort } = await startRedis(redisDir));

    const env = serverEnv({ redisPort, logDir });
    if (settings) env.WEWATCH_CONFIG = await writeSettings(tmp, settings);
    let baseUrl;
    ({ server, baseUrl } = await startServer(env));
    // Every later run binds the port the first one was given, so pages and links stay valid.
    env.PORT = new URL(baseUrl).port;

    const stopServer = async () => {
      await server.stop();
      return server.exit;
    };

    const restartServer = async () => {
      if (server.running) throw new Error('restartServer: the server is still running; stop it first');
      earlierServerOutput += `${server.output}\n[wewatch exited: ${JSON.stringify(server.exit)}; started again]\n`;
      if (earlierServerOutput.length > OUTPUT_KEEP_CHARS) earlierServerOutput = earlierServerOutput.slice(-OUTPUT_KEEP_CHARS);
      const again = await startServer(env);
      server = again.server;
      if (again.baseUrl !== baseUrl) {
        throw new Error(`the restarted server listens on ${again.baseUrl}, not on ${baseUrl} as before`);
      }
    };

    if (!existsSync(CHROMIUM_BIN)) throw new Error(`${CHROMIUM_BIN} not found; install Debian's chromium`);

    const launchBrowser = async ({ autoplayPolicy, muteAudio } = DEFAULT_BROWSER) => {
      const args = [...CHROMIUM_ARGS];
      if (autoplayPolicy) args.push(`--autoplay-policy=${autoplayPolicy}`);
      if (muteAudio) args.push('--mute-audio');
      const browser = await chromium.launch({
        executablePath: CHROMIUM_BIN,
        headless: true,
        args,
        // Headless mode mutes all audio unless told otherwise.
        ignoreDefaultArgs: muteAudio ? [] : ['--mute-audio'],
      });
      browsers.push(browser);

      const newViewer = async (name, contextOptions = {}) => {
        const context = await browser.newContext(contextOptions);
        const page = await context.newPage();
        const note = (line) => {
          pageLog.push(`[${name}] ${line}`);
          if (pageLog.length > 400) pageLog.shift();
        };
        page.on('console', (m) => note(`console.${m.type()}: ${m.text()}`));
        page.on('pageerror', (e) => note(`page error: ${e.message}`));
        page.on('requestfailed', (r) => note(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`));
        page.on('websocket', (ws) => {
          note(`websocket opened: ${ws.url()}`);
          ws.on('close', () => note(`websocket closed: ${ws.url()}`));
        });
        return { name, context, page };
      };

      return { newViewer, close: () => browser.close().catch(() => {}) };
    };

    const main = await launchBrowser();

    return {
      baseUrl,
      newViewer: main.newViewer,
      launchBrowser,
      stopServer,
      restartServer,
      stop,
      serverOutput,
      serverRunning: () => server.running,
      browserLog: () => pageLog.join('\n'),
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
