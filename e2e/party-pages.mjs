// What party.test.mjs and waiting.test.mjs share: opening one party in
// several pages, and reading what a page shows about the party beyond the player (who it is,
// the viewer list, the chat, the playlist, the notices). No test runs here.

import assert from 'node:assert/strict';
import { waitFor } from './harness.mjs';
import { VIDEO, WAIT_MS, describePage, viewerCount } from './pages.mjs';

/** `window.wewatch.connected()` of a page (false while it has none). */
export function isConnected(page) {
  return page.evaluate(() => Boolean(window.wewatch?.connected?.()));
}

/** `window.wewatch.can_control()` of a page, or null while it has none. */
export function canControl(page) {
  return page.evaluate(() => (typeof window.wewatch?.can_control === 'function' ? window.wewatch.can_control() : null));
}

/** The party state the page holds (`window.wewatch.state()`), or null. */
export function partyState(page) {
  return page.evaluate(() => window.wewatch?.state?.() ?? null);
}

/** Who the page's viewer is, as the watch page says: `{ id, name }` from `#watch`. */
export function whoAmI(page) {
  return page.evaluate(() => {
    const root = document.getElementById('watch');
    return root ? { id: root.dataset.userId, name: root.dataset.userName } : null;
  });
}

/** What `page`'s viewer list shows for `userId`: `{ text, status }`, or null without an entry. */
export function viewerEntry(page, userId) {
  return page.evaluate((id) => {
    const li = [...document.querySelectorAll('#viewers li')].find((el) => el.dataset.userId === String(id));
    if (!li) return null;
    return {
      text: li.textContent.trim().replace(/\s+/g, ' '),
      status: li.querySelector('.viewer-status')?.textContent.trim() ?? null,
    };
  }, userId);
}

/** True when `selector` matches an element in the page that is shown. */
export function isShown(page, selector) {
  return page.locator(selector).first().isVisible();
}

/** What a page shows around the player: chat, playlist, notices; for failure messages. */
export async function describeExtras(label, page) {
  try {
    const d = await page.evaluate(() => {
      const shown = (id) => {
        const el = document.getElementById(id);
        if (!el) return null;
        const style = getComputedStyle(el);
        return {
          visible: !el.classList.contains('d-none') && style.display !== 'none' && style.visibility !== 'hidden',
          text: el.textContent.trim().replace(/\s+/g, ' '),
        };
      };
      const chat = [...document.querySelectorAll('#chat-messages li')].slice(-6).map((li) => li.outerHTML);
      const playlist = [...document.querySelectorAll('#playlist li')].map((li) =>
        `${li.dataset.itemId}${li.classList.contains('active') ? '*' : ''}`);
      return {
        chat,
        chatError: shown('chat-error'),
        playlist,
        notice: shown('party-notice'),
        controlHint: shown('control-hint'),
        controlMode: document.getElementById('control-mode')?.value ?? null,
        waitingNotice: shown('waiting-notice'),
        focused: document.activeElement?.tagName ?? null,
      };
    });
    return `${label} (extras): ${JSON.stringify(d)}`;
  } catch (err) {
    return `${label} (extras): (could not read the page: ${err.message.split('\n')[0]})`;
  }
}

/** A `describe` for waits: every page's player, diagnostics and extras. */
export function describer(pages) {
  return async () => {
    const lines = await Promise.all(
      Object.entries(pages).map(async ([label, page]) =>
        `${await describePage(label, page)}\n${await describeExtras(label, page)}`),
    );
    return lines.join('\n');
  };
}

/**
 * Opens `url` in every page, one after the other, and waits until each shows the player, is
 * connected, and counts everyone in its viewer list.
 */
export async function openParty(pages, url, describe) {
  for (const page of pages) {
    const res = await page.goto(url);
    assert.ok(res && res.ok(), `GET ${url} answered ${res && res.status()}`);
  }
  const opts = { timeout: WAIT_MS, interval: 100, describe };
  await waitFor('every page to show its player', async () => {
    const counts = await Promise.all(pages.map((p) => p.locator(VIDEO).count()));
    return counts.every((n) => n === 1);
  }, opts);
  await waitFor('every page to be connected to the party', async () =>
    (await Promise.all(pages.map(isConnected))).every(Boolean), opts);
  await waitFor(`every viewer list to show ${pages.length} people`, async () =>
    (await Promise.all(pages.map(viewerCount))).every((n) => n === pages.length), opts);
}
