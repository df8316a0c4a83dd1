// What the browser tests know about WeWatch's pages: where the player, the viewer list and
// the invite link are, how a viewer uses the native <video> controls, and how two players
// are compared. Shared by the test files; no test runs here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sleep, waitFor } from './harness.mjs';

export const VIDEO = '#player-box video';
export const VIEWERS = '#viewers li';
export const SAMPLE_BUTTON = 'button[name="sample"][value="sample-90s"]';
export const INVITE_LINK = 'a#invite-link';
export const PARTY_SOCKET_PATH = '/ws/watch/';

/** Time-out of every ordinary wait. */
export const WAIT_MS = 15_000;
/** Two players count as in sync when they differ by at most this much. */
export const SYNC_TOLERANCE_S = 0.25;
/** Consecutive in-sync samples needed before two players count as converged. */
export const SYNC_SAMPLES_NEEDED = 3;

/** What a page's player shows right now, stamped with the wall clock (ms since the epoch). */
export function sample(page) {
  return page.evaluate((selector) => {
    const v = document.querySelector(selector);
    if (!v) return null;
    return {
      t: v.currentTime,
      wall: performance.timeOrigin + performance.now(),
      paused: v.paused,
      seeking: v.seeking,
      readyState: v.readyState,
    };
  }, VIDEO);
}

/** True when the page's video is not paused and its currentTime advances. */
export async function isPlaying(page) {
  const first = await sample(page);
  if (!first || first.paused) return false;
  await sleep(400);
  const second = await sample(page);
  if (!second || second.paused) return false;
  return second.t - first.t > 0.1;
}

export async function isPaused(page) {
  const s = await sample(page);
  return Boolean(s && s.paused);
}

/** What the viewer does with the native controls: play() on the element itself. */
export function nativePlay(page) {
  return page.evaluate((selector) => {
    const played = document.querySelector(selector).play();
    // A play() the page's own code later interrupts is not this viewer's concern.
    if (played) played.catch(() => {});
  }, VIDEO);
}

export function nativePause(page) {
  return page.evaluate((selector) => document.querySelector(selector).pause(), VIDEO);
}

export function nativeSeek(page, seconds) {
  return page.evaluate(({ selector, seconds }) => {
    document.querySelector(selector).currentTime = seconds;
  }, { selector: VIDEO, seconds });
}

export function viewerCount(page) {
  return page.locator(VIEWERS).count();
}

/** `window.wewatch.error_ms()` of a page, or a note saying why there is none. */
export function errorMs(page) {
  return page
    .evaluate(() => {
      const w = window.wewatch;
      if (!w || typeof w.error_ms !== 'function') return 'window.wewatch.error_ms missing';
      return w.error_ms();
    })
    .catch((err) => `unreadable (${err.message.split('\n')[0]})`);
}

/** One line per page: its URL, its player, its viewer list and the page's own diagnostics. */
export async function describePage(label, page) {
  try {
    const d = await page.evaluate(({ video, viewers }) => {
      const w = window.wewatch;
      const plain = (x) => {
        try {
          return x === undefined ? null : JSON.parse(JSON.stringify(x));
        } catch {
          return String(x);
        }
      };
      const call = (name) => {
        if (!w) return 'window.wewatch missing';
        if (typeof w[name] !== 'function') return `window.wewatch.${name} missing`;
        try {
          return plain(w[name]());
        } catch (err) {
          return `threw: ${err.message}`;
        }
      };
      const v = document.querySelector(video);
      const text = (id) => document.getElementById(id)?.textContent.trim() ?? null;
      const join = document.getElementById('join-playback');
      return {
        url: location.href,
        video: v && {
          paused: v.paused,
          currentTime: v.currentTime,
          readyState: v.readyState,
          networkState: v.networkState,
          src: v.currentSrc,
          error: v.error && `${v.error.code} ${v.error.message}`,
        },
        viewers: [...document.querySelectorAll(viewers)].map((li) => li.textContent.trim().replace(/\s+/g, ' ')),
        connection: text('connection-status'),
        sync: text('sync-status'),
        joinPrompt: join ? !join.classList.contains('d-none') : null,
        connected: call('connected'),
        error_ms: call('error_ms'),
        serverNow: call('serverNow'),
        wall: Date.now(),
        state: call('state'),
      };
    }, { video: VIDEO, viewers: VIEWERS });
    return `${label}: ${JSON.stringify(d)}`;
  } catch (err) {
    return `${label}: (could not read the page: ${err.message.split('\n')[0]})`;
  }
}

/**
 * How far A's player is ahead of B's, in seconds, at the same instant:
 * tA − tB − (wallA − wallB)/1000 at rate 1, with both samples taken together.
 */
