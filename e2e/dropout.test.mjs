// A viewer whose network drops (issue: drop-outs are noticed late). B's page reaches the
// server through a relay (cut-proxy.mjs) whose line the test cuts: nothing closes, nothing
// arrives. B's own page must notice its socket is dead and say it is reconnecting — never
// "in sync" while it has no connection — and A must see B `away`, then gone once the server's
// heartbeat timeout removes B. The server runs with a short heartbeat timeout (9 s) so the
// test does not wait half a minute; every wait polls with a generous deadline.

import { after } from 'node:test';
import assert from 'node:assert/strict';
import { GiveUp, startHarness, waitFor } from './harness.mjs';
import { WAIT_MS, addSampleVideo, isPlaying, nativePlay, scenarios, viewerCount } from './pages.mjs';
import { describer, isConnected, viewerEntry, whoAmI } from './party-pages.mjs';
import { startCutProxy } from './cut-proxy.mjs';

const SETTINGS = { realtime: { heartbeat_interval_secs: 2, client_timeout_secs: 9, away_after_ms: 4000 } };
/** Generous: noticing takes seconds, removal the heartbeat timeout, on a busy machine more. */
const NOTICE_WAIT_MS = 30_000;
const AWAY_STATUS = /away/i;

const { scenario, failed } = scenarios();
const cleanups = [];
after(async () => {
  for (const clean of cleanups.reverse()) await clean();
});

/** The page's connection badge and sync text. */
function badges(page) {
  return page.evaluate(() => ({
    connection: document.getElementById('connection-status')?.textContent.trim() ?? '',
    sync: document.getElementById('sync-status')?.textContent.trim() ?? '',
  }));
}

/** Fails at once when B's page claims to be in sync while it says it is reconnecting. */
async function neverInSyncWhileReconnecting(page) {
  const b = await badges(page);
  if (/reconnecting/i.test(b.connection) && /in sync/i.test(b.sync)) {
    throw new GiveUp(`B's page says it is reconnecting and "${b.sync}" at once`);
  }
}

scenario("a viewer whose network drops sees reconnecting, and the others see them away, then gone", async (step) => {
  const h = await startHarness({ settings: SETTINGS });
  const proxy = await startCutProxy(Number(new URL(h.baseUrl).port));
  cleanups.push(async () => {
    if (failed()) console.log(`--- server output (tail) ---\n${h.serverOutput(12_000)}\n--- browser log ---\n${h.browserLog()}`);
    await proxy.close();
    await h.stop();
  });
  const a = await h.newViewer('A');
  const b = await h.newViewer('B (through the relay)');
  const { page: pageA } = a;
  const { page: pageB } = b;
  const describe = describer({ A: pageA, B: pageB });
  const opts = (extra = {}) => ({ timeout: WAIT_MS, interval: 100, describe, ...extra });
  let userB;

  await step('A opens a party of the sample; B opens it through the relay; A plays', async () => {
    const invite = await addSampleVideo(pageA, h.baseUrl);
    const relayed = new URL(invite);
    relayed.port = String(proxy.port);
    assert.ok((await pageA.goto(invite))?.ok());
    assert.ok((await pageB.goto(relayed.href))?.ok());
    await waitFor('both pages to be connected and to list 2 people', async () =>
      (await isConnected(pageA)) && (await isConnected(pageB))
        && (await viewerCount(pageA)) === 2 && (await viewerCount(pageB)) === 2, opts());
    userB = await whoAmI(pageB);
    await nativePlay(pageA);
    await waitFor('both videos to be playing, and B in sync', async () =>
      (await isPlaying(pageA)) && (await isPlaying(pageB)) && /in sync/i.test((await badges(pageB)).sync), opts());
  });

  await step("B's network drops: B's page says it is reconnecting, and no longer that it is in sync", async () => {
    proxy.cut();
    const { ms } = await waitFor("B's page to say reconnecting", async () =>
      /reconnecting/i.test((await badges(pageB)).connection), opts({ timeout: NOTICE_WAIT_MS }));
    console.log(`B's page said reconnecting ${ms} ms after the line was cut`);
    await neverInSyncWhileReconnecting(pageB);
  });

  await step("A sees B away, then B gone; B's page never claims to be in sync meanwhile", async () => {
    const away = await waitFor(`B's entry in A's list to say away (${AWAY_STATUS})`, async () => {
      await neverInSyncWhileReconnecting(pageB);
      return AWAY_STATUS.test((await viewerEntry(pageA, userB.id))?.status ?? '');
    }, opts({ timeout: NOTICE_WAIT_MS }));
    const gone = await waitFor("B's entry to leave A's list", async () => {
      await neverInSyncWhileReconnecting(pageB);
      return (await viewerEntry(pageA, userB.id)) === null;
    }, opts({ timeout: NOTICE_WAIT_MS }));
    console.log(`A saw B away after a further ${away.ms} ms, gone ${gone.ms} ms after that`);
    assert.ok(await isPlaying(pageA), 'A plays on');
  });
});
