// "Wait for everyone" (issue 3) through two real browsers. B's media requests are
// intercepted in B's own browser context: B gets the first seconds of the clip, and every
// request for the rest is held until the test lets it go. So B's player runs dry while the
// party plays, and the party must hold for B (A pauses, `waiting` is set) and resume with
// both in sync once B has its data — or, with a wait limit of 2 s, go on without B, who
// shows as left behind.
//
// Each scenario has its own server, with `[sync] wait_limit_secs` set for it. Every wait polls
// with a generous time-out; nothing fails on speed alone.

import { after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { GiveUp, REPO_ROOT, sleep, startHarness, waitFor } from './harness.mjs';
import {
  WAIT_MS, addSampleVideo, isPlaying, nativePlay, sample, waitInSync, scenarios,
} from './pages.mjs';
import {
  describer, isShown, openParty, partyState, viewerEntry, whoAmI,
} from './party-pages.mjs';

const CLIP_FILE = path.join(REPO_ROOT, 'static/media/sample-90s.webm');
const CLIP_URL_PATTERN = '**/sample-90s.webm';
const CLIP_SECONDS = 90;
/** B's player gets about this many seconds of the clip before its data is held back. */
const STALL_AFTER_S = 6;
/**
 * The clip's last bytes (where WebM keeps its seek index) always reach B: a player that seeks
 * (to catch up on joining, say) reads them first, and must not stall there, at the start.
 */
const CLIP_TAIL_BYTES = 64 * 1024;
/** How long B's stall may take to show in A: the clip's first seconds play out first. */
const STALL_WAIT_MS = 30_000;
/** A party holding for B must still hold this long later. */
const HOLD_CHECK_MS = 2_000;
/** A party that left B behind must play on at least this far (seconds of media) without waiting for B. */
const PLAY_ON_S = 2;
const WAITING_NOTICE = '#waiting-notice';
/** A wait limit no test reaches: the party waits for B as long as the test holds B back. */
const LONG_WAIT_LIMIT_S = 120;
/** The wait limit of the "left behind" scenario. */
const SHORT_WAIT_LIMIT_S = 2;
const BUFFERING_STATUS = /buffering|loading/i;
const LEFT_BEHIND_STATUS = /left[\s_-]*behind/i;

const { scenario, failed } = scenarios();
/** Every harness started here and not yet stopped. */
const running = new Set();

after(async () => {
  for (const h of running) await h.stop();
});

/** A harness whose server waits at most `waitLimitS` for a buffering viewer. */
async function harnessWithWaitLimit(waitLimitS) {
  const h = await startHarness({ settings: { sync: { wait_limit_secs: waitLimitS } } });
  running.add(h);
  console.log(`server under test: ${h.baseUrl} ([sync] wait_limit_secs = ${waitLimitS})`);
  return {
    ...h,
    stop: async () => {
      running.delete(h);
      if (failed()) {
        console.log(`--- browser log (${h.baseUrl}) ---\n${h.browserLog() || '(nothing)'}`);
        console.log(`--- server output (${h.baseUrl}, tail) ---\n${h.serverOutput(12_000) || '(nothing)'}`);
      }
      await h.stop();
    },
  };
}

/**
 * Holds back a browser context's requests for the clip: a request for its first `keepBytes`
 * bytes is answered (206, cut at `keepBytes`) from the file itself, and so is one for its last
 * CLIP_TAIL_BYTES; any request for the bytes between waits until `release()`, which lets the
 * held ones and all later ones through to the server. `remove()` releases and stops
 * intercepting.
 */
async function stallClip(context, keepBytes) {
  const body = await readFile(CLIP_FILE);
  const held = [];
  const seen = [];
  let released = false;
  const handler = async (route) => {
    const range = route.request().headers().range ?? '';
    seen.push(range || '(no range)');
    if (released) return route.continue().catch(() => {});
    const m = /^bytes=(\d+)-(\d*)$/.exec(range.trim());
    const start = m ? Number(m[1]) : 0;
    const asked = m && m[2] ? Math.min(Number(m[2]), body.length - 1) : body.length - 1;
    const inTail = start >= body.length - CLIP_TAIL_BYTES;
    if (start >= keepBytes && !inTail) {
      held.push(route);
      return undefined;
    }
    const last = inTail ? asked : Math.min(asked, keepBytes - 1);
    return route.fulfill({
      status: 206,
      headers: {
        'content-type': 'video/webm',
        'accept-ranges': 'bytes',
        'content-range': `bytes ${start}-${last}/${body.length}`,
      },
      body: body.subarray(start, last + 1),
    }).catch(() => {});
  };
  await context.route(CLIP_URL_PATTERN, handler);
  const release = async () => {
    released = true;
    // A request the player gave up on meanwhile cannot be continued: nothing is lost.
    for (const route of held.splice(0)) await route.continue().catch(() => {});
  };
  return {
    release,
    held: () => held.length,
    requests: () => seen.slice(),
    remove: async () => {
      await release();
      await context.unroute(CLIP_URL_PATTERN, handler).catch(() => {});
    },
  };
}

/** Opens a party of the 90 s sample for A and B, with B's clip cut after STALL_AFTER_S. */
async function stalledParty(h) {
  const a = await h.newViewer('A');
  const b = await h.newViewer('B (stalled)');
  const pageA = a.page;
  const pageB = b.page;
  const size = (await readFile(CLIP_FILE)).length;
  const stall = await stallClip(b.context, Math.round((size * STALL_AFTER_S) / CLIP_SECONDS));
  const baseDescribe = describer({ A: pageA, B: pageB });
  const describe = async () =>
    `${await baseDescribe()}\nB's clip requests: ${JSON.stringify(stall.requests())}, held now: ${stall.held()}`;
  return {
    a, b, pageA, pageB, stall, describe,
    opts: (extra = {}) => ({ timeout: WAIT_MS, interval: 100, describe, ...extra }),
    close: async () => {
      await stall.remove();
      await a.context.close().catch(() => {});
      await b.context.close().catch(() => {});
    },
  };
}

/** True when the page's `#waiting-notice` exists (the page may not have one yet). */
function hasWaitingNotice(page) {
  return page.evaluate((sel) => document.querySelector(sel) !== null, WAITING_NOTICE);
}

// ---------------------------------------------------------------- the tests

scenario('a stalled viewer holds the party until its media arrives, then both play in sync', async (step) => {
  const h = await harnessWithWaitLimit(LONG_WAIT_LIMIT_S);
  let p;
  let userB;
  try {
    p = await stalledParty(h);
    const { pageA, pageB, opts } = p;

    await step('A adds the bundled 90 s sample; A and B open its invite link', async () => {
      const invite = await addSampleVideo(pageA, h.baseUrl);
      await openParty([pageA, pageB], invite, p.describe);
      userB = await whoAmI(pageB);
      assert.ok(userB?.id && userB.name, `B's page does not say who B is: ${JSON.stringify(userB)}`);
    });

    await step('A plays: both play', async () => {
      await nativePlay(pageA);
      await waitFor('both videos to be playing', async () =>
        (await Promise.all([isPlaying(pageA), isPlaying(pageB)])).every(Boolean), opts());
    });

    await step('when B runs out of media, A pauses and its party state says it waits', async () => {
      const { ms } = await waitFor('A to be paused with state().waiting === true', async () => {
        const [s, state] = await Promise.all([sample(pageA), partyState(pageA)]);
        return Boolean(s?.paused && state?.paused && state.waiting === true);
      }, opts({ timeout: STALL_WAIT_MS }));
      console.log(`the party held for B ${ms} ms after both played; B's clip requests: ${JSON.stringify(p.stall.requests())}`);
      await waitFor(`B's entry in A's viewer list to say it is loading (${BUFFERING_STATUS})`, async () =>
        BUFFERING_STATUS.test((await viewerEntry(pageA, userB.id))?.status ?? ''), opts());
      await sleep(HOLD_CHECK_MS);
      const [s, state] = await Promise.all([sample(pageA), partyState(pageA)]);
      assert.ok(s?.paused && state?.waiting === true,
        `the party stopped waiting for B while B is still stalled: A ${JSON.stringify(s)}, state ${JSON.stringify(state)}\n${await p.describe()}`);
    });

    await step(`A's ${WAITING_NOTICE} (where the page has one) names B`, async (t) => {
      if (!(await hasWaitingNotice(pageA))) {
        t.skip(`A's page has no ${WAITING_NOTICE}`);
        return;
      }
      await waitFor(`A's ${WAITING_NOTICE} to be shown and name B (${userB.name})`, async () =>
        (await isShown(pageA, WAITING_NOTICE)) &&
          (await pageA.locator(WAITING_NOTICE).textContent()).includes(userB.name), opts());
    });

    await step('once B\'s media arrives, both play again in sync', async () => {
      await p.stall.release();
      const last = await waitInSync(pageA, pageB, {
        what: 'A and B after B\'s media arrived',
        timeout: STALL_WAIT_MS,
        describe: p.describe,
      });
      const state = await partyState(pageA);
      assert.equal(state?.waiting, false, `A's party state still says it waits: ${JSON.stringify(state)}`);
      assert.equal(state?.paused, false, `A's party state is paused: ${JSON.stringify(state)}`);
      await waitFor(`B's entry in A's viewer list to say playing again`, async () =>
        /watching|playing/i.test((await viewerEntry(pageA, userB.id))?.status ?? ''), opts());
      if (await hasWaitingNotice(pageA)) {
        await waitFor(`A's ${WAITING_NOTICE} to be hidden`, async () => !(await isShown(pageA, WAITING_NOTICE)), opts());
      }
      console.log(
        `resumed: A at ${last.a.t.toFixed(3)} s, B at ${last.b.t.toFixed(3)} s; measured error ${(last.error * 1000).toFixed(1)} ms`,
      );
    });
  } finally {
    await p?.close();
    await h.stop();
  }
});

scenario(`with a wait limit of ${SHORT_WAIT_LIMIT_S} s the party goes on without a stalled viewer`, async (step) => {
  const h = await harnessWithWaitLimit(SHORT_WAIT_LIMIT_S);
  let p;
  let userB;
  try {
    p = await stalledParty(h);
    const { pageA, pageB, opts } = p;

    await step('A adds the bundled 90 s sample; A and B open its invite link and A plays', async () => {
      const invite = await addSampleVideo(pageA, h.baseUrl);
      await openParty([pageA, pageB], invite, p.describe);
      userB = await whoAmI(pageB);
      assert.ok(userB?.id, `B's page does not say who B is: ${JSON.stringify(userB)}`);
      await nativePlay(pageA);
      await waitFor('both videos to be playing', async () =>
        (await Promise.all([isPlaying(pageA), isPlaying(pageB)])).every(Boolean), opts());
    });

    await step('B, stalled past the limit, shows as left behind in A\'s viewer list while A plays on', async () => {
      await waitFor(`B's entry in A's viewer list to say left behind (${LEFT_BEHIND_STATUS})`, async () =>
        LEFT_BEHIND_STATUS.test((await viewerEntry(pageA, userB.id))?.status ?? ''), opts({ timeout: STALL_WAIT_MS }));
      await waitFor('A to be playing, its party state neither paused nor waiting', async () => {
        const state = await partyState(pageA);
        return state && !state.paused && state.waiting === false && (await isPlaying(pageA));
      }, opts());
      // A keeps playing: B, still stalled, does not hold the party again. Judged by A's player
      // getting PLAY_ON_S further along with the party never waiting meanwhile, however long
      // that takes a busy machine.
      const from = await sample(pageA);
      await waitFor(`A to play ${PLAY_ON_S} s further while B stays stalled, the party never waiting`, async () => {
        const [now, state] = await Promise.all([sample(pageA), partyState(pageA)]);
        if (state?.waiting !== false) {
          throw new GiveUp(`the party holds for B again although B was left behind: ${JSON.stringify({ from, now, state })}`);
        }
        return now && !now.paused && now.t - from.t >= PLAY_ON_S;
      }, opts({ timeout: STALL_WAIT_MS }));
      const entry = await viewerEntry(pageA, userB.id);
      assert.match(entry?.status ?? '', LEFT_BEHIND_STATUS, `B's entry in A's list: ${JSON.stringify(entry)}`);
      assert.ok(p.stall.held() > 0, `B's clip requests were not held back: ${JSON.stringify(p.stall.requests())}`);
    });

    await step('once B\'s media arrives, B catches up and plays in sync with A', async () => {
      await p.stall.release();
      await waitInSync(pageA, pageB, { what: 'A and B after B\'s media arrived', timeout: STALL_WAIT_MS, describe: p.describe });
      await waitFor(`B's entry in A's viewer list to say playing again`, async () =>
        /watching|playing/i.test((await viewerEntry(pageA, userB.id))?.status ?? ''), opts());
    });
  } finally {
    await p?.close();
    await h.stop();
  }
});
