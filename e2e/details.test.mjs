// Small things people notice (issue 16): the owner's own pages follow the party to a new
// invite link while everyone on the old one is closed out; a burst of control actions folds
// into one chat line; the keyboard hint stays off phones; the skip button says why it is off
// on the last item; the player has a name; and every page passes axe-core's automated
// accessibility check (no violation of serious or critical impact).

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, waitFor } from './harness.mjs';
import {
  INVITE_LINK, VIDEO, WAIT_MS, addSampleVideo, apiPost, isPlaying, nativePlay, nativeSeek, scenarios,
} from './pages.mjs';
import { describer, isConnected, isShown, openParty, partyState } from './party-pages.mjs';
import { axeViolations, blocking } from './axe.mjs';

/** What a phone's browser is like: a small screen, touch, no mouse to hover with. */
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 3 };
const SAMPLE_TITLE = 'Sample clip (90 s)';

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

/** The chat's lines as the page shows them: `{ system, folded, text, fold }` each. */
function chatLines(page) {
  return page.evaluate(() => [...document.querySelectorAll('#chat-messages > li')].map((li) => ({
    system: li.classList.contains('chat-system'),
    folded: li.classList.contains('chat-folded') || getComputedStyle(li).display === 'none',
    text: li.querySelector('.chat-text')?.textContent ?? '',
    fold: li.querySelector('button.chat-fold')?.textContent ?? null,
  })));
}

/** The accessible name Chromium gives the element `selector` matches. */
async function accessibleName(page, selector) {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { root } = await cdp.send('DOM.getDocument', { depth: 0 });
    const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector });
    if (!nodeId) return null;
    const { nodes } = await cdp.send('Accessibility.getPartialAXTree', { nodeId, fetchRelatives: false });
    return nodes[0]?.name?.value ?? null;
  } finally {
    await cdp.detach().catch(() => {});
  }
}

/** axe-core's serious and critical findings on `page` as it is now, labelled. */
async function accessibilityFindings(label, page) {
  return blocking(await axeViolations(page)).map((line) => `${label} (${page.url()}): ${line}`);
}

scenario("a new invite link moves the owner's own pages and closes everyone else's", async (step) => {
  const owner = await h.newViewer('owner');
  const guest = await h.newViewer('guest');
  const ownerTab = await owner.context.newPage();
  const describe = describer({ owner: ownerTab, guest: guest.page });
  const opts = (extra = {}) => ({ timeout: WAIT_MS, interval: 100, describe, ...extra });
  let oldInvite;
  let newInvite;

  await step('the owner adds the sample; the owner (in a second tab) and a guest watch it playing', async () => {
    oldInvite = await addSampleVideo(owner.page, h.baseUrl);
    await openParty([ownerTab, guest.page], oldInvite, describe);
    await nativePlay(ownerTab);
    await waitFor('both players to play', async () =>
      (await Promise.all([isPlaying(ownerTab), isPlaying(guest.page)])).every(Boolean), opts());
    await ownerTab.evaluate(() => { window.__sameDocument = true; });
  });

  await step('the owner makes a new invite link on the video\'s page', async () => {
    await Promise.all([
      owner.page.waitForURL(/notice=rotated/, { timeout: WAIT_MS }),
      owner.page.locator('#rotate-form button[type="submit"]').click(),
    ]);
    newInvite = await owner.page.locator(INVITE_LINK).getAttribute('href');
    assert.notEqual(newInvite, oldInvite);
  });

  await step("the owner's watching tab moves to the new link without reloading, and plays on", async () => {
    await waitFor('the tab to show the new link, connected, in the same document', async () => {
      const seen = await ownerTab.evaluate((selector) => ({
        path: location.pathname,
        link: document.querySelector(selector)?.href,
        same: window.__sameDocument === true,
      }), INVITE_LINK);
      return seen.path === new URL(newInvite).pathname && seen.link === newInvite && seen.same && (await isConnected(ownerTab));
    }, opts());
    await waitFor("the owner's player to play on", () => isPlaying(ownerTab), opts());
  });

  await step('the guest, on the old link, is closed out and told why', async () => {
    await waitFor('the guest to show the party closed with the reason', async () => {
      const seen = await guest.page.evaluate(() => ({
        status: document.getElementById('connection-status')?.textContent,
        notice: document.getElementById('party-notice')?.textContent ?? '',
      }));
      return seen.status === 'closed' && /replaced/.test(seen.notice) && !(await isConnected(guest.page));
    }, opts());
    const again = await guest.page.goto(oldInvite);
    assert.equal(again?.status(), 404, 'the old link opens nothing');
  });
});