export async function syncError(pageA, pageB) {
  const [a, b] = await Promise.all([sample(pageA), sample(pageB)]);
  if (!a || !b) return { a, b, error: null };
  return { a, b, error: a.t - b.t - (a.wall - b.wall) / 1000 };
}

/**
 * Waits until both players play and agree within SYNC_TOLERANCE_S for SYNC_SAMPLES_NEEDED
 * samples in a row; `also(last)` may demand more of each sample. Resolves with the last sample.
 */
export async function waitInSync(pageA, pageB, { what = 'A and B', also = () => true, ...opts } = {}) {
  let last = null;
  let goodCount = 0;
  const { describe } = opts;
  await waitFor(`${what} to play within ${SYNC_TOLERANCE_S} s of each other (${SYNC_SAMPLES_NEEDED} samples in a row)`, async () => {
    last = await syncError(pageA, pageB);
    const ok = last.error !== null && !last.a.paused && !last.b.paused &&
      Math.abs(last.error) <= SYNC_TOLERANCE_S && also(last);
    goodCount = ok ? goodCount + 1 : 0;
    return goodCount >= SYNC_SAMPLES_NEEDED;
  }, {
    timeout: WAIT_MS,
    ...opts,
    describe: async () =>
      `last sample: ${JSON.stringify(last)}\nerror_ms: A=${await errorMs(pageA)} B=${await errorMs(pageB)}` +
      (describe ? `\n${await describe()}` : ''),
  });
  return last;
}

/**
 * One reading of a page at one instant: its player (as `sample` reads it) and the party state
 * the page holds — its `seq`, whether it is paused, and where it puts the media now
 * (`expected`, seconds) by the page's own estimate of server time. Null while it has none.
 */
export function sampleOnTimeline(page) {
  return page.evaluate((selector) => {
    const v = document.querySelector(selector);
    const w = window.wewatch;
    const s = w?.state?.();
    const now = w?.serverNow?.();
    if (!v || !s || now == null) return null;
    let expectedMs = s.position_ms + (s.paused ? 0 : Math.max(0, now - s.anchor_ms) * s.rate);
    if (s.duration_ms != null) expectedMs = Math.min(Math.max(expectedMs, 0), s.duration_ms);
    return {
      t: v.currentTime,
      wall: performance.timeOrigin + performance.now(),
      paused: v.paused,
      readyState: v.readyState,
      seq: s.seq,
      statePaused: s.paused,
      expected: expectedMs / 1000,
    };
  }, VIDEO);
}

/**
 * Waits until, at one reading of every page, each holds party state `minSeq` or a later one,
 * its player is paused or playing as that state says and stands within `slackS` of where the
 * state puts the media, and the players stand within SYNC_TOLERANCE_S of each other. Only the
 * outcome counts: however long it takes within the time-out (WAIT_MS unless told otherwise).
 * Resolves with the readings.
 */
export async function waitOnTimeline(pages, { what = 'every player', minSeq = 0, slackS = SYNC_TOLERANCE_S, describe, ...opts } = {}) {
  let last = null;
  const { value } = await waitFor(
    `${what} to follow party state ${minSeq} or later, within ${slackS} s of its timeline and ${SYNC_TOLERANCE_S} s of each other`,
    async () => {
      last = await Promise.all(pages.map(sampleOnTimeline));
      if (last.some((r) => !r || r.seq < minSeq || r.paused !== r.statePaused || Math.abs(r.t - r.expected) > slackS)) return null;
      const [first, ...rest] = last;
      const apart = (r) => r.t - first.t - (r.paused ? 0 : (r.wall - first.wall) / 1000);
      return rest.every((r) => Math.abs(apart(r)) <= SYNC_TOLERANCE_S) ? last : null;
    },
    {
      timeout: WAIT_MS,
      ...opts,
      describe: async () => `last readings: ${JSON.stringify(last)}${describe ? `\n${await describe()}` : ''}`,
    },
  );
  return value;
}

