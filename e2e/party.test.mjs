// The social party (issue 4) through two real browsers: chat that stays text whatever is
// typed, a message's time that seeks both players, a playlist of the two bundled clips that
// moves on for everyone, and who may control — the owner's "promoted" mode, promotion from
// the viewer list, and the keyboard.
//
// Every wait polls with a generous time-out; nothing fails on speed alone.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sleep, startHarness, waitFor } from './harness.mjs';
import {
  SYNC_TOLERANCE_S, VIDEO, WAIT_MS,
  addSampleVideo, isPaused, isPlaying, nativePause, nativePlay, nativeSeek, sample, waitInSync, waitOnTimeline,
  scenarios,
} from './pages.mjs';
import {
  canControl, describer, isShown, openParty, partyState, whoAmI,
} from './party-pages.mjs';

const CHAT_INPUT = '#chat-input';
const CHAT_LIST = '#chat-messages';
const CONTROL_MODE = '#control-mode';
const CONTROL_HINT = '#control-hint';
/** Markup typed into the chat: it must show as these characters and run nothing. */
const MARKUP_MESSAGE = '<img src=x onerror=alert(1)>';
/** More markup, each of which would set `window.__xss` if it ever ran. */
const CANARY_MESSAGES = [
  '<img src=x onerror="window.__xss=\'img\'">',
  '<svg onload="window.__xss=\'svg\'"></svg>',
  '<script>window.__xss=\'script\'</script>',
  '<iframe srcdoc="<script>parent.__xss=\'iframe\'</script>"></iframe>',
];
const LINK_MESSAGE = 'javascript:alert(1)';
/** Elements no chat message may ever bring into the chat list. */
const FOREIGN_ELEMENTS = 'img, script, svg, iframe, a, object, embed, video, audio, form, input, link, style, meta, frame';
/** How long the playlist may take to reach the end of the 30 s clip and move on. */
const ADVANCE_WAIT_MS = 30_000;
/** Where the playlist step starts the 30 s clip, in seconds (close to its end, to save time). */
const NEAR_END_S = 26;
/** After the advance, both players must be this early in the second item (seconds). */
const NEW_ITEM_START_S = 8;
/** How far an arrow key moves the party (seconds), and the slack allowed around it. */
const ARROW_STEP_S = 5;
const ARROW_SLACK_S = 1;

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

// ---------------------------------------------------------------- helpers

/** Two fresh people, A (who will own the party) and B; `close()` ends both contexts. */
async function twoViewers() {
  const a = await h.newViewer('A');
  const b = await h.newViewer('B');
  const pageA = a.page;
  const pageB = b.page;
  const describe = describer({ A: pageA, B: pageB });
  return {
    a, b, pageA, pageB, describe,
    opts: (extra = {}) => ({ timeout: WAIT_MS, interval: 100, describe, ...extra }),
    close: async () => {
      await a.context.close().catch(() => {});
      await b.context.close().catch(() => {});
    },
  };
}

/** Types `text` into the page's chat and submits it; resolves once the server accepted it. */
async function sendChat(page, text, opts) {
  const input = page.locator(CHAT_INPUT);
  await input.fill(text, { timeout: WAIT_MS });
  await input.press('Enter');
  // The page keeps the text until its own message comes back, and clears the field then.
  await waitFor(`the chat message ${JSON.stringify(text)} to be accepted (the field cleared)`, async () =>
    (await input.inputValue()) === '', opts);
}

/**
 * Waits until `page` shows a chat message whose `.chat-text` reads exactly `text`; resolves
 * with what the page shows of it.
 */
