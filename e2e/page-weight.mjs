// The watch page's weight on a slow line (`make bench-page`): what one viewer's browser
// fetches to open a party, how many bytes cross the line, how long until the page can play,
// and what a second visit costs. docs/performance.md, "Page weight", holds the figures.
//
//   node e2e/page-weight.mjs [--kbps 1000] [--latency-ms 100] [--window-s 15] [--runs 5] [--help]
//
// Each run is a new viewer (a fresh browser context, its cache empty) opening the same party
// twice; the report shows the first run in detail and the median of every run's times.
// Chromium's own network emulation (DevTools `Network.emulateNetworkConditions`) throttles
// the page: every request waits `--latency-ms`, and all of them share `--kbps` down and up.
// Uses target/debug/wewatch unless WEWATCH_BIN says otherwise. `page.test.mjs` uses
// `measureLoad` too, and prints what it measured without asserting on it.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startHarness } from './harness.mjs';
import { VIDEO, addSampleVideo } from './pages.mjs';

/** The line of issue 16: 1 Mbit/s each way, 100 ms added to every request. */
export const SLOW_LINE = { kbps: 1000, latencyMs: 100 };

/** What a request is, for the totals: the page itself, styles, scripts, media, the rest. */
function category(url, type) {
  const p = new URL(url).pathname;
  if (type === 'Document') return 'document';
  if (type === 'Media' || p.startsWith('/static/media/')) return 'media';
  if (type === 'Stylesheet' || p.endsWith('.css')) return 'css';
  if (type === 'Script' || p.endsWith('.js') || p.endsWith('.mjs')) return 'js';
  return 'other';
}

/**
 * Records every HTTP request a page makes through DevTools: its URL, kind, status, the
 * `Content-Encoding` and `Cache-Control` it came with, the bytes that crossed the line
 * (headers included), and whether the browser's cache answered it.
 */
export async function recordNetwork(page) {
  const cdp = await page.context().newCDPSession(page);
  const requests = new Map();
  const entry = (id) => requests.get(id);
  cdp.on('Network.requestWillBeSent', (ev) => {
    if (!/^https?:/.test(ev.request.url)) return;
    const previous = requests.get(ev.requestId);
    // A redirect reuses the request id: the earlier hop keeps its own entry.
    if (previous) requests.set(`${ev.requestId}#${requests.size}`, previous);
    requests.set(ev.requestId, {
      url: ev.request.url, type: ev.type, category: category(ev.request.url, ev.type),
      status: null, encoding: null, cacheControl: null, bytes: 0, fromCache: false, done: false,
    });
  });
  cdp.on('Network.requestServedFromCache', (ev) => {
    const e = entry(ev.requestId);
    if (e) e.fromCache = true;
  });
  cdp.on('Network.responseReceived', (ev) => {
    const e = entry(ev.requestId);
    if (!e) return;
    const headers = Object.fromEntries(Object.entries(ev.response.headers).map(([k, v]) => [k.toLowerCase(), v]));
    e.status = ev.response.status;
    e.encoding = headers['content-encoding'] ?? null;
    e.cacheControl = headers['cache-control'] ?? null;
    e.etag = headers.etag ?? null;
    if (ev.response.fromDiskCache || ev.response.fromMemoryCache) e.fromCache = true;
  });
  cdp.on('Network.dataReceived', (ev) => {
    const e = entry(ev.requestId);
    if (e) e.bytes += ev.encodedDataLength;
  });
  cdp.on('Network.loadingFinished', (ev) => {
    const e = entry(ev.requestId);
    if (!e) return;
    // The total also counts the response headers; it is final.
    e.bytes = Math.max(e.bytes, ev.encodedDataLength);
    e.done = true;
  });
  cdp.on('Network.loadingFailed', (ev) => {
    const e = entry(ev.requestId);
    if (e) e.done = true;
  });
  await cdp.send('Network.enable');
  return {
    cdp,
    /** Every request seen so far, as plain objects. */
    requests: () => [...requests.values()].map((e) => ({ ...e })),
    /** Forgets what was recorded (before a second visit). */
    clear: () => requests.clear(),
    /** Throttles the page to `kbps` each way with `latencyMs` per request (null: no throttle). */
    throttle: async (line) => {
      const bytesPerSecond = line ? (line.kbps * 1000) / 8 : -1;
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: line ? line.latencyMs : 0,
        downloadThroughput: bytesPerSecond,
        uploadThroughput: bytesPerSecond,
      });
    },
  };
}

/** Requests, bytes that crossed the line and bytes the cache answered, per category and in all. */
export function totals(requests) {
  const sum = { requests: 0, network: 0, cached: 0, bytes: 0 };
  const by = {};
  for (const r of requests) {
    const t = (by[r.category] ??= { requests: 0, network: 0, cached: 0, bytes: 0 });
    for (const s of [t, sum]) {
      s.requests += 1;
      if (r.fromCache) s.cached += 1;
      else s.network += 1;
      s.bytes += r.fromCache ? 0 : r.bytes;
    }
  }
  return { all: sum, by };
}

/** When the page reached each point, in ms since navigation began, read by the page itself. */
function pageTimes(page) {
  return page.evaluate((selector) => {
    const [nav] = performance.getEntriesByType('navigation');
    const v = document.querySelector(selector);
    return {
      domContentLoaded: nav ? Math.round(nav.domContentLoadedEventEnd) : null,
      load: nav ? Math.round(nav.loadEventEnd) : null,
      preload: v ? v.preload : null,
    };
  }, VIDEO);
}

/**
 * Opens `url` in `page` (throttled to `line` when given) and measures: when the page has
 * loaded, when it is ready to play (connected to the party, and the player knows the media's
 * duration), the requests it made and the bytes they moved within `windowMs` of opening —
 * or, with `untilMediaIdle`, until the player stops fetching (`networkState` idle), however
 * long that takes. Then opens it again in the same page (the browser's cache now warm) and
 * measures that too.
 */
