// A late joiner: two viewers play the bundled sample; a third opens the invite link while
// they play. Its player must land on the party's frame: at one sampled instant every player
// plays, and the joiner stands within one frame (33 ms) of the others' median and within
// 100 ms of the server's timeline — waited for with a generous deadline.
//
// Only the outcome is asserted, never how fast it came: how long the joiner took and where the
// time went (the page's milestones) are printed as diagnostics; the figures come from
// `make bench-sync SYNC_ARGS="--scenario late-join"` (docs/sync.md).

import { test, before, after } from 'node:test';
import { sleep, startHarness } from './harness.mjs';
import { describePage } from './pages.mjs';
import { Party } from './sync/party.mjs';
import { FRAME_MS, measure } from './sync/scenarios.mjs';
import { percentile } from './sync/analysis.mjs';
import { machineNow } from './sync/observer.mjs';
import { MILESTONES } from './sync/probe.mjs';

/** The joiner within this of the server's timeline too (the others may sit a little off it). */
const TIMELINE_BAND_MS = 100;
/** How long the joiner may take to land, however busy the machine. */
const DEADLINE_MS = 30_000;
const POLL_MS = 200;

let h;
let party;

before(async () => {
  h = await startHarness();
});

after(async () => {
  await party?.close();
  await h?.stop();
});

/**
 * Waits until, at one sampled instant since `joiner` opened the page, the timeline plays, every
 * player plays, and the joiner is within FRAME_MS of the others' median and TIMELINE_BAND_MS
 * of the timeline. Resolves with that instant's figures.
 */
async function waitLanded(joiner, others) {
  const deadline = machineNow() + DEADLINE_MS;
  let last = null;
  for (;;) {
    const all = [joiner, ...others];
    await Promise.all(all.map((v) => party.drain(v)));
    const now = machineNow();
    const m = measure(party, all, { from: joiner.openedAt, to: now });
    const playing = m.rows.map((rows) => rows.filter((r) => !r.paused && !r.seeking && !r.tlPaused));
    for (let k = 0; k < m.times.length; k++) {
      const t = m.times[k];
      const errors = m.columns.map((c) => c[k]);
      if (errors.some((e) => e == null)) continue;
      // Every player plays around this instant (a sample within one sampling step of it).
      const moving = playing.every((rows) => rows.some((r) => Math.abs(r.t - t) <= party.sampleMs));
      if (!moving) continue;
      const othersMedian = percentile(errors.slice(1), 50);
      last = { afterMs: Math.round(t - joiner.openedAt), joiner: errors[0], others: errors.slice(1), offOthers: errors[0] - othersMedian };
      if (Math.abs(last.offOthers) <= FRAME_MS && Math.abs(errors[0]) <= TIMELINE_BAND_MS) return last;
    }
    if (now > deadline) {
      throw new Error(`the late joiner was not within ${FRAME_MS} ms of the others (and ${TIMELINE_BAND_MS} ms of the ` +
        `timeline) at any instant within ${DEADLINE_MS} ms; last instant with every player playing: ${JSON.stringify(last)}`);
    }
    await sleep(POLL_MS);
  }
}

test('a viewer who joins a playing party lands on the frame the others show', async (t) => {
  party = await Party.create(h);
  const others = [await party.addViewer('viewer1'), await party.addViewer('viewer2')];
  party.startCollecting();
  await party.act(others[0], 'play');
  await party.waitAllPlaying();
  await sleep(1_000);

  const joiner = await party.addViewer('late');
  let landed;
  try {
    landed = await waitLanded(joiner, others);
  } catch (err) {
    const pages = await Promise.all([joiner, ...others].map((v) => describePage(v.name, v.page)));
    err.message += `\n${pages.join('\n')}\n--- browser log ---\n${h.browserLog()}`;
    throw err;
  }
  // Diagnostics only: how long it took and where the time went.
  const steps = MILESTONES.filter((k) => joiner.marks[k] != null)
    .map((k) => `${k} ${Math.round(joiner.marks[k] - joiner.openedAt)}`).join(', ');
  t.diagnostic(`late joiner within ${FRAME_MS} ms of the others ${landed.afterMs} ms after opening the page ` +
    `(${landed.offOthers.toFixed(1)} ms off their median; errors against the timeline: joiner ${landed.joiner.toFixed(1)}, ` +
    `others ${landed.others.map((e) => e.toFixed(1)).join(', ')} ms); milestones (ms): ${steps}`);
});