async function waitForMessage(page, text, opts) {
  const { value } = await waitFor(`a chat message reading exactly ${JSON.stringify(text)}`, () =>
    page.evaluate(({ list, text }) => {
      const li = [...document.querySelectorAll(`${list} li.chat-message`)]
        .find((el) => el.querySelector('.chat-text')?.textContent === text);
      if (!li) return null;
      const time = li.querySelector('button.chat-time');
      return {
        id: li.dataset.messageId,
        html: li.outerHTML,
        textElements: li.querySelector('.chat-text').childElementCount,
        positionMs: time ? Number(time.dataset.positionMs) : null,
      };
    }, { list: CHAT_LIST, text }), opts);
  return value;
}

/** Both players paused within SYNC_TOLERANCE_S of `seconds`. */
async function waitBothPausedAt(pages, seconds, opts) {
  await waitFor(`both videos to be paused within ${SYNC_TOLERANCE_S} s of ${seconds} s`, async () => {
    const samples = await Promise.all(pages.map(sample));
    return samples.every((s) => s && s.paused && Math.abs(s.t - seconds) <= SYNC_TOLERANCE_S);
  }, opts);
}

async function waitBothPlaying(pages, opts) {
  await waitFor('both videos to be playing (not paused, time advancing)', async () =>
    (await Promise.all(pages.map(isPlaying))).every(Boolean), opts);
}

async function waitBothPaused(pages, opts) {
  await waitFor('both videos to be paused', async () =>
    (await Promise.all(pages.map(isPaused))).every(Boolean), opts);
}

// ---------------------------------------------------------------- the tests

scenario('chat is text, and a message\'s time seeks both players', async (step) => {
  const p = await twoViewers();
  const { pageA, pageB, opts } = p;
  const dialogs = [];
  for (const [label, page] of [['A', pageA], ['B', pageB]]) {
    page.on('dialog', (d) => {
      dialogs.push(`${label}: ${d.type()} ${JSON.stringify(d.message())}`);
      d.dismiss().catch(() => {});
    });
  }

  try {
    await step('A adds the bundled 90 s sample; A and B open its invite link', async () => {
      const invite = await addSampleVideo(pageA, h.baseUrl);
      await openParty([pageA, pageB], invite, p.describe);
    });

    await step(`${JSON.stringify(MARKUP_MESSAGE)} typed by A shows as those characters in B, and runs nothing`, async () => {
      await sendChat(pageA, MARKUP_MESSAGE, opts());
      const seen = await waitForMessage(pageB, MARKUP_MESSAGE, opts());
      assert.equal(seen.textElements, 0, `B's .chat-text holds elements: ${seen.html}`);
      for (const text of CANARY_MESSAGES) {
        await sendChat(pageA, text, opts());
        const canary = await waitForMessage(pageB, text, opts());
        assert.equal(canary.textElements, 0, `B's .chat-text holds elements: ${canary.html}`);
      }
      // An image's error event and a frame's script come a moment later: give them time to run.
      await sleep(1500);
      for (const [label, page] of [['A', pageA], ['B', pageB]]) {
        const found = await page.evaluate((sel) => {
          const list = document.querySelector(sel.list);
          return {
            foreign: [...list.querySelectorAll(sel.foreign)].map((el) => el.outerHTML),
            xss: window.__xss ?? null,
          };
        }, { list: CHAT_LIST, foreign: FOREIGN_ELEMENTS });
        assert.deepEqual(found.foreign, [], `${label}'s chat list holds elements a message brought in`);
        assert.equal(found.xss, null, `markup in a chat message ran in ${label} (window.__xss = ${JSON.stringify(found.xss)})`);
      }
      assert.deepEqual(dialogs, [], 'a chat message opened a dialog');
    });

    await step(`${JSON.stringify(LINK_MESSAGE)} shows as text in B, not as a link`, async () => {
      await sendChat(pageA, LINK_MESSAGE, opts());
      const seen = await waitForMessage(pageB, LINK_MESSAGE, opts());
      assert.equal(seen.textElements, 0, `B's .chat-text holds elements: ${seen.html}`);
      const links = await pageB.evaluate((sel) =>
        [...document.querySelectorAll(`${sel} a, ${sel} [href]`)].map((el) => el.outerHTML), CHAT_LIST);
      assert.deepEqual(links, [], 'B\'s chat list holds links');
      // Clicking the text does nothing: no dialog, no navigation.
      const before = pageB.url();
      await pageB.locator(`${CHAT_LIST} li[data-message-id="${seen.id}"] .chat-text`).click({ timeout: WAIT_MS });
      await sleep(500);
      assert.equal(pageB.url(), before, 'clicking the message\'s text navigated B');
      assert.deepEqual(dialogs, [], 'clicking a chat message opened a dialog');
    });

    const TIME_S = 20;
    const AWAY_S = 60;
    const timeText = `the bit at ${TIME_S} s ${Math.random().toString(36).slice(2, 8)}`;
    let message;
    await step(`a message written at ${TIME_S} s carries that time`, async () => {
      await waitBothPaused([pageA, pageB], opts());
      await nativeSeek(pageA, TIME_S);
      await waitBothPausedAt([pageA, pageB], TIME_S, opts());
      await sendChat(pageA, timeText, opts());
      message = await waitForMessage(pageB, timeText, opts());
      assert.ok(
        message.positionMs !== null && Math.abs(message.positionMs - TIME_S * 1000) <= SYNC_TOLERANCE_S * 1000,
        `the message should carry about ${TIME_S * 1000} ms, carries ${message.positionMs}: ${message.html}`,
      );
    });

    await step(`after a seek to ${AWAY_S} s, clicking the message's time in B brings both back to ${TIME_S} s`, async () => {
      await nativeSeek(pageA, AWAY_S);
      await waitBothPausedAt([pageA, pageB], AWAY_S, opts());
      const time = pageB.locator(`${CHAT_LIST} li[data-message-id="${message.id}"] button.chat-time`);
      await time.click({ timeout: WAIT_MS }); // waits until the button is enabled
      await waitBothPausedAt([pageA, pageB], TIME_S, opts());
    });
  } finally {
    await p.close();
  }
});

