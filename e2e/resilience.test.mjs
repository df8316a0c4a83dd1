// A watch party through trouble: the server goes away and comes back on the same address
// (the pages reconnect by themselves and pick up the party's timeline from Redis), and a
// browser that refuses to start media without a click (the page offers "Join playback").
//
// Every wait polls with a generous time-out; nothing fails on speed alone. How long the
// outage and the way back took is printed.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, waitFor } from './harness.mjs';
import {
  VIDEO, WAIT_MS,
  addSampleVideo, describePage, isPlaying, nativePlay, nativeSeek, sample, scenarios, viewerCount, waitInSync,
  waitOnTimeline,
} from './pages.mjs';

const CONNECTION_STATUS = '#connection-status';
const JOIN_PROMPT = '#join-playback';
/** How long the pages may take to reconnect once the server is back (their back-off reaches 10 s). */
const RECONNECT_WAIT_MS = 45_000;
/** How far a seek after the reconnect jumps from where the party is, in seconds. */
const SEEK_JUMP_S = 30;
/** The party's state after the seek stands this close to its target; one that ignored it is SEEK_JUMP_S off. */
const TIMELINE_SLACK_S = 5;
/** The Chromium policy under which media may start only after a click on the page. */
const BLOCKING_AUTOPLAY_POLICY = 'document-user-activation-required';

let h;

before(async () => {
  h = await startHarness();
  console.log(`server under test: ${h.baseUrl}`);
});

after(async () => {
  if (failed() && h) {
    console.log(`--- browser log ---\n${h.browserLog() || '(nothing)'}`);
    console.log(`--- server output, every run (tail) ---\n${h.serverOutput(16_000) || '(nothing)'}`);
  }
  await h?.stop();
});

const { scenario, failed } = scenarios();

// ---------------------------------------------------------------- page helpers

function connectionText(page) {
  return page.locator(CONNECTION_STATUS).textContent({ timeout: WAIT_MS });
}

/** `window.wewatch.connected()` of a page (false while it has none). */
function isConnected(page) {
  return page.evaluate(() => Boolean(window.wewatch?.connected?.()));
}

/** The party state a page holds, and where it puts the media now (ms), from its server clock. */
function heldState(page) {
  return page.evaluate(() => {
    const s = window.wewatch?.state?.();
    const now = window.wewatch?.serverNow?.();
    if (!s || now == null) return null;
    let expectedMs = s.position_ms + (s.paused ? 0 : Math.max(0, now - s.anchor_ms) * s.rate);
    if (s.duration_ms != null) expectedMs = Math.min(Math.max(expectedMs, 0), s.duration_ms);
    return { ...s, expectedMs };
  });
}

/**
 * Evaluates `expression` in a page without the user gesture Playwright lends its own
 * evaluations: a page read this way has still never been clicked, as far as the browser knows.
 */
