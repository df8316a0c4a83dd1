// YouTube out of reach, through real browsers. The test network is closed, so YouTube is
// never there; here it is also refused outright (every request to its hosts aborted), or
// answered by a stand-in for its IFrame API script, served by the test, that reports the
// player error 150 (the owner does not allow embedding) as YouTube's would. The page must say
// which it is, stop saying "syncing…", throw nothing, and a playlist must move on past an
// item nobody can play — only once everybody has found that, and telling everyone why.
//
// Every wait polls with a generous time-out; nothing fails on speed alone.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, waitFor } from './harness.mjs';
import { VIDEO, WAIT_MS, recordPartyFrames, scenarios } from './pages.mjs';
import { describer, isConnected, partyState } from './party-pages.mjs';

const YOUTUBE_HOSTS = /^https:\/\/([a-z0-9-]+\.)*(youtube\.com|youtube-nocookie\.com|ytimg\.com|youtu\.be)\//;
const IFRAME_API = 'https://www.youtube.com/iframe_api';
const YOUTUBE_LINK = 'https://www.youtube.com/watch?v=dQw4w9WgXcQ';
const PLAYER_MESSAGE = '#player-box .player-message';
/**
 * A stand-in for YouTube's IFrame API script: a `YT.Player` that reports the player error
 * 150 (embedding refused by the owner) a moment after it is made, as YouTube's does.
 */
const REFUSING_IFRAME_API = `
window.YT = { Player: function (mount, options) {
  this.destroy = function () {};
  setTimeout(function () { options.events.onError({ data: 150 }); }, 100);
} };
if (window.onYouTubeIframeAPIReady) window.onYouTubeIframeAPIReady();
`;

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

/** A viewer whose page errors are collected in `errors`. */
async function viewer(name) {
  const v = await h.newViewer(name);
  v.errors = [];
  v.page.on('pageerror', (e) => v.errors.push(e.message));
  return v;
}

/** POSTs JSON from `page` (same origin, its cookie); resolves with the 201 answer's body. */
function post(page, path, body) {
  return page.evaluate(async ({ path, body }) => {
    const res = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const text = await res.text();
    if (res.status !== 201) throw new Error(`POST ${path} answered ${res.status}: ${text}`);
    return JSON.parse(text);
  }, { path, body });
}

/** What a watch page shows where its player would be, and around it. */
function shown(page) {
  return page.evaluate((selector) => {
    const notice = document.getElementById('party-notice');
    return {
      message: document.querySelector(selector)?.textContent ?? null,
      notice: notice && !notice.classList.contains('d-none') ? notice.textContent : null,
      sync: document.getElementById('sync-status')?.textContent ?? null,
      chat: [...document.querySelectorAll('#chat-messages li')].map((li) => li.textContent.trim()),
    };
  }, PLAYER_MESSAGE);
}

/** Opens `url` in every page and waits until each is connected. */
async function open(pages, url, describe) {
  for (const page of pages) {
    const res = await page.goto(url);
    assert.ok(res && res.ok(), `GET ${url} answered ${res && res.status()}`);
  }
  await waitFor('every page to be connected to the party', async () =>
    (await Promise.all(pages.map(isConnected))).every(Boolean), { timeout: WAIT_MS, describe });
}

/** Waits until `page` explains, in its player box and its notice, with words matching `words`. */
async function explains(page, words, describe) {
  const { value } = await waitFor(`the page to explain ${words}`, async () => {
    const s = await shown(page);
    return s.message && words.test(s.message) && s.notice && words.test(s.notice) ? s : null;
  }, { timeout: WAIT_MS, describe });
  return value;
}

scenario('a YouTube video with YouTube out of reach: the page says so, stops syncing, throws nothing', async (step) => {
  const a = await viewer('A');
  const b = await viewer('B');
  const pages = [a.page, b.page];
  const describe = describer({ A: a.page, B: b.page });
  try {
    for (const v of [a, b]) await v.context.route(YOUTUBE_HOSTS, (route) => route.abort('blockedbyclient'));
    let video;
    await step('A adds a YouTube video and both open its party', async () => {
      await a.page.goto(`${h.baseUrl}/`);
      video = await post(a.page, '/api/v1/videos', { url: YOUTUBE_LINK });
      await open(pages, video.watch_url, describe);
    });

    await step('each page says YouTube cannot be reached, and no longer "syncing…"', async () => {
      for (const page of pages) {
        const s = await explains(page, /YouTube cannot be reached/, describe);
        console.log(`shown: ${JSON.stringify(s)}`);
      }
      await waitFor('no page to say "syncing…"', async () =>
        (await Promise.all(pages.map(shown))).every((s) => s.sync === ''), { timeout: WAIT_MS, describe });
    });

    await step('no page threw', () => {
      assert.deepEqual([...a.errors, ...b.errors], []);
    });
  } finally {
    await a.context.close().catch(() => {});
    await b.context.close().catch(() => {});
  }
});

