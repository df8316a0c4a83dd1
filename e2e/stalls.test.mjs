// "Wait for everyone" against a viewer whose media comes too slowly or not at all.
//
// 1. B's line is throttled (Chromium's own network emulation) below the clip's bit rate, so
//    B's player stalls again and again, each stall shorter than the wait limit. Once B's
//    stalls have held the party for `[sync] stall_budget_secs`, the party goes on without B:
//    a chat line says so, B's page tells B, A's list shows B left behind while B loads, and
//    A plays on without waiting again.
// 2. B's requests for the clip are never answered, so B's player never even learns the
//    clip's length (no media event fires). When A plays, the party must still hold for B as
//    loading, and go on without B at the wait limit.
//
// Each scenario has its own server and limits. Every wait polls with a generous deadline.

import { after } from 'node:test';
import assert from 'node:assert/strict';
import { GiveUp, startHarness, waitFor } from './harness.mjs';
import { WAIT_MS, addSampleVideo, isPlaying, nativePlay, sample, scenarios } from './pages.mjs';
import { describer, isShown, openParty, partyState, viewerEntry, whoAmI } from './party-pages.mjs';

const CLIP_URL_PATTERN = '**/sample-90s.webm';
/** B's line: about two thirds of the 90 s clip's bit rate (2.9 MB / 90 s ≈ 32 KB/s). */
const SLOW_LINE_BYTES_PER_S = 22 * 1024;
/** How long the stalls of a slow line may take to use up a budget, on a busy machine. */
const STALLS_WAIT_MS = 120_000;
/** A party that left B behind must play on at least this far (seconds) without waiting. */
const PLAY_ON_S = 3;
const LEFT_BEHIND_STATUS = /left[\s_-]*behind/i;
const LOADING_STATUS = /loading|buffering/i;

const { scenario, failed } = scenarios();
const cleanups = [];
after(async () => {
  for (const clean of cleanups.reverse()) await clean();
});

async function harness(sync) {
  const h = await startHarness({ settings: { sync } });
  console.log(`server under test: ${h.baseUrl} ([sync] ${JSON.stringify(sync)})`);
  cleanups.push(async () => {
    if (failed()) console.log(`--- server output (tail) ---\n${h.serverOutput(12_000)}\n--- browser log ---\n${h.browserLog()}`);
    await h.stop();
  });
  return h;
}

/** The texts of the chat lines `page` shows. */
function chatTexts(page) {
  return page.evaluate(() => [...document.querySelectorAll('#chat-messages li')].map((li) => li.textContent.trim()));
}

/** Waits until A plays PLAY_ON_S further, failing at once if the party waits meanwhile. */
async function playsOnWithoutWaiting(pageA, opts) {
  const from = await sample(pageA);
  await waitFor(`A to play ${PLAY_ON_S} s further, the party never waiting`, async () => {
    const [now, state] = await Promise.all([sample(pageA), partyState(pageA)]);
    if (state?.waiting !== false) throw new GiveUp(`the party waits again: ${JSON.stringify({ from, now, state })}`);
    return now && !now.paused && now.t - from.t >= PLAY_ON_S;
  }, opts);
}

scenario('a viewer on a line too slow for the media, stalling again and again, is left behind', async (step) => {
  const h = await harness({ wait_limit_secs: 60, stall_budget_secs: 4, stall_window_secs: 300 });
  const a = await h.newViewer('A');
  const b = await h.newViewer('B (slow line)');
  const { page: pageA } = a;
  const { page: pageB } = b;
  const describe = describer({ A: pageA, B: pageB });
  const opts = (extra = {}) => ({ timeout: WAIT_MS, interval: 100, describe, ...extra });
  let userB;

  await step('A and B, on a slow line, open a party of the 90 s sample; A plays', async () => {
    const cdp = await b.context.newCDPSession(pageB);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false, latency: 0, downloadThroughput: SLOW_LINE_BYTES_PER_S, uploadThroughput: -1,
    });
    const invite = await addSampleVideo(pageA, h.baseUrl);
    await openParty([pageA, pageB], invite, describe);
    userB = await whoAmI(pageB);
    await nativePlay(pageA);
  });

  await step('the party holds for B again and again, then goes on without B, and says so', async () => {
    let holds = 0;
    let wasWaiting = false;
    const seen = { line: null, notice: false, listed: false };
    await waitFor('a chat line saying B keeps stopping, B told, and B shown left behind in A\'s list', async () => {
      const state = await partyState(pageA);
      if (state?.waiting && !wasWaiting) holds += 1;
      wasWaiting = Boolean(state?.waiting);
      seen.line ??= (await chatTexts(pageA)).find((t) => t.includes(userB.name) && /keeps stopping/i.test(t)) ?? null;
      seen.notice ||= (await isShown(pageB, '#party-notice'))
        && /goes on without you/i.test(await pageB.locator('#party-notice').textContent());
      seen.listed ||= LEFT_BEHIND_STATUS.test((await viewerEntry(pageA, userB.id))?.status ?? '');
      return seen.line && seen.notice && seen.listed;
    }, opts({ timeout: STALLS_WAIT_MS, describe: async () => `${JSON.stringify(seen)}\n${await describe()}` }));
    console.log(`the party held for B ${holds} times before it went on without B: "${seen.line}"`);
  });

  await step('A plays on without waiting for B again', async () => {
    await playsOnWithoutWaiting(pageA, opts({ timeout: STALLS_WAIT_MS }));
  });
});

scenario('a viewer whose media never starts loading holds the party as loading until the wait limit', async (step) => {
  const h = await harness({ wait_limit_secs: 8 });
  const a = await h.newViewer('A');
  const b = await h.newViewer('B (no media)');
  const { page: pageA } = a;
  const { page: pageB } = b;
  const describe = describer({ A: pageA, B: pageB });
  const opts = (extra = {}) => ({ timeout: WAIT_MS, interval: 100, describe, ...extra });
  const unanswered = [];
  let userB;

  await step('A and B open a party of the sample, B\'s media requests never answered; A plays', async () => {
    await b.context.route(CLIP_URL_PATTERN, (route) => { unanswered.push(route); });
    const invite = await addSampleVideo(pageA, h.baseUrl);
    await openParty([pageA, pageB], invite, describe);
    userB = await whoAmI(pageB);
    await nativePlay(pageA);
  });

  await step('the party waits for B, shown loading, and the notice names B', async () => {
    await waitFor('A\'s party to wait with B shown loading and named by the notice', async () => {
      const state = await partyState(pageA);
      const status = (await viewerEntry(pageA, userB.id))?.status ?? '';
      const notice = (await isShown(pageA, '#waiting-notice'))
        ? await pageA.locator('#waiting-notice').textContent() : '';
      return state?.waiting === true && LOADING_STATUS.test(status) && notice.includes(userB.name);
    }, opts());
    assert.ok(unanswered.length > 0, 'B asked for the clip');
  });

  await step('at the wait limit the party goes on without B, who shows left behind and is told', async () => {
    await waitFor('B left behind in A\'s list, a chat line saying B is still loading, and B told', async () =>
      LEFT_BEHIND_STATUS.test((await viewerEntry(pageA, userB.id))?.status ?? '')
        && (await chatTexts(pageA)).some((t) => t.includes(userB.name) && /still loading/i.test(t))
        && /goes on without you/i.test(await pageB.locator('#party-notice').textContent()),
    opts({ timeout: 60_000 }));
    await waitFor('A to be playing', () => isPlaying(pageA), opts());
    await playsOnWithoutWaiting(pageA, opts({ timeout: 60_000 }));
  });
});
