// The watch page on a slow line, and the library (issue 16: "the watch page is heavy", "the
// library shows only titles").
//
// A new viewer opens a party on a throttled line (1 Mbit/s each way, 100 ms per request,
// Chromium's own network emulation): the page and its static files must come compressed,
// every static file by a fingerprinted URL that may be kept for a year, the player must fetch
// the media's metadata and not the whole clip, and a second visit must fetch no static file
// at all. The bytes and times are printed (`make bench-page` measures them properly), never
// asserted.
//
// The library must show a YouTube video's thumbnail (allowed by the page's policy and
// loaded), a placeholder for a file, a video's duration once a player has reported it, and
// how many people watch it now.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT, startHarness, waitFor } from './harness.mjs';
import { WAIT_MS, addSampleVideo, apiPost, scenarios } from './pages.mjs';
import { describer, openParty, partyState } from './party-pages.mjs';
import { SLOW_LINE, formatLoad, measureLoad } from './page-weight.mjs';

const CLIP = path.join(REPO_ROOT, 'static/media/sample-90s.webm');
/** A page that is only opened may fetch at most this share of the clip. */
const OPENING_SHARE_MAX = 1 / 3;
/** How long a page on the slow line may take to load and settle before the test gives up. */
const SLOW_WAIT_MS = 120_000;
const YOUTUBE_ID = 'dQw4w9WgXcQ';
/** A 1×1 PNG, served in place of YouTube's thumbnail (the tests reach no other host). */
const PIXEL = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

let h;

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

const { scenario, failed } = scenarios();

const isStatic = (r) => new URL(r.url).pathname.startsWith('/static/') && r.category !== 'media';
const describeRequest = (r) => `${r.status} ${r.url} encoding=${r.encoding} cache-control=${r.cacheControl} cached=${r.fromCache}`;

scenario('a viewer on a slow line gets a light, cacheable watch page', async (step) => {
  const owner = await h.newViewer('owner');
  const guest = await h.newViewer('guest');
  let invite;
  let load;

  await step('the owner adds the bundled 90 s sample', async () => {
    invite = await addSampleVideo(owner.page, h.baseUrl);
  });

  await step('a new viewer opens the party twice on a 1 Mbit/s line with 100 ms per request', async () => {
    load = await measureLoad(guest.page, invite, { line: SLOW_LINE, untilMediaIdle: true, timeout: SLOW_WAIT_MS });
    console.log(formatLoad(load));
  });

  await step('the page and every static file came compressed, media did not', async () => {
    const text = load.first.requests.filter((r) => r.category !== 'media');
    assert.ok(text.length > 2, `too few requests were seen: ${text.map(describeRequest).join('\n')}`);
    for (const r of text) assert.ok(['br', 'gzip'].includes(r.encoding), `not compressed: ${describeRequest(r)}`);
    for (const r of load.first.requests.filter((x) => x.category === 'media')) {
      assert.ok(!['br', 'gzip'].includes(r.encoding), `media compressed: ${describeRequest(r)}`);
    }
  });

  await step('every static file was linked by its fingerprint, to be kept for a year', async () => {
    for (const r of load.first.requests.filter(isStatic)) {
      assert.match(new URL(r.url).search, /^\?v=[0-9a-f]+$/, `not fingerprinted: ${describeRequest(r)}`);
      assert.match(r.cacheControl ?? '', /max-age=31536000/, `not kept a year: ${describeRequest(r)}`);
      assert.match(r.cacheControl ?? '', /immutable/, `not immutable: ${describeRequest(r)}`);
    }
    const js = load.first.requests.filter((r) => r.category === 'js');
    console.log(`first visit: ${load.first.requests.length} requests, ${js.length} of them scripts`);
  });

  await step('the player fetched the media\'s metadata, not the clip', async () => {
    const clipBytes = (await stat(CLIP)).size;
    assert.equal(load.first.preload, 'metadata');
    const media = load.first.totals.by.media?.bytes ?? 0;
    assert.ok(media < clipBytes * OPENING_SHARE_MAX,
      `opening the page fetched ${media} bytes of media, more than ${Math.round(OPENING_SHARE_MAX * 100)}% of the ${clipBytes}-byte clip`);
  });

  await step('the second visit fetched no static file', async () => {
    const fetched = load.second.requests.filter((r) => isStatic(r) && !r.fromCache);
    assert.deepEqual(fetched.map(describeRequest), [], 'static files fetched again');
    assert.ok(load.second.requests.some(isStatic), 'the second visit used no static file at all');
  });
});

