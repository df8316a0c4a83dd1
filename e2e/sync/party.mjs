// One watch party of the bundled sample, watched by simulated viewers in real Chromium pages,
// each in its own browser context, optionally behind its own delaying proxy and with its own
// skewed clock; plus the harness's observer connection. Collects every page's samples.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { addSampleVideo, VIDEO } from '../pages.mjs';
import { sleep, waitFor } from '../harness.mjs';
import { addProbe, drainSamples, nativeAction, readMarks } from './probe.mjs';
import { machineNow, observeParty } from './observer.mjs';
import { startProxy } from './proxy.mjs';

const OPEN_TIMEOUT_MS = 30_000;
const COLLECT_EVERY_MS = 1_000;

/** A seeded random generator (mulberry32): the same seed draws the same scenario. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Party {
  /** Adds the sample video as a fresh owner and connects the observer. */
  static async create(h, { sampleMs = 50, clientDir = null, log = () => {} } = {}) {
    const owner = await h.newViewer('owner');
    let invite;
    try {
      invite = await addSampleVideo(owner.page, h.baseUrl);
    } finally {
      await owner.context.close().catch(() => {});
    }
    const party = new Party(h, new URL(invite).pathname, { sampleMs, clientDir, log });
    return party;
  }

  constructor(h, invitePath, { sampleMs, clientDir, log }) {
    Object.assign(this, { h, invitePath, sampleMs, clientDir, log });
    this.viewers = [];
    this.proxies = [];
    this.observer = null;
    this.collector = null;
    this.collecting = null;
  }

  /**
   * Opens a viewer's page. `proxy` ({latencyMs, jitterMs, distribution, seed}) puts the
   * whole page (HTTP and WebSocket) behind its own delaying proxy; `skewMs` skews its clock.
   * Resolves once the page is connected and its player knows the media.
   */
  async addViewer(name, { proxy = null, skewMs = 0 } = {}) {
    let base = this.h.baseUrl;
    let px = null;
    if (proxy) {
      px = await startProxy({ upstream: this.h.baseUrl, ...proxy });
      this.proxies.push(px);
      base = px.baseUrl;
    }
    const { context, page } = await this.h.newViewer(name);
    await addProbe(context, { skewMs, intervalMs: this.sampleMs, selector: VIDEO });
    if (this.clientDir) await serveClientFrom(context, this.clientDir);
    const viewer = { name, context, page, proxy, skewMs, samples: [], marks: {}, seekedAt: [], openedAt: machineNow(), closed: false };
    this.viewers.push(viewer);
    await page.goto(`${base}${this.invitePath}`, { timeout: OPEN_TIMEOUT_MS });
    await waitFor(`${name} to connect and load the media`, () => page.evaluate((sel) => {
      const v = document.querySelector(sel);
      return Boolean(window.wewatch?.connected?.() && v && v.readyState >= 1);
    }, VIDEO), { timeout: OPEN_TIMEOUT_MS, interval: 50 });
    viewer.readyAt = machineNow();
    if (!this.observer) await this.observe(page);
    return viewer;
  }

  /** Connects the harness's own observer, directly to the server. */
  async observe(page) {
    const wsPath = await page.evaluate(() => document.getElementById('watch').dataset.wsPath);
    const wsUrl = `${this.h.baseUrl.replace(/^http/, 'ws')}${wsPath}`;
    this.observer = await observeParty(wsUrl);
  }

  /** Closes one viewer's page (the party goes on without it), keeping its samples and milestones. */
  async removeViewer(viewer) {
    await this.drain(viewer);
    viewer.closed = true;
    viewer.closedAt = machineNow();
    await viewer.context.close().catch(() => {});
  }

  async drain(viewer) {
    if (viewer.closed) return;
    try {
      viewer.samples.push(...(await drainSamples(viewer.page)));
      ({ first: viewer.marks, seekedAt: viewer.seekedAt } = await readMarks(viewer.page));
    } catch {
      // the page is navigating or closing; its samples come with the next drain
    }
  }

  /** Drains every page's samples now and then every second until stopCollecting(). */
  startCollecting() {
    const tick = async () => {
      this.collecting = Promise.all(this.viewers.map((v) => this.drain(v)));
      await this.collecting;
      if (this.collector) this.collector = setTimeout(tick, COLLECT_EVERY_MS);
    };
    this.collector = setTimeout(tick, 0);
  }

  async stopCollecting() {
    clearTimeout(this.collector);
    this.collector = null;
    await this.collecting;
    await Promise.all(this.viewers.map((v) => this.drain(v)));
  }

  /** A native-control action on `viewer`'s player; resolves with {at, viewer, kind, arg}. */
  async act(viewer, kind, arg) {
    const at = await nativeAction(viewer.page, VIDEO, kind, arg);
    return { at, viewer: viewer.name, kind, arg };
  }

  /** The observer's latest state and where its timeline is now (ms), roughly. */
  timelineNow() {
    const last = this.observer.latest();
    if (!last) return null;
    const s = last.state;
    const pos = s.paused ? s.position_ms : s.position_ms + Math.max(0, machineNow() - last.at) * s.rate;
    return { state: s, positionMs: pos };
  }

  /** Waits until every open viewer's player plays (not paused, enough data). */
  async waitAllPlaying(timeout = 20_000) {
    await waitFor('every viewer to play', async () => {
      const states = await Promise.all(this.open().map((v) => v.page.evaluate((sel) => {
        const el = document.querySelector(sel);
        return Boolean(el && !el.paused && el.readyState >= 3);
      }, VIDEO)));
      return states.every(Boolean);
    }, { timeout, interval: 100 });
  }

  open() {
    return this.viewers.filter((v) => !v.closed);
  }

  /** The display name the server knows `viewer` by (states name it in `updated_by`). */
  async displayName(viewer) {
    viewer.displayName ??= await viewer.page.evaluate(() => document.getElementById('watch')?.dataset.userName ?? null);
    return viewer.displayName;
  }

  /** Stops collecting, closes every page, the observer and the proxies. */
  async close() {
    if (this.collector) await this.stopCollecting().catch(() => {});
    for (const v of this.viewers) {
      if (!v.closed) {
        v.closed = true;
        await v.context.close().catch(() => {});
      }
    }
    this.observer?.stop();
    for (const p of this.proxies) await p.stop();
    await sleep(0);
  }
}

/**
 * Serves the page's browser modules (/static/js/…) from `dir` where it has the file, so a
 * change to the client can be measured side by side without touching static/js.
 */
async function serveClientFrom(context, dir) {
  await context.route('**/static/js/**', async (route) => {
    const rel = decodeURIComponent(new URL(route.request().url()).pathname.replace(/^\/static\/js\//, ''));
    const file = path.resolve(dir, rel);
    if (!file.startsWith(path.resolve(dir) + path.sep)) return route.continue();
    try {
      const body = await readFile(file);
      return route.fulfill({ status: 200, contentType: 'text/javascript; charset=utf-8', body });
    } catch {
      return route.continue();
    }
  });
}
