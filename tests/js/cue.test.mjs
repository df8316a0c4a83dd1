// Cued starts: the line a cue follows, when it is ready, and what it says at each moment.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CUE_DEFAULTS, Cue, Join, cueLeadMs } from '../../static/js/cue.js';
import { expectedPosition } from '../../static/js/timeline.js';

const party = { seq: 3, paused: false, position_ms: 10_000, anchor_ms: 1_000_000, rate: 1.5, duration_ms: null };

test('a cue waits at where the party will be on its instant, then follows the very same line', () => {
  const cue = new Cue(party, { now: 1_004_000, leadMs: 400, localNow: 0 });
  assert.equal(cue.state.anchor_ms, 1_004_400);
  assert.equal(cue.state.position_ms, 10_000 + 4_400 * 1.5);
  assert.equal(expectedPosition(cue.state, 1_004_100), cue.state.position_ms, 'still before its instant');
  for (const t of [1_004_400, 1_005_000, 1_060_000]) assert.equal(expectedPosition(cue.state, t), expectedPosition(party, t));
});

test('a cue is ready once the player, sent there, is ready to play; the time it took is learned once', () => {
  const cue = new Cue(party, { now: 1_004_000, leadMs: 400, localNow: 100 });
  assert.equal(cue.observe(true, 120), null, 'not sent there yet: ready means nothing');
  cue.moved = true;
  assert.equal(cue.observe(false, 200), null);
  assert.equal(cue.observe(true, 350), 250);
  assert.equal(cue.observe(true, 400), null, 'learned once');
  assert.equal(cue.ready, true);
});

test('what a cue says, moment by moment', () => {
  const rows = [
    // [why, ready (true, false, or 'late': only after the instant had come), now, startsNow, paused, verdict]
    ['before its instant it is followed (the player waits there)', false, 1_004_100, false, true, 'follow'],
    ['its start begins (early by what play() takes)', true, 1_004_350, true, true, 'follow'],
    ['started before the instant: still its line', true, 1_004_380, true, false, 'follow'],
    ['started and past the instant: the party\'s own line', true, 1_004_500, false, false, 'done'],
    ['the instant came before the player was ready there', false, 1_004_350, true, true, 'hold'],
    ['still not ready after the instant', false, 1_004_900, false, true, 'hold'],
    ['ready a tick after the instant, having been ready before', true, 1_004_410, false, true, 'follow'],
    ['ready only after the instant', 'late', 1_004_900, false, true, 'again'],
  ];
  for (const [why, ready, now, startsNow, paused, verdict] of rows) {
    const cue = new Cue(party, { now: 1_004_000, leadMs: 400, localNow: 0 });
    cue.moved = true;
    if (ready === 'late') assert.equal(cue.verdict({ now: 1_004_400, startsNow: false, paused: true }), 'hold');
    if (ready) cue.observe(true, 50);
    assert.equal(cue.verdict({ now, startsNow, paused }), verdict, why);
  }
});

test('a player still moving there when its start is due has missed its instant', () => {
  const cue = new Cue(party, { now: 1_004_000, leadMs: 400, localNow: 0 });
  cue.moved = true;
  cue.seekingAt(1_004_300, 80);
  assert.equal(cue.missed, false, 'not due yet');
  cue.seekingAt(1_004_330, 80);
  cue.observe(true, 500);
  assert.equal(cue.verdict({ now: 1_004_520, startsNow: false, paused: true }), 'again');
});

test("a cue's lead covers the ready time, some to spare and play()'s cost, up to a bound", () => {
  assert.equal(cueLeadMs({ readyMs: 250, startMs: 80 }), 250 + CUE_DEFAULTS.spareMs + 80);
  assert.equal(cueLeadMs({ readyMs: 60_000, startMs: 80 }), CUE_DEFAULTS.maxLeadMs);
});

test('a join is over once the player has stayed in its dead band for a second; until then a frame off cues it again', () => {
  const join = new Join();
  join.cued();
  assert.equal(join.playing(5, 10, 0), 'on', 'in the band');
  assert.equal(join.playing(50, 10, 400), 'again', 'a frame off: cued again');
  join.cued();
  assert.equal(join.playing(20, 10, 500), 'on', 'off, but within a frame: nudged');
  assert.equal(join.playing(4, 10, 600), 'on');
  assert.equal(join.playing(3, 10, 1599), 'on');
  assert.equal(join.playing(3, 10, 1600), 'settled');
  join.cued();
  assert.equal(join.playing(80, 10, 2000), 'on', 'three cues used: nudged from here');
});