scenario('the library shows thumbnails, durations once known, and who watches now', async (step) => {
  const owner = await h.newViewer('owner');
  const guest = await h.newViewer('guest');
  const describe = describer({ guest: guest.page });
  const opts = (extra = {}) => ({ timeout: WAIT_MS, interval: 200, describe, ...extra });
  const thumbnails = [];
  await owner.context.route('https://i.ytimg.com/**', (route) => {
    thumbnails.push(route.request().url());
    return route.fulfill({ status: 200, contentType: 'image/png', body: PIXEL });
  });
  /** What the owner's library shows for a video, after loading the home page afresh. */
  const entry = async (id) => {
    await owner.page.goto(`${h.baseUrl}/`);
    return owner.page.evaluate((id) => {
      const li = document.querySelector(`#library li[data-video-id="${id}"]`);
      if (!li) return null;
      const img = li.querySelector('.library-thumb img');
      return {
        img: img && { src: img.getAttribute('src'), alt: img.getAttribute('alt'), loaded: img.complete && img.naturalWidth > 0 },
        placeholder: Boolean(li.querySelector('.library-thumb svg')),
        duration: li.querySelector('.library-duration')?.textContent.replace('Duration', '').trim() ?? null,
        watching: li.querySelector('.library-watching')?.textContent.trim() ?? null,
      };
    }, id);
  };
  let sample;
  let youtube;
  let invite;

  await step('the owner adds the bundled sample and a YouTube video', async () => {
    invite = await addSampleVideo(owner.page, h.baseUrl);
    sample = Number(new URL(owner.page.url()).pathname.split('/').pop());
    youtube = await apiPost(owner.page, '/api/v1/videos', { url: `https://www.youtube.com/watch?v=${YOUTUBE_ID}`, title: 'Never' });
  });

  await step("the YouTube video shows YouTube's thumbnail, the file a placeholder, neither a duration", async () => {
    const yt = await entry(youtube.id);
    assert.equal(yt?.img?.src, `https://i.ytimg.com/vi/${YOUTUBE_ID}/hqdefault.jpg`, JSON.stringify(yt));
    assert.equal(yt.img.alt, '', 'the title beside it names the video');
    await waitFor("the thumbnail to load (the page's policy allows it)", async () =>
      (await owner.page.evaluate((id) => {
        const img = document.querySelector(`#library li[data-video-id="${id}"] .library-thumb img`);
        return img && img.complete && img.naturalWidth > 0;
      }, youtube.id)), opts());
    assert.ok(thumbnails.length > 0, 'no request for the thumbnail was made');
    const file = await entry(sample);
    assert.deepEqual(file, { img: null, placeholder: true, duration: null, watching: null });
  });

  await step('once a viewer opens the sample, the library shows its duration and one person watching', async () => {
    await openParty([guest.page], invite, describe);
    await waitFor("the guest's player to report the duration", async () => (await partyState(guest.page))?.duration_ms > 0, opts());
    let seen = null;
    await waitFor('the library to show 1:30 and "1 watching now" for the sample', async () => {
      seen = await entry(sample);
      return seen?.duration === '1:30' && seen.watching === '1 watching now';
    }, opts({ describe: async () => `the library shows ${JSON.stringify(seen)}\n${await describe()}` }));
  });

  await step('when the viewer leaves, nobody is shown watching; the duration stays', async () => {
    await guest.page.goto('about:blank');
    let seen = null;
    await waitFor('the library to show nobody watching the sample', async () => {
      seen = await entry(sample);
      return seen && seen.watching === null;
    }, opts({ describe: async () => `the library shows ${JSON.stringify(seen)}` }));
    assert.equal(seen.duration, '1:30');
  });
});
