// An HLS party through two real browsers: the bundled 90 s sample as an HLS stream
// (static/media/hls/sample-90s/, fMP4 segments of H.264 and AAC) plays through hls.js in
// Chromium, and both viewers show the same frame after play, a seek and a pause. The library's
// form says which player a link will get while it is typed.
//
// Every wait polls with a generous time-out; nothing fails on speed alone.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sleep, startHarness, waitFor } from './harness.mjs';
import {
  VIDEO, WAIT_MS, nativePause, nativePlay, nativeSeek, recordPartyFrames, sample, scenarios, syncError,
} from './pages.mjs';
import { describer, openParty, partyState } from './party-pages.mjs';

/** The HLS rendition of the 90 s sample, as this server serves it. */
const STREAM_PATH = '/static/media/hls/sample-90s/index.m3u8';
/** One frame of the sample (30 frames a second), in seconds. */
const FRAME_S = 1 / 30;
/** Consecutive readings within a frame needed before two playing players count as together. */
const SAME_FRAME_READINGS = 3;
/** Where B's seek sends the party, in seconds. */
const SEEK_TO_S = 61;
/** What the add-video form says of a link while it is typed. */
const LINK_KIND = '#link-kind';

let h;
const { scenario, failed } = scenarios();

before(async () => {
  h = await startHarness();
  console.log(`server under test: ${h.baseUrl}`);
});

after(async () => {
  if (failed() && h) {
    console.log(`--- browser log ---\n${h.browserLog() || '(nothing)'}`);
    console.log(`--- server output (tail) ---\n${h.serverOutput(12_000) || '(nothing)'}`);
  }
  await h?.stop();
});

/** Waits until both players play and show the same frame (within one) at one instant, several readings in a row. */
async function samePlayingFrame(pageA, pageB, what, describe) {
  let run = 0;
  let last = null;
  await waitFor(`${what}: both playing, within one frame of each other (${SAME_FRAME_READINGS} readings in a row)`, async () => {
    last = await syncError(pageA, pageB);
    const ok = last.error !== null && !last.a.paused && !last.b.paused && Math.abs(last.error) <= FRAME_S;
    run = ok ? run + 1 : 0;
    return run >= SAME_FRAME_READINGS;
  }, { timeout: WAIT_MS, describe: async () => `last reading: ${JSON.stringify(last)}\n${await describe()}` });
  return last;
}

/** Waits until both players are paused on the same frame. */
async function samePausedFrame(pageA, pageB, what, describe) {
  let last = null;
  await waitFor(`${what}: both paused on the same frame`, async () => {
    last = await Promise.all([sample(pageA), sample(pageB)]);
    const [a, b] = last;
    return a && b && a.paused && b.paused && Math.abs(a.t - b.t) < FRAME_S / 2;
  }, { timeout: WAIT_MS, describe: async () => `last readings: ${JSON.stringify(last)}\n${await describe()}` });
  return last;
}

scenario('two viewers of an HLS stream see the same frame after play, seek and pause', async (step) => {
  const a = await h.newViewer('A');
  const b = await h.newViewer('B');
  const pages = [a.page, b.page];
  const errors = [];
  for (const [label, page] of [['A', a.page], ['B', b.page]]) page.on('pageerror', (e) => errors.push(`${label}: ${e.message}`));
  const framesB = recordPartyFrames(b.page);
  const describe = describer({ A: a.page, B: b.page });
  const streamUrl = `${h.baseUrl}${STREAM_PATH}`;
  try {
    let watchUrl;
    await step('the add-video form says an .m3u8 link will play as an HLS stream, and adds it', async () => {
      await a.page.goto(`${h.baseUrl}/`);
      const url = a.page.locator('#url');
      await url.pressSequentially('https://youtu.be/dQw4w9WgXcQ');
      await waitFor('the form to name the YouTube player', async () =>
        /YouTube/.test(await a.page.locator(LINK_KIND).textContent()), { timeout: WAIT_MS, describe });
      await url.fill('');
      await url.pressSequentially(streamUrl);
      await waitFor('the form to name the HLS player', async () =>
        /HLS stream/.test(await a.page.locator(LINK_KIND).textContent()), { timeout: WAIT_MS, describe });
      await Promise.all([
        a.page.waitForURL(/\/videos\/\d+/, { timeout: WAIT_MS }),
        a.page.locator('#add-video-form button[type="submit"]').click(),
      ]);
      watchUrl = await a.page.locator('a#invite-link').getAttribute('href');
      assert.ok(watchUrl, 'the video page shows its invite link');
    });

    await step('both open the party; each player plays the stream through hls.js', async () => {
      await openParty(pages, watchUrl, describe);
      await waitFor('both players to have the stream attached through Media Source Extensions', async () => {
        const sources = await Promise.all(pages.map((p) => p.evaluate((sel) => {
          const v = document.querySelector(sel);
          return v ? { src: v.currentSrc, readyState: v.readyState } : null;
        }, VIDEO)));
        return sources.every((s) => s && s.src.startsWith('blob:') && s.readyState >= 1);
      }, { timeout: WAIT_MS, describe });
    });

    await step('play in A: both play on the same frame', async () => {
      await nativePlay(a.page);
      const last = await samePlayingFrame(a.page, b.page, 'after play', describe);
      console.log(`after play: A − B = ${(last.error * 1000).toFixed(1)} ms`);
    });

    await step(`a seek to ${SEEK_TO_S} s in B: both play from there on the same frame`, async () => {
      const seqBefore = (await partyState(b.page)).seq;
      await nativeSeek(b.page, SEEK_TO_S);
      await waitFor(`the party to play from ${SEEK_TO_S} s`, async () => {
        const s = await partyState(a.page);
        return s && s.seq > seqBefore && !s.paused && Math.abs(s.position_ms / 1000 - SEEK_TO_S) < 0.5;
      }, { timeout: WAIT_MS, describe });
      const last = await samePlayingFrame(a.page, b.page, 'after the seek', describe);
      assert.ok(last.a.t >= SEEK_TO_S - 0.5 && last.a.t < SEEK_TO_S + 20, `A plays at ${last.a.t} s after the seek to ${SEEK_TO_S} s`);
      console.log(`after the seek: A − B = ${(last.error * 1000).toFixed(1)} ms`);
    });

    await step('pause in A: both stop on the same frame', async () => {
      await nativePause(a.page);
      const [sa, sb] = await samePausedFrame(a.page, b.page, 'after the pause', describe);
      console.log(`paused at A = ${sa.t.toFixed(3)} s, B = ${sb.t.toFixed(3)} s`);
    });

    await step('nothing but the viewers moved the party, and no page threw', async () => {
      await sleep(500);
      const commands = framesB.sent.filter((m) => ['play', 'pause', 'seek', 'rate'].includes(m.type)).map((m) => m.type);
      assert.deepEqual(commands, ['seek'], `B sent ${JSON.stringify(commands)}: only its own seek was expected`);
      assert.deepEqual(errors, []);
    });
  } finally {
    await a.context.close().catch(() => {});
    await b.context.close().catch(() => {});
  }
});