export async function measureLoad(page, url,
  { line = SLOW_LINE, windowMs = 15_000, untilMediaIdle = false, timeout = 120_000 } = {}) {
  const net = await recordNetwork(page);
  await net.throttle(line);
  const visit = async () => {
    const opened = Date.now();
    await page.goto(url, { waitUntil: 'load', timeout });
    const ready = await page.waitForFunction((selector) => {
      const v = document.querySelector(selector);
      const ok = window.wewatch?.connected?.() && v && v.readyState >= 1 && Number.isFinite(v.duration);
      return ok ? Math.round(performance.now()) : null;
    }, VIDEO, { timeout, polling: 20 });
    const readyMs = await ready.jsonValue();
    const times = await pageTimes(page);
    if (untilMediaIdle) {
      await page.waitForFunction((selector) =>
        document.querySelector(selector)?.networkState === HTMLMediaElement.NETWORK_IDLE, VIDEO, { timeout, polling: 100 });
    } else {
      const rest = windowMs - (Date.now() - opened);
      if (rest > 0) await page.waitForTimeout(rest);
    }
    const requests = net.requests();
    return { ...times, ready: readyMs, requests, totals: totals(requests) };
  };
  const first = await visit();
  net.clear();
  const second = await visit();
  await net.throttle(null);
  await net.cdp.detach().catch(() => {});
  return { line, windowMs, untilMediaIdle, first, second };
}

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

/** The measurement as the lines `make bench-page` prints. */
export function formatLoad({ line, windowMs, untilMediaIdle, first, second }) {
  const lines = [`line: ${line ? `${line.kbps} kbit/s each way, ${line.latencyMs} ms per request` : 'unthrottled'}; ` +
    `bytes counted ${untilMediaIdle ? 'until the player stopped fetching' : `for ${windowMs / 1000} s after opening`}`];
  for (const [name, v] of [['first visit', first], ['second visit', second]]) {
    lines.push(`${name}: DOMContentLoaded ${v.domContentLoaded} ms, load ${v.load} ms, ready to play ${v.ready} ms; ` +
      `<video preload="${v.preload}">`);
    lines.push(`  all       ${v.totals.all.requests} requests (${v.totals.all.cached} from cache), ${kb(v.totals.all.bytes)} over the line`);
    for (const c of ['document', 'css', 'js', 'media', 'other']) {
      const t = v.totals.by[c];
      if (t) lines.push(`  ${c.padEnd(9)} ${t.requests} requests (${t.cached} from cache), ${kb(t.bytes)} over the line`);
    }
  }
  return lines.join('\n');
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
};

const USAGE = `usage: node e2e/page-weight.mjs [flags]
  --kbps N         the line's speed each way, kbit/s (default ${SLOW_LINE.kbps})
  --latency-ms N   added to every request (default ${SLOW_LINE.latencyMs})
  --window-s N     bytes are counted this long after opening (default 15)
  --runs N         new viewers measured, each opening the party twice (default 5)`;

async function main(argv) {
  const o = { kbps: SLOW_LINE.kbps, latencyMs: SLOW_LINE.latencyMs, windowS: 15, runs: 5 };
  const flags = { '--kbps': 'kbps', '--latency-ms': 'latencyMs', '--window-s': 'windowS', '--runs': 'runs' };
  if (argv.includes('--help')) {
    console.log(USAGE);
    return;
  }
  for (let i = 0; i < argv.length; i += 2) {
    const n = Number(argv[i + 1]);
    if (!(argv[i] in flags)) throw new Error(`unknown flag ${argv[i]}\n${USAGE}`);
    if (!Number.isFinite(n) || n < 0 || (argv[i] === '--runs' && n < 1)) throw new Error(`${argv[i]} needs a number\n${USAGE}`);
    o[flags[argv[i]]] = n;
  }
  const h = await startHarness();
  try {
    const owner = await h.newViewer('owner');
    const invite = await addSampleVideo(owner.page, h.baseUrl);
    const results = [];
    for (let run = 1; run <= o.runs; run++) {
      const guest = await h.newViewer(`guest ${run}`);
      results.push(await measureLoad(guest.page, invite, {
        line: { kbps: o.kbps, latencyMs: o.latencyMs }, windowMs: o.windowS * 1000,
      }));
      await guest.context.close();
      const { first, second } = results.at(-1);
      console.log(`run ${run}: first visit ${first.domContentLoaded} / ${first.load} / ${first.ready} ms, ` +
        `${(first.totals.all.bytes / 1024).toFixed(1)} KiB; second visit ${second.domContentLoaded} / ` +
        `${second.load} / ${second.ready} ms, ${(second.totals.all.bytes / 1024).toFixed(1)} KiB ` +
        '(DOMContentLoaded / load / ready to play)');
    }
    for (const visit of ['first', 'second']) {
      const m = (key) => median(results.map((r) => r[visit][key]));
      console.log(`median of ${o.runs}, ${visit} visit: DOMContentLoaded ${m('domContentLoaded')} ms, ` +
        `load ${m('load')} ms, ready to play ${m('ready')} ms`);
    }
    console.log(`\nrun 1 in detail:\n${formatLoad(results[0])}`);
    for (const r of results[0].first.requests) {
      const url = new URL(r.url);
      console.log(`  ${r.fromCache ? 'cache' : String(r.status).padEnd(5)} ${String(r.bytes).padStart(8)} B ` +
        `${(r.encoding ?? '-').padEnd(8)} ${(r.cacheControl ?? '-').padEnd(38)} ${url.pathname}${url.search}`);
    }
  } finally {
    await h.stop();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
