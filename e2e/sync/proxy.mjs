// Starts and stops wewatch-delay-proxy (src/bin/wewatch-delay-proxy.rs): one per simulated
// viewer, so each has its own network path with its own random delays.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { Child, GiveUp, REPO_ROOT, waitFor } from '../harness.mjs';

export function proxyBinary() {
  const bin = path.resolve(REPO_ROOT, process.env.WEWATCH_PROXY_BIN || 'target/release/wewatch-delay-proxy');
  if (!existsSync(bin)) {
    throw new Error(
      `the delaying proxy was not found at ${bin}; build it first ` +
        '(cargo build --release --bin wewatch-delay-proxy) or point WEWATCH_PROXY_BIN at it',
    );
  }
  return bin;
}

/** All proxies still running, so an unexpected exit of the process leaves none behind. */
const running = new Set();
process.once('exit', () => {
  for (const c of running) if (c.running) c.proc.kill('SIGKILL');
});

/**
 * Starts a proxy in front of `upstream` (an http://host:port base URL). Resolves with
 * `{ baseUrl, stop(), output() }`, `baseUrl` being the proxy's http://127.0.0.1:PORT.
 */
export async function startProxy({ upstream, latencyMs = 80, jitterMs = 30, distribution = 'uniform', seed = 1 }) {
  const up = new URL(upstream);
  const child = new Child('wewatch-delay-proxy', proxyBinary(), [
    '--listen', '127.0.0.1:0',
    '--upstream', `${up.hostname}:${up.port}`,
    '--latency-ms', String(latencyMs),
    '--jitter-ms', String(jitterMs),
    '--distribution', distribution,
    '--seed', String(seed),
  ], { cwd: REPO_ROOT });
  running.add(child);
  const stop = async () => {
    await child.stop();
    running.delete(child);
  };
  try {
    const { value: port } = await waitFor('the delaying proxy to print "listening on …"', () => {
      const m = child.output.match(/listening on 127\.0\.0\.1:(\d+)/);
      if (m) return m[1];
      if (!child.running) throw new GiveUp(`the proxy exited (${JSON.stringify(child.exit)}): ${child.tail()}`);
      return null;
    }, { timeout: 10_000, interval: 20 });
    return { baseUrl: `http://127.0.0.1:${port}`, stop, output: () => child.tail() };
  } catch (err) {
    await stop();
    throw err;
  }
}
