// Seeking with the mouse on the native timeline of a playing party, through two real
// browsers. Chromium's own controls pause the video while the mouse is pressed on the
// timeline and play it again when it is let go, so one click shows up as pause, seeking and
// play: the party must see one seek, keep playing, and print one chat line. Twenty clicks
// and quick taps (10 ms) at places far apart, then a drag of the thumb: every seek must land
// for both viewers. The test counts the clicks that did, and prints the count.
//
// Every wait polls with a generous time-out; nothing fails on speed alone.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sleep, startHarness, waitFor } from './harness.mjs';
import {
  WAIT_MS, addSampleVideo, clickTimeline, dragTimeline, nativePlay, nativeSeek, recordPartyFrames, scenarios,
  waitOnTimeline,
} from './pages.mjs';
import { describer, openParty, partyState } from './party-pages.mjs';

/** Where the clicks send the 90 s sample, in seconds: each far from the one before. */
const TARGETS_S = [15, 60, 30, 75, 20, 50, 10, 65, 35, 80, 25, 55, 12, 70, 40, 78, 18, 58, 28, 68];
/** How long the mouse stays pressed: a click, and a quick tap. */
const CLICK_HOLD_MS = 100;
const TAP_HOLD_MS = 10;
/** A seek lands when the party's state stands this close to where the mouse pointed (s). */
const LANDING_SLACK_S = 2;
/** After a seek has landed, how long further frames from the click are awaited (ms). */
const STRAGGLER_MS = 800;
/** The commands a viewer's player can send. */
const COMMANDS = new Set(['play', 'pause', 'seek', 'rate']);

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

/** Two viewers of one playing party of the 90 s sample; A's and B's party frames recorded. */
async function playingParty() {
  const a = await h.newViewer('A');
  const b = await h.newViewer('B');
  const framesA = recordPartyFrames(a.page);
  const framesB = recordPartyFrames(b.page);
  const describe = describer({ A: a.page, B: b.page });
  const invite = await addSampleVideo(a.page, h.baseUrl);
  await openParty([a.page, b.page], invite, describe);
  await nativePlay(a.page);
  await waitOnTimeline([a.page, b.page], { what: 'both players playing', describe });
  const { value: state } = await waitFor('the party to know the duration and play', async () => {
    const s = await partyState(a.page);
    return s && !s.paused && s.duration_ms ? s : null;
  }, { timeout: WAIT_MS, describe });
  return {
    a, b, framesA, framesB, describe, durationS: state.duration_ms / 1000,
    close: async () => {
      await a.context.close().catch(() => {});
      await b.context.close().catch(() => {});
    },
  };
}

/**
 * What one gesture on A's timeline did, from the frames recorded since `mark`: A's commands,
 * the states B received (did any pause the party?) and the chat lines they carried.
 */
function outcomeSince(party, mark) {
  const commands = party.framesA.sent.slice(mark.sent).filter((m) => COMMANDS.has(m.type)).map((m) => m.type);
  const states = party.framesB.received.slice(mark.received).filter((m) => m.type === 'state');
  return {
    commands,
    pausedStates: states.filter((m) => m.state.paused).length,
    chatLines: states.filter((m) => m.chat).map((m) => m.chat.text),
  };
}

/**
 * Waits until the party plays from a state made after `seqBefore` that stands within
 * LANDING_SLACK_S of `targetS`, and both players follow it. Resolves with that state, or
 * null when it never came.
 */
async function landed(party, seqBefore, targetS) {
  const { a, b, describe } = party;
  try {
    const { value: state } = await waitFor(`the party to play from ${targetS} s`, async () => {
      const s = await partyState(a.page);
      return s && s.seq > seqBefore && !s.paused && Math.abs(s.position_ms / 1000 - targetS) <= LANDING_SLACK_S ? s : null;
    }, { timeout: WAIT_MS, describe });
    await waitOnTimeline([a.page, b.page], { what: `both players after the seek to ${targetS} s`, minSeq: state.seq, describe });
    return state;
  } catch (err) {
    console.log(`  not landed: ${err.message.split('\n')[0]}`);
    return null;
  }
}

/** After a gesture that went wrong: the party plays again from `targetS`, for the next one. */
async function playAgain(party, targetS) {
  const { a, b, describe } = party;
  const s = await partyState(a.page);
  if (!s || Math.abs(s.position_ms / 1000 - targetS) > LANDING_SLACK_S) await nativeSeek(a.page, targetS);
  await sleep(STRAGGLER_MS);
  if ((await partyState(a.page))?.paused) await nativePlay(a.page);
  await waitOnTimeline([a.page, b.page], { what: 'both players playing again', describe });
}

const mark = (party) => ({ sent: party.framesA.sent.length, received: party.framesB.received.length });

scenario('a click or a quick tap on the timeline of a playing party is one seek, for everyone', async (step) => {
  const party = await playingParty();
  try {
    const results = [];
    for (const [i, targetS] of TARGETS_S.entries()) {
      const holdMs = i % 2 === 0 ? CLICK_HOLD_MS : TAP_HOLD_MS;
      const before = mark(party);
      const seqBefore = (await partyState(party.a.page)).seq;
      await clickTimeline(party.a.page, targetS, party.durationS, { holdMs });
      const state = await landed(party, seqBefore, targetS);
      if (state) await sleep(STRAGGLER_MS);
      const got = outcomeSince(party, before);
      const ok = Boolean(state) && got.commands.length === 1 && got.commands[0] === 'seek' &&
        got.pausedStates === 0 && got.chatLines.length === 1;
      results.push(ok);
      console.log(`${ok ? 'ok  ' : 'FAIL'} ${holdMs} ms press at ${targetS} s: commands ${JSON.stringify(got.commands)}, ` +
        `paused states ${got.pausedStates}, chat ${JSON.stringify(got.chatLines)}, landed at ` +
        `${state ? (state.position_ms / 1000).toFixed(2) : '—'} s`);
      if (!ok) await playAgain(party, targetS);
    }
    const landedCount = results.filter(Boolean).length;
    console.log(`seek clicks that landed as one seek, party playing: ${landedCount}/${results.length}`);

    await step('every click and tap was one seek that every viewer followed, and nobody paused', () => {
      assert.equal(landedCount, results.length, `only ${landedCount} of ${results.length} clicks landed as one seek`);
    });

    await step('dragging the thumb is one seek, sent where it is let go', async () => {
      const before = mark(party);
      const seqBefore = (await partyState(party.a.page)).seq;
      await dragTimeline(party.a.page, 20, 62, party.durationS);
      const state = await landed(party, seqBefore, 62);
      assert.ok(state, `the drag to 62 s did not land\n${await party.describe()}`);
      await sleep(STRAGGLER_MS);
      const got = outcomeSince(party, before);
      assert.deepEqual(got.commands, ['seek'], `the drag sent ${JSON.stringify(got.commands)}`);
      assert.equal(got.pausedStates, 0, 'the party paused during the drag');
      assert.equal(got.chatLines.length, 1, `the drag made these chat lines: ${JSON.stringify(got.chatLines)}`);
    });
  } finally {
    await party.close();
  }
});