scenario('a burst of control actions folds into one chat line that unfolds on request', async (step) => {
  const a = await h.newViewer('A');
  const b = await h.newViewer('B');
  const pages = [a.page, b.page];
  const describe = describer({ A: a.page, B: b.page });
  const opts = (extra = {}) => ({ timeout: WAIT_MS, interval: 100, describe, ...extra });
  const seeks = [10, 20, 30];

  await step('A and B open a party', async () => {
    const invite = await addSampleVideo(a.page, h.baseUrl);
    await openParty(pages, invite, describe);
  });

  await step(`A jumps to ${seeks.join(', ')} s`, async () => {
    for (const s of seeks) {
      await nativeSeek(a.page, s);
      await waitFor(`B's party state to stand at ${s} s`, async () =>
        (await partyState(b.page))?.position_ms === s * 1000, opts());
    }
    await waitFor(`B's chat to hold ${seeks.length} "jumped to" lines`, async () =>
      (await chatLines(b.page)).filter((l) => /jumped to/.test(l.text)).length === seeks.length, opts());
  });

  await step('B sees one line of the run, the newest, with a button for the rest', async () => {
    const lines = await chatLines(b.page);
    const shown = lines.filter((l) => !l.folded);
    assert.equal(shown.length, 1, `B shows ${JSON.stringify(shown)}`);
    assert.match(shown[0].text, /jumped to 0:30/);
    assert.equal(shown[0].fold, `show ${lines.length - 1} more`);
  });

  await step('the button unfolds every line of the run', async () => {
    await b.page.locator('#chat-messages button.chat-fold').click();
    const lines = await chatLines(b.page);
    assert.deepEqual(lines.filter((l) => l.folded), [], 'lines still folded');
    assert.equal(lines.filter((l) => /jumped to/.test(l.text)).length, seeks.length);
    assert.deepEqual(await accessibilityFindings('B, chat unfolded', b.page), []);
  });
});

/** A party of the bundled sample, added by the first of `viewers` and opened by all of them. */
async function sampleParty(viewers) {
  const pages = viewers.map((v) => v.page);
  const describe = describer(Object.fromEntries(viewers.map((v) => [v.name, v.page])));
  const invite = await addSampleVideo(pages[0], h.baseUrl);
  const videoPage = pages[0].url();
  await openParty(pages, invite, describe);
  return { invite, videoPage, describe, opts: (extra = {}) => ({ timeout: WAIT_MS, interval: 100, describe, ...extra }) };
}

/** A playlist of the two bundled clips, made by `page`'s viewer: `{ playlist, first, second }`. */
async function twoClipPlaylist(page) {
  const origin = new URL(h.baseUrl).origin;
  const playlist = await apiPost(page, '/api/v1/playlists', { title: 'Two clips' });
  const first = await apiPost(page, `/api/v1/playlists/${playlist.id}/items`, { url: `${origin}/static/media/sample-30s.webm` });
  const second = await apiPost(page, `/api/v1/playlists/${playlist.id}/items`, { url: `${origin}/static/media/sample-90s.webm` });
  return { playlist, first, second };
}