/** From `/`, adds the bundled 90 s sample and returns the absolute invite URL its page shows. */
export async function addSampleVideo(page, baseUrl) {
  const home = await page.goto(`${baseUrl}/`);
  assert.ok(home && home.ok(), `GET / answered ${home && home.status()}`);
  const button = page.locator(SAMPLE_BUTTON);
  await button.waitFor({ timeout: WAIT_MS });
  await Promise.all([
    page.waitForURL(/\/videos\/[^/?#]+\/?(?:[?#].*)?$/, { timeout: WAIT_MS }),
    button.click(),
  ]);
  const href = await page.locator(INVITE_LINK).getAttribute('href', { timeout: WAIT_MS });
  let invite;
  try {
    invite = new URL(href);
  } catch {
    assert.fail(`${INVITE_LINK} on ${page.url()} should hold an absolute URL, has href=${JSON.stringify(href)}`);
  }
  assert.equal(
    invite.origin,
    new URL(baseUrl).origin,
    `the invite link ${href} should point at the server that was asked (${baseUrl})`,
  );
  return invite.href;
}

/**
 * POSTs `body` as JSON to the API path `path` from `page` (with its viewer's cookie) and
 * resolves with the answer; anything but 201 fails, naming the answer.
 */
export function apiPost(page, path, body) {
  return page.evaluate(async ({ path, body }) => {
    const res = await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status !== 201) throw new Error(`POST ${path} ${JSON.stringify(body)} answered ${res.status}: ${text}`);
    return JSON.parse(text);
  }, { path, body });
}

/**
 * `scenario(name, body)` declares a test made of steps: `body(step)` calls
 * `step(name, fn)` for each. Later steps build on earlier ones: after a failure they are
 * skipped, not failed again. `failed()` says whether any scenario failed (to print logs).
 */
export function scenarios() {
  let anyFailure = false;
  const scenario = (name, body) =>
    test(name, async (t) => {
      let failedStep = null;
      const step = (stepName, stepBody) =>
        t.test(stepName, async (st) => {
          if (failedStep) {
            st.skip(`skipped: "${failedStep}" failed`);
            return;
          }
          try {
            await stepBody(st);
          } catch (err) {
            failedStep = stepName;
            anyFailure = true; // a failed subtest does not reject t.test(): note it here
            throw err;
          }
        });
      try {
        await body(step);
      } catch (err) {
        anyFailure = true;
        throw err;
      }
    });
  return { scenario, failed: () => anyFailure };
}

// ---------------------------------------------------------------- the native timeline

/** Chromium's default controls: the timeline spans the video's width near its bottom edge. */
const TIMELINE_FROM_BOTTOM_PX = 12;
/** How far in from each side of the video the timeline's track begins and ends. */
const TIMELINE_INSET_PX = 16;

/** Where on the screen the native timeline stands for `seconds` of a `durationS` media. */
export async function timelinePoint(page, seconds, durationS) {
  const box = await page.locator(VIDEO).boundingBox();
  assert.ok(box, 'the video has no box on the page');
  const fraction = Math.min(Math.max(seconds / durationS, 0), 1);
  return {
    x: box.x + TIMELINE_INSET_PX + (box.width - 2 * TIMELINE_INSET_PX) * fraction,
    y: box.y + box.height - TIMELINE_FROM_BOTTOM_PX,
    // Hovering here shows the controls, which hide after a while of a still mouse.
    hover: { x: box.x + box.width / 2, y: box.y + box.height / 2 },
  };
}

/**
 * A viewer presses the mouse on the native timeline at `seconds`, holds it `holdMs`, and
 * lets go: real input, which the browser's own controls handle.
 */
export async function clickTimeline(page, seconds, durationS, { holdMs = 100 } = {}) {
  const at = await timelinePoint(page, seconds, durationS);
  await page.mouse.move(at.hover.x, at.hover.y);
  await sleep(250);
  await page.mouse.move(at.x, at.y);
  await page.mouse.down();
  if (holdMs > 0) await sleep(holdMs);
  await page.mouse.up();
}

/** A viewer drags the native timeline's thumb from `fromS` to `toS` in `steps` moves, then lets go. */
export async function dragTimeline(page, fromS, toS, durationS, { steps = 10, stepMs = 60 } = {}) {
  const from = await timelinePoint(page, fromS, durationS);
  const to = await timelinePoint(page, toS, durationS);
  await page.mouse.move(from.hover.x, from.hover.y);
  await sleep(250);
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  for (let i = 1; i <= steps; i += 1) {
    await sleep(stepMs);
    await page.mouse.move(from.x + ((to.x - from.x) * i) / steps, from.y);
  }
  await sleep(stepMs);
  await page.mouse.up();
}

/**
 * Records the party frames a page sends and receives on its party socket (pings and pongs
 * left out): `sent` and `received` hold the parsed messages in order, each with `at`
 * (the test's clock, ms) added.
 */
export function recordPartyFrames(page) {
  const log = { sent: [], received: [] };
  const keep = (list, payload) => {
    let msg;
    try {
      msg = JSON.parse(String(payload));
    } catch {
      return;
    }
    if (msg.type === 'ping' || msg.type === 'pong') return;
    list.push({ ...msg, at: performance.now() });
  };
  page.on('websocket', (ws) => {
    if (!new URL(ws.url()).pathname.startsWith(PARTY_SOCKET_PATH)) return;
    ws.on('framesent', (f) => keep(log.sent, f.payload));
    ws.on('framereceived', (f) => keep(log.received, f.payload));
  });
  return log;
}