scenario('a playlist of the two bundled clips moves on for both pages at the end of the 30 s clip', async (step) => {
  const p = await twoViewers();
  const { pageA, pageB, opts } = p;
  const pages = [pageA, pageB];
  let made;

  /** What a playlist page shows: the active item's id and the player's source. */
  const showing = (page) => page.evaluate((video) => {
    const v = document.querySelector(video);
    return {
      active: [...document.querySelectorAll('#playlist li.playlist-item.active')].map((li) => li.dataset.itemId),
      src: v ? v.currentSrc || v.src : null,
      readyState: v ? v.readyState : null,
    };
  }, VIDEO);
  const shows = (s, item, file) => s.active.length === 1 && s.active[0] === String(item.id) && Boolean(s.src?.endsWith(file));

  try {
    await step('A creates the playlist through the JSON API', async () => {
      const home = await pageA.goto(`${h.baseUrl}/`);
      assert.ok(home && home.ok(), `GET / answered ${home && home.status()}`);
      made = await pageA.evaluate(async (origin) => {
        const post = async (path, body) => {
          const res = await fetch(path, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify(body),
          });
          const text = await res.text();
          if (res.status !== 201) throw new Error(`POST ${path} ${JSON.stringify(body)} answered ${res.status}: ${text}`);
          return JSON.parse(text);
        };
        const playlist = await post('/api/v1/playlists', { title: 'Double bill' });
        const first = await post(`/api/v1/playlists/${playlist.id}/items`, { url: `${origin}/static/media/sample-30s.webm` });
        const second = await post(`/api/v1/playlists/${playlist.id}/items`, { url: `${origin}/static/media/sample-90s.webm` });
        return { playlist, first, second };
      }, new URL(h.baseUrl).origin);
      assert.ok(made.playlist.watch_url, `the playlist has no watch_url: ${JSON.stringify(made.playlist)}`);
      assert.notEqual(made.first.id, made.second.id, `both items have the same id: ${JSON.stringify(made)}`);
      console.log(`playlist ${made.playlist.id}: items ${made.first.id} and ${made.second.id}; ${made.playlist.watch_url}`);
    });

    await step('A and B open its watch_url and both show the 30 s clip as the current item', async () => {
      await openParty(pages, made.playlist.watch_url, p.describe);
      await waitFor('both pages to show the first item, its clip loaded', async () => {
        const s = await Promise.all(pages.map(showing));
        return s.every((x) => shows(x, made.first, '/sample-30s.webm') && x.readyState >= 1);
      }, opts());
      await waitFor('the party to know the first item\'s duration', async () =>
        (await partyState(pageA))?.duration_ms > 0, opts());
    });

    await step(`A seeks to ${NEAR_END_S} s and plays: both play`, async () => {
      await nativeSeek(pageA, NEAR_END_S);
      await waitBothPausedAt(pages, NEAR_END_S, opts());
      await nativePlay(pageA);
      await waitBothPlaying(pages, opts());
    });

    await step('at the end of the clip both pages move to the 90 s clip and play it from its start, in sync', async () => {
      await waitFor('both pages to show the second item playing sample-90s.webm', async () => {
        const s = await Promise.all(pages.map(showing));
        return s.every((x) => shows(x, made.second, '/sample-90s.webm'));
      }, opts({ timeout: ADVANCE_WAIT_MS }));
      const last = await waitInSync(pageA, pageB, {
        what: `A and B, both in the first ${NEW_ITEM_START_S} s of the second item,`,
        also: ({ a, b }) => a.t <= NEW_ITEM_START_S && b.t <= NEW_ITEM_START_S,
        timeout: ADVANCE_WAIT_MS,
        describe: p.describe,
      });
      for (const [label, page] of [['A', pageA], ['B', pageB]]) {
        const state = await partyState(page);
        assert.equal(state?.media, `item:${made.second.id}`, `${label}'s party state names another item: ${JSON.stringify(state)}`);
        assert.equal(state?.paused, false, `${label}'s party state is paused: ${JSON.stringify(state)}`);
      }
      console.log(
        `after the advance: A at ${last.a.t.toFixed(3)} s, B at ${last.b.t.toFixed(3)} s; ` +
          `measured error ${(last.error * 1000).toFixed(1)} ms`,
      );
    });
  } finally {
    await p.close();
  }
});