scenario('the keyboard hint shows on a computer and not on a phone', async (step) => {
  const computer = await h.newViewer('computer');
  const phone = await h.newViewer('phone', PHONE);

  await step('both open a party', () => sampleParty([computer, phone]));

  await step('the computer shows the keyboard hint, the phone only the rest of the hint', async () => {
    assert.equal(await isShown(computer.page, '#keyboard-hint'), true, 'a computer has a keyboard');
    assert.equal(await isShown(phone.page, '#keyboard-hint'), false, 'a phone does not');
    assert.equal(await isShown(phone.page, '#watch-hint'), true, 'the rest of the hint stays');
  });
});

scenario("the player is named by the video's title", async (step) => {
  const viewer = await h.newViewer('viewer');

  await step('a viewer opens a party', () => sampleParty([viewer]));

  await step('its <video> has the title for a name', async () => {
    assert.equal(await accessibleName(viewer.page, VIDEO), SAMPLE_TITLE);
  });
});

scenario("on a playlist's last item, the skip button says why it is off", async (step) => {
  const owner = await h.newViewer('owner');
  const describe = describer({ owner: owner.page });
  const opts = (extra = {}) => ({ timeout: WAIT_MS, interval: 100, describe, ...extra });
  const skip = owner.page.locator('#skip');
  let made;

  await step('the owner opens a playlist of two clips: skip works on the first, nothing to explain', async () => {
    await owner.page.goto(`${h.baseUrl}/`);
    made = await twoClipPlaylist(owner.page);
    await openParty([owner.page], made.playlist.watch_url, describe);
    await waitFor('skip to be offered and enabled on the first item', async () =>
      (await partyState(owner.page))?.media === `item:${made.first.id}` && (await skip.isVisible()) && (await skip.isEnabled()), opts());
    assert.equal(await isShown(owner.page, '#skip-hint'), false);
  });

  await step('on the last item skip is off and the hint beside it says why', async () => {
    await owner.page.locator(`#playlist button.jump[data-item-id="${made.second.id}"]`).click();
    await waitFor('skip to be off on the last item, the hint saying why', async () =>
      (await partyState(owner.page))?.media === `item:${made.second.id}` && !(await skip.isEnabled()) &&
      (await isShown(owner.page, '#skip-hint')), opts());
    assert.match(await owner.page.locator('#skip-hint').textContent(), /last item/);
    assert.equal(await skip.getAttribute('aria-describedby'), 'skip-hint');
  });
});

scenario('every page passes the automated accessibility check', async (step) => {
  const owner = await h.newViewer('owner');
  const phone = await h.newViewer('phone', PHONE);
  const findings = [];
  let party;
  let made;

  await step('the owner adds the sample and a playlist; the owner and a phone open the sample\'s party', async () => {
    party = await sampleParty([owner, phone]);
    made = await twoClipPlaylist(owner.page);
  });

  await step('axe-core finds nothing serious or critical on any page', async () => {
    const visits = [
      ['home', owner.page, `${h.baseUrl}/`, '#library'],
      ["the video's page", owner.page, party.videoPage, '#rotate-form'],
      ['the playlist page', owner.page, `${h.baseUrl}/playlists/${made.playlist.id}`, '#items'],
      ['a missing page', owner.page, `${h.baseUrl}/no-such-page`, '#error-message'],
      ['the playlist party', owner.page, made.playlist.watch_url, VIDEO],
      ['the video party', owner.page, party.invite, VIDEO],
      ['the video party on a phone', phone.page, party.invite, VIDEO],
    ];
    for (const [label, page, url, ready] of visits) {
      await page.goto(url);
      await page.locator(ready).first().waitFor({ timeout: WAIT_MS });
      if (ready === VIDEO) await waitFor(`${label} to be connected`, () => isConnected(page), party.opts());
      findings.push(...await accessibilityFindings(label, page));
    }
    assert.deepEqual(findings, []);
  });
});