async function gestureFreeEval(cdp, expression) {
  const { result, exceptionDetails } = await cdp.send('Runtime.evaluate', {
    expression,
    returnByValue: true,
    awaitPromise: true,
  });
  if (exceptionDetails) {
    throw new Error(`evaluation failed: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
  }
  return result.value;
}

/** What a not-yet-clicked page shows: its player, its status, and the "Join playback" prompt. */
const UNTOUCHED_PAGE_EXPRESSION = `(() => {
  const v = document.querySelector(${JSON.stringify(VIDEO)});
  const join = document.querySelector(${JSON.stringify(JOIN_PROMPT)});
  const box = join && join.getBoundingClientRect();
  const style = join && getComputedStyle(join);
  return {
    url: location.href,
    everActivated: navigator.userActivation ? navigator.userActivation.hasBeenActive : null,
    video: v && { paused: v.paused, currentTime: v.currentTime, readyState: v.readyState, muted: v.muted },
    connection: document.querySelector(${JSON.stringify(CONNECTION_STATUS)})?.textContent.trim() ?? null,
    connected: Boolean(window.wewatch?.connected?.()),
    join: join && {
      visible: !join.classList.contains('d-none') && style.display !== 'none' &&
        style.visibility !== 'hidden' && box.width > 0 && box.height > 0,
      text: join.textContent.trim(),
      x: box.left + box.width / 2,
      y: box.top + box.height / 2,
    },
  };
})()`;

/** True when `#join-playback` can be seen on the page (read with Playwright: only once clicked). */
function promptVisible(page) {
  return page.locator(JOIN_PROMPT).isVisible();
}

// ---------------------------------------------------------------- the tests

scenario('a dropped connection reconnects by itself and resumes in sync', async (step) => {
  const a = await h.newViewer('A');
  const b = await h.newViewer('B');
  const pageA = a.page;
  const pageB = b.page;
  const pages = [pageA, pageB];
  const describeParty = async () =>
    (await Promise.all([describePage('A', pageA), describePage('B', pageB)])).join('\n');
  const opts = (extra = {}) => ({ timeout: WAIT_MS, interval: 100, describe: describeParty, ...extra });

  let invite;
  /** A's player and party state just before the server stopped. */
  let beforeStop;
  let stoppedAt;
  let restartedAt;
  try {
    await step('the owner adds the bundled 90 s sample and gets an invite link', async () => {
      invite = await addSampleVideo(pageA, h.baseUrl);
      console.log(`invite link: ${invite}`);
    });

    await step('both people open the invite link, are connected and see two viewers', async () => {
      for (const page of pages) {
        const res = await page.goto(invite);
        assert.ok(res && res.ok(), `GET ${invite} answered ${res && res.status()}`);
        await page.locator(VIDEO).waitFor({ state: 'visible', timeout: WAIT_MS });
      }
      await waitFor('both pages to be connected to the party', async () =>
        (await Promise.all(pages.map(isConnected))).every(Boolean), opts());
      await waitFor('both viewer lists to show two people', async () =>
        (await Promise.all(pages.map(viewerCount))).every((n) => n === 2), opts());
    });

    await step('play in A starts both videos', async () => {
      await nativePlay(pageA);
      await waitFor('both videos to be playing (not paused, time advancing)', async () =>
        (await Promise.all(pages.map(isPlaying))).every(Boolean), opts());
    });

    await step('when the server stops, both pages say they are reconnecting', async () => {
      const [s, state] = await Promise.all([sample(pageA), heldState(pageA)]);
      assert.ok(s && state, `A has no player or no party state before the stop\n${await describeParty()}`);
      assert.equal(state.paused, false, `the party should be playing before the stop\n${await describeParty()}`);
      beforeStop = { t: s.t, state };

      const stopStart = performance.now();
      const exit = await h.stopServer();
      stoppedAt = performance.now();
      console.log(
        `server stopped ${Math.round(stoppedAt - stopStart)} ms after SIGTERM (${JSON.stringify(exit)}); ` +
          `A was at ${s.t.toFixed(3)} s, party state seq ${state.seq}`,
      );

      await waitFor(`both pages to show "reconnecting" in ${CONNECTION_STATUS}`, async () => {
        const texts = await Promise.all(pages.map(connectionText));
        return texts.every((text) => /reconnecting/i.test(text));
      }, opts());
      const connected = await Promise.all(pages.map(isConnected));
      assert.deepEqual(connected, [false, false], `no page may count as connected while the server is down\n${await describeParty()}`);
    });

    await step('once the server is back on the same port, both pages reconnect by themselves', async () => {
      await h.restartServer();
      restartedAt = performance.now();
      const { ms } = await waitFor(`both pages to show "connected" in ${CONNECTION_STATUS} again`, async () => {
        const [texts, connected] = await Promise.all([
          Promise.all(pages.map(connectionText)),
          Promise.all(pages.map(isConnected)),
        ]);
        return texts.every((text) => /\bconnected\b/i.test(text) && !/reconnecting/i.test(text)) &&
          connected.every(Boolean);
      }, opts({ timeout: RECONNECT_WAIT_MS }));
      console.log(
        `server down for ${Math.round(restartedAt - stoppedAt)} ms (until it listened again); ` +
          `both pages connected ${ms} ms after that`,
      );
    });

    await step('both play in sync again, further along the same party timeline', async () => {
      const last = await waitInSync(pageA, pageB, {
        what: 'A and B, past where A was before the stop,',
        also: ({ a: sa, b: sb }) => sa.t > beforeStop.t && sb.t > beforeStop.t,
        describe: describeParty,
      });
      for (const [label, page] of [['A', pageA], ['B', pageB]]) {
        const state = await heldState(page);
        const where = `${label}'s party state after the reconnect: ${JSON.stringify(state)}; before the stop: ${JSON.stringify(beforeStop.state)}`;
        assert.ok(state, `${label} holds no party state after the reconnect`);
        assert.equal(state.media, beforeStop.state.media, `the party changed media: ${where}`);
        assert.equal(state.paused, false, `the party should still be playing: ${where}`);
        assert.ok(state.seq >= beforeStop.state.seq, `the party's state went back to an older one: ${where}`);
        assert.ok(
          state.expectedMs > beforeStop.t * 1000,
          `the party's timeline should put the media past ${beforeStop.t.toFixed(3)} s, where it was before the stop: ${where}`,
        );
      }
      console.log(
        `after the reconnect: A at ${last.a.t.toFixed(3)} s, B at ${last.b.t.toFixed(3)} s ` +
          `(was ${beforeStop.t.toFixed(3)} s before the stop); measured error ${(last.error * 1000).toFixed(1)} ms`,
      );
    });

    await step('the viewer lists count two people again', async () => {
      await waitFor('both viewer lists to show two people', async () =>
        (await Promise.all(pages.map(viewerCount))).every((n) => n === 2), opts());
    });

    await step(`a seek of ${SEEK_JUMP_S} s in B after the reconnect moves A too`, async () => {
      const [from, before] = await Promise.all([sample(pageB), heldState(pageB)]);
      // Forward while there is room for it in the 90 s sample, else backward.
      const target = from.t + SEEK_JUMP_S < 75 ? from.t + SEEK_JUMP_S : from.t - SEEK_JUMP_S;
      await nativeSeek(pageB, target);
      // The party's state must stand on the seek's target (one that ignored the seek is
      // SEEK_JUMP_S off), and then both players follow it: judged by that state, never by how
      // far the wall clock moved meanwhile.
      const { value: seek } = await waitFor(`A's party state to move to the seek's target ${target.toFixed(3)} s`, async () => {
        const state = await heldState(pageA);
        return state && state.seq > before.seq && Math.abs(state.position_ms / 1000 - target) <= TIMELINE_SLACK_S ? state : null;
      }, opts());
      const [ra, rb] = await waitOnTimeline(pages, {
        what: `A and B after the seek to ${target.toFixed(3)} s`, minSeq: seek.seq, describe: describeParty,
      });
      console.log(
        `seek from ${from.t.toFixed(3)} s to ${target.toFixed(3)} s in B: A at ${ra.t.toFixed(3)} s, ` +
          `B at ${rb.t.toFixed(3)} s; expected ${ra.expected.toFixed(3)} s by A's clock`,
      );
    });
  } finally {
    await a.context.close().catch(() => {});
    await b.context.close().catch(() => {});
    // The next test needs a server, whatever happened here.
    if (!h.serverRunning()) {
      await h.restartServer().catch((err) => console.log(`could not start the server again: ${err.message}`));
    }
  }
});

scenario('blocked autoplay shows a one-click "join playback" prompt', async (step) => {
  // A browser like most people's: sound on, media starts only once the page has been clicked.
  const strict = await h.launchBrowser({ autoplayPolicy: BLOCKING_AUTOPLAY_POLICY, muteAudio: false });
  const a = await h.newViewer('A');
  const b = await strict.newViewer('B (no autoplay)');
  const pageA = a.page;
  const pageB = b.page;
  // B is read through its own DevTools session until the click, so no read counts as a click.
  const cdpB = await b.context.newCDPSession(pageB);
  const untouchedB = () => gestureFreeEval(cdpB, UNTOUCHED_PAGE_EXPRESSION);
  const describeParty = async () =>
    (await Promise.all([describePage('A', pageA), describePage('B', pageB)])).join('\n');
  const opts = (extra = {}) => ({ timeout: WAIT_MS, interval: 100, describe: describeParty, ...extra });

  let invite;
  try {
    await step('A adds the bundled 90 s sample, opens the invite link and plays', async () => {
      invite = await addSampleVideo(pageA, h.baseUrl);
      const res = await pageA.goto(invite);
      assert.ok(res && res.ok(), `GET ${invite} answered ${res && res.status()}`);
      await pageA.locator(VIDEO).waitFor({ state: 'visible', timeout: WAIT_MS });
      await waitFor('A to be connected to the party', () => isConnected(pageA), opts());
      await nativePlay(pageA);
      await waitFor('A to be playing', () => isPlaying(pageA), opts());
    });

    let seen;
    await step('B opens the invite link without clicking anything and is offered "Join playback"', async () => {
      const res = await pageB.goto(invite);
      assert.ok(res && res.ok(), `GET ${invite} answered ${res && res.status()}`);
      ({ value: seen } = await waitFor(`B's ${JOIN_PROMPT} to become visible`, async () => {
        const b = await untouchedB();
        return b.join?.visible ? b : null;
      }, opts({
        describe: async () => `B, read without a gesture: ${JSON.stringify(await untouchedB().catch((e) => e.message))}\n` +
          `${await describePage('A', pageA)}`,
      })));
      assert.equal(seen.everActivated, false, `B's page counts as clicked already, so this proves nothing: ${JSON.stringify(seen)}`);
      assert.ok(seen.video?.paused, `B's video should wait for the click: ${JSON.stringify(seen)}`);
      console.log(`B before the click: ${JSON.stringify(seen)}`);
    });

    await step('one click on it starts B in sync with A, and the prompt goes away', async () => {
      // Click where a person would: on the prompt, as the page lays it out now.
      const now = await untouchedB();
      assert.ok(now.join?.visible, `the prompt went away before the click: ${JSON.stringify(now)}`);
      const hit = await gestureFreeEval(cdpB, `document.elementFromPoint(${now.join.x}, ${now.join.y})?.closest(${JSON.stringify(JOIN_PROMPT)}) != null`);
      assert.ok(hit, `something covers ${JOIN_PROMPT} at (${now.join.x}, ${now.join.y}): ${JSON.stringify(now)}`);
      await pageB.mouse.click(now.join.x, now.join.y);

      await waitFor('B to be playing after the click', () => isPlaying(pageB), opts());
      const last = await waitInSync(pageA, pageB, { describe: describeParty });
      await waitFor(`B's ${JOIN_PROMPT} to be hidden`, async () => !(await promptVisible(pageB)), opts());
      console.log(
        `after the click: A at ${last.a.t.toFixed(3)} s, B at ${last.b.t.toFixed(3)} s; ` +
          `measured error ${(last.error * 1000).toFixed(1)} ms`,
      );
    });
  } finally {
    await cdpB.detach().catch(() => {});
    await a.context.close().catch(() => {});
    await b.context.close().catch(() => {});
    await strict.close();
  }
});
