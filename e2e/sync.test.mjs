// A short sync scenario, so a regression in the sync code fails CI: three viewers in their own
// browser contexts, their page clocks skewed by seconds, one party. Play, seek, pause and play
// again from different viewers; after each command, every viewer must eventually be within
// BAND_MS of the server's timeline and of each other, at one sampled instant, with the command's
// state in effect — waited for with a generous deadline.
//
// Only outcomes are asserted, never how fast they came or how steady they stayed over a period:
// on a loaded machine a player may stall for a moment and catch up, and that is not a sync bug.
// How long each command took and the errors measured are printed as diagnostics; the real
// figures come from `make bench-sync` (docs/sync.md).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sleep, startHarness } from './harness.mjs';
import { describePage } from './pages.mjs';
import { Party } from './sync/party.mjs';
import { measure } from './sync/scenarios.mjs';
import { onGrid, percentile, spreads, stateAt } from './sync/analysis.mjs';
import { machineNow } from './sync/observer.mjs';

/** Every viewer within this of the timeline, and the viewers within this of each other. */
const BAND_MS = 100;
/** How long a command may take to bring everyone into the band, however busy the machine. */
const DEADLINE_MS = 30_000;
const POLL_MS = 200;
const SKEWS_MS = [-2_000, 0, 2_500];
const SEEK_TO_S = 30;

let h;
let party;

before(async () => {
  h = await startHarness();
});

after(async () => {
  await party?.close();
  await h?.stop();
});

/** Numbers for messages: "12.3, -4.0, 7.9". */
const list = (xs) => xs.map((x) => (x == null ? '–' : x.toFixed(1))).join(', ');

/**
 * Waits until the state `action` caused is in effect and, at one sampled instant under it (or
 * a later state `expect` accepts too), every viewer's player is paused or playing as the
 * timeline is, within BAND_MS of the timeline, and within BAND_MS of the others. The state the
 * action caused must satisfy `expectCaused` (by default `expect`). Resolves with what was measured at that instant.
 */
async function waitTogether(viewers, action, expect, expectCaused = expect) {
  const deadline = machineNow() + DEADLINE_MS;
  let last = null;
  for (;;) {
    await Promise.all(viewers.map((v) => party.drain(v)));
    const now = machineNow();
    const caused = party.observer.rec.states.find((s) => s.at >= action.at && s.state.updated_by === action.actorName);
    if (caused) {
      assert.ok(expectCaused(caused.state), `${action.kind} by ${action.viewer} made an unexpected state: ${JSON.stringify(caused.state)}`);
      const m = measure(party, viewers, { from: caused.at, to: now });
      const moving = m.rows.map((rows) => onGrid(rows.map((r) => ({ ...r, still: r.paused ? 1 : 0 })), m.times, 'still'));
      const spread = spreads(m.columns);
      for (let k = 0; k < m.times.length; k++) {
        const state = stateAt(m.states, m.times[k]);
        if (!state || state.seq < caused.state.seq || !expect(state)) continue;
        const errors = m.columns.map((c) => c[k]);
        last = { t: m.times[k], seq: state.seq, errors, spread: spread[k] };
        const playerAsTimeline = moving.every((c) => c[k] === (state.paused ? 1 : 0));
        if (playerAsTimeline && errors.every((e) => e != null && Math.abs(e) <= BAND_MS) && spread[k] <= BAND_MS) {
          return { ...last, afterMs: Math.round(m.times[k] - action.at), spreads: spread.filter((x) => x != null) };
        }
      }
    }
    if (now > deadline) {
      const why = caused
        ? `latest instant under state seq ≥ ${caused.state.seq}: ${JSON.stringify(last)}`
        : 'the server sent no state for it';
      throw new Error(`${action.kind} by ${action.viewer}: the viewers were not all within ${BAND_MS} ms of the ` +
        `timeline and of each other at any instant within ${DEADLINE_MS} ms; ${why}`);
    }
    await sleep(POLL_MS);
  }
}

test('three skewed viewers follow play, seek and pause together', async (t) => {
  party = await Party.create(h);
  const viewers = [];
  for (const [i, skewMs] of SKEWS_MS.entries()) viewers.push(await party.addViewer(`viewer${i + 1}`, { skewMs }));
  party.startCollecting();

  const describe = async () => (await Promise.all(viewers.map((v) => describePage(v.name, v.page)))).join('\n');
  const step = async (viewer, kind, arg, expect, expectCaused) => {
    // A pause is a viewer's click on a playing player: after a seek a player may still stand
    // paused for its scheduled start (longer where the media there is not loaded yet), and
    // pausing a paused element does nothing.
    if (kind === 'pause') await party.waitAllPlaying();
    const action = await party.act(viewer, kind, arg);
    action.actorName = await party.displayName(viewer);
    let got;
    try {
      got = await waitTogether(viewers, action, expect, expectCaused);
    } catch (err) {
      err.message += `\n${await describe()}\n--- browser log ---\n${h.browserLog()}`;
      throw err;
    }
    // Diagnostics only: how long it took, and the spread measured since the state arrived.
    t.diagnostic(`${kind} by ${viewer.name}: all within ${BAND_MS} ms after ${got.afterMs} ms ` +
      `(errors ${list(got.errors)} ms, spread ${got.spread.toFixed(1)} ms; spread so far under this state ` +
      `p50 ${percentile(got.spreads, 50)?.toFixed(1)} ms, max ${Math.max(...got.spreads).toFixed(1)} ms)`);
  };

  // The seek's state stands on its target; every state after it lies past the target.
  const seeked = (s) => s.position_ms >= SEEK_TO_S * 1000 - 500;
  await step(viewers[0], 'play', undefined, (s) => !s.paused && !s.waiting);
  await step(viewers[1], 'seek', SEEK_TO_S, (s) => !s.paused && !s.waiting && seeked(s),
    (s) => !s.paused && Math.abs(s.position_ms - SEEK_TO_S * 1000) <= 500);
  await step(viewers[2], 'pause', undefined, (s) => s.paused && !s.waiting && seeked(s));
  await step(viewers[0], 'play', undefined, (s) => !s.paused && !s.waiting && seeked(s));
});