scenario('only those the owner lets may control, with the player or the keyboard', async (step) => {
  const p = await twoViewers();
  const { pageA, pageB, opts } = p;
  const pages = [pageA, pageB];
  let userB;

  try {
    await step('A adds the bundled 90 s sample; A and B open its invite link', async () => {
      const invite = await addSampleVideo(pageA, h.baseUrl);
      await openParty(pages, invite, p.describe);
      userB = await whoAmI(pageB);
      assert.ok(userB?.id, `B's page does not say who B is: ${JSON.stringify(userB)}`);
    });

    await step('A chooses "promoted": B may no longer control and is told so', async () => {
      await pageA.locator(CONTROL_MODE).selectOption('promoted', { timeout: WAIT_MS });
      await waitFor('B to lose control and A to keep it', async () =>
        (await canControl(pageB)) === false && (await canControl(pageA)) === true, opts());
      await waitFor(`B's ${CONTROL_HINT} to be shown`, () => isShown(pageB, CONTROL_HINT), opts());
    });

    await step('B\'s play on its player is undone and changes nothing for the party', async () => {
      await waitBothPaused(pages, opts());
      const before = await partyState(pageA);
      await pageA.evaluate((video) => {
        window.__playsSeen = 0;
        document.querySelector(video).addEventListener('play', () => { window.__playsSeen += 1; });
      }, VIDEO);
      await nativePlay(pageB);
      // Give a wrongly accepted play time to reach A.
      await sleep(1500);
      await waitBothPaused(pages, opts());
      const [afterA, afterB, playsSeenA] = await Promise.all([
        partyState(pageA), partyState(pageB), pageA.evaluate(() => window.__playsSeen),
      ]);
      assert.equal(playsSeenA, 0, `A's video started playing after B's refused play\n${await p.describe()}`);
      assert.equal(afterA?.paused, true, `the party plays after B's refused play: ${JSON.stringify(afterA)}`);
      assert.equal(afterA?.seq, before?.seq, `the party state changed (seq ${before?.seq} → ${afterA?.seq}): ${JSON.stringify(afterA)}`);
      assert.equal(afterB?.seq, before?.seq, `B holds another party state: ${JSON.stringify(afterB)}`);
      assert.ok(await isShown(pageB, CONTROL_HINT), `B's ${CONTROL_HINT} went away\n${await p.describe()}`);
    });

    await step('A promotes B from the viewer list; now B\'s play plays both', async () => {
      const promote = pageA.locator(`#viewers li[data-user-id="${userB.id}"] button.promote`);
      await promote.click({ timeout: WAIT_MS });
      await waitFor('B to be allowed to control', async () => (await canControl(pageB)) === true, opts());
      await waitFor(`B's ${CONTROL_HINT} to be hidden`, async () => !(await isShown(pageB, CONTROL_HINT)), opts());
      await nativePlay(pageB);
      await waitBothPlaying(pages, opts());
    });

    await step('Space on A\'s page (nothing focused) plays both, and ArrowRight jumps both ahead 5 s', async () => {
      await nativePause(pageA);
      await waitBothPaused(pages, opts());
      const focused = await pageA.evaluate(() => {
        document.activeElement?.blur?.();
        return document.activeElement === document.body;
      });
      assert.ok(focused, `A's page body could not be focused\n${await p.describe()}`);
      await pageA.keyboard.press('Space');
      await waitBothPlaying(pages, opts());
      await waitInSync(pageA, pageB, { what: 'A and B after Space', describe: p.describe });

      // The jump is judged by the party's state (where it put the media), then by every player
      // following that state: never by how far the wall clock moved meanwhile.
      const [from, before] = await Promise.all([sample(pageA), partyState(pageA)]);
      await pageA.keyboard.press('ArrowRight');
      const { value: jump } = await waitFor(`A's party state to jump about ${ARROW_STEP_S} s ahead`, async () => {
        const [state, now] = await Promise.all([partyState(pageA), sample(pageA)]);
        return state && state.seq > before.seq && !state.waiting &&
          state.position_ms / 1000 - from.t >= ARROW_STEP_S - ARROW_SLACK_S ? { state, now } : null;
      }, opts());
      // A's player was at from.t when ArrowRight was about to be pressed, and played on until it was.
      const aheadS = jump.state.position_ms / 1000 - from.t;
      const playedS = (jump.now.wall - from.wall) / 1000;
      assert.ok(aheadS <= ARROW_STEP_S + ARROW_SLACK_S + playedS,
        `ArrowRight moved the party ${aheadS.toFixed(3)} s beyond where A was (${from.t.toFixed(3)} s), ` +
          `more than ${ARROW_STEP_S} s: ${JSON.stringify(jump.state)}`);
      const [ra, rb] = await waitOnTimeline(pages, {
        what: 'A and B after ArrowRight', minSeq: jump.state.seq, describe: p.describe,
      });
      console.log(
        `ArrowRight: A was at ${from.t.toFixed(3)} s; the party jumped to ${(jump.state.position_ms / 1000).toFixed(3)} s; ` +
          `then A at ${ra.t.toFixed(3)} s, B at ${rb.t.toFixed(3)} s (${((ra.wall - from.wall) / 1000).toFixed(3)} s later)`,
      );
    });
  } finally {
    await p.close();
  }
});