scenario('a playlist moves on past a YouTube item nobody can play, once everyone found that, saying why', async (step) => {
  const a = await viewer('A');
  const b = await viewer('B');
  const pages = [a.page, b.page];
  const describe = describer({ A: a.page, B: b.page });
  const framesA = recordPartyFrames(a.page);
  const framesB = recordPartyFrames(b.page);
  // Each one's YouTube answers only when the test lets it: until then they cannot tell whether
  // they can play the item (and A's report must not come before B has joined).
  const held = () => {
    let letThrough;
    const gate = new Promise((resolve) => { letThrough = resolve; });
    const handler = async (route) => {
      await gate;
      await route.fulfill({ status: 200, contentType: 'text/javascript', body: REFUSING_IFRAME_API });
    };
    return { handler, letThrough };
  };
  const youtubeA = held();
  const youtubeB = held();
  try {
    // The last route registered that matches handles a request: the stand-in, before the block.
    for (const v of [a, b]) await v.context.route(YOUTUBE_HOSTS, (route) => route.abort('blockedbyclient'));
    await a.context.route(IFRAME_API, youtubeA.handler);
    await b.context.route(IFRAME_API, youtubeB.handler);

    let made;
    await step('A makes a playlist: a YouTube video, then the 30 s sample; both open its party', async () => {
      await a.page.goto(`${h.baseUrl}/`);
      const playlist = await post(a.page, '/api/v1/playlists', { title: 'Refused first' });
      const first = await post(a.page, `/api/v1/playlists/${playlist.id}/items`, { url: YOUTUBE_LINK });
      const second = await post(a.page, `/api/v1/playlists/${playlist.id}/items`,
        { url: `${new URL(h.baseUrl).origin}/static/media/sample-30s.webm` });
      made = { playlist, first, second };
      await open(pages, playlist.watch_url, describe);
      const s = await partyState(a.page);
      assert.equal(s.media, `item:${first.id}`, 'the party starts on the YouTube item');
    });

    await step('A is told the owner refuses embedding (error 150), and reports it; the party stays', async () => {
      youtubeA.letThrough();
      const s = await explains(a.page, /does not allow it to be played on other sites \(error 150\)/, describe);
      assert.equal(s.sync, '', 'A no longer says "syncing…"');
      await waitFor('A to report the item unplayable', () =>
        framesA.sent.some((m) => m.type === 'unplayable' && m.item_id === made.first.id && m.reason === 'embed_refused'),
      { timeout: WAIT_MS, describe });
      // A chat message from A comes back only after the server handled A's report before it.
      await a.page.fill('#chat-input', 'still here');
      await a.page.press('#chat-input', 'Enter');
      await waitFor('A\'s chat message to come back', async () =>
        (await shown(a.page)).chat.some((line) => line.includes('still here')), { timeout: WAIT_MS, describe });
      assert.equal((await partyState(a.page)).media, `item:${made.first.id}`, 'B has not found it unplayable yet');
    });

    await step('once B finds the same, the party moves on to the 30 s sample for both, and says why', async () => {
      youtubeB.letThrough();
      // B's explanation lasts only until the party moves on; its report is what counts.
      await waitFor('B to report the item unplayable', () =>
        framesB.sent.some((m) => m.type === 'unplayable' && m.item_id === made.first.id && m.reason === 'embed_refused'),
      { timeout: WAIT_MS, describe });
      await waitFor('both pages to play the second item, its clip in the player', async () => {
        const states = await Promise.all(pages.map(partyState));
        const sources = await Promise.all(pages.map((p) => p.evaluate((sel) => document.querySelector(sel)?.currentSrc ?? '', VIDEO)));
        return states.every((s) => s?.media === `item:${made.second.id}`) && sources.every((src) => src.endsWith('sample-30s.webm'));
      }, { timeout: WAIT_MS, describe });
      await waitFor('both chats to say nobody could play the YouTube item, and why', async () =>
        (await Promise.all(pages.map(shown))).every((s) => s.chat.some((line) =>
          /Nobody here can play .*does not allow it to be played on other sites/.test(line))), { timeout: WAIT_MS, describe });
    });

    await step('no page threw', () => {
      assert.deepEqual([...a.errors, ...b.errors], []);
    });
  } finally {
    youtubeA.letThrough();
    youtubeB.letThrough();
    await a.context.close().catch(() => {});
    await b.context.close().catch(() => {});
  }
});
