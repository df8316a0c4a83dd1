// The YouTube player's pure policy: ids, coarse rates, jump detection, refused starts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canNudge, canPlayFrom, detectJump, isVideoId, playAttemptOutcome, snapRate, youtubeDriftPolicy, youtubeFailure, YT_STATE }
  from '../../static/js/players/youtube-policy.js';
import { driftAction } from '../../static/js/drift.js';

const STANDARD = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2];
const FINE = Array.from({ length: 36 }, (_, i) => Math.round((0.25 + i * 0.05) * 100) / 100);

test('video ids are 11 URL-safe characters', () => {
  assert.ok(isVideoId('dQw4w9WgXcQ'));
  assert.ok(isVideoId('a-b_c-d_e-f'));
  for (const bad of ['', 'dQw4w9WgXc', 'dQw4w9WgXcQQ', 'dQw4w9WgX"Q', '<script>abc', null, 42]) {
    assert.equal(isVideoId(bad), false, String(bad));
  }
});

test('rates snap to the nearest one the player offers', () => {
  assert.equal(snapRate(1.04, STANDARD), 1);
  assert.equal(snapRate(1.2, STANDARD), 1.25);
  assert.equal(snapRate(1.04, FINE), 1.05);
  assert.equal(snapRate(1.04, []), 1.04);
});

test('the standard rates are too coarse to nudge; fine rates are not', () => {
  assert.equal(canNudge(STANDARD, 1), false);
  assert.equal(canNudge(STANDARD, 1.5), false);
  assert.equal(canNudge(FINE, 1), true);
  assert.equal(canNudge([0.95, 1, 1.25], 1), false, 'needs room on both sides');
});

test('with standard rates a mid-sized error is fixed by seeking, not by a 25 % lurch', () => {
  const policy = youtubeDriftPolicy(STANDARD, 1);
  const act = driftAction({ errorMs: -400, expectedMs: 10_000, rate: 1, paused: false }, policy);
  assert.equal(act.action, 'seek');
  assert.equal(driftAction({ errorMs: -150, expectedMs: 10_000, rate: 1, paused: false }, policy).action, 'none');
});

test('with fine rates the YouTube player nudges like a <video>', () => {
  const policy = youtubeDriftPolicy(FINE, 1);
  const act = driftAction({ errorMs: -400, expectedMs: 10_000, rate: 1, paused: false }, policy);
  assert.equal(act.action, 'rate');
  assert.ok(act.rate > 1);
});

test('a position that playback explains is not a jump', () => {
  const sample = { prevMs: 10_000, prevAt: 0, posMs: 10_260, at: 250, playing: true, rate: 1 };
  assert.equal(detectJump(sample), false);
  assert.equal(detectJump({ ...sample, posMs: 10_510, rate: 2 }), false);
  assert.equal(detectJump({ ...sample, posMs: 10_000 }), false, 'a stall of one poll is not a jump');
  assert.equal(detectJump({ ...sample, playing: false, posMs: 10_000 }), false);
});

test('a position playback cannot explain is the viewer seeking', () => {
  const sample = { prevMs: 10_000, prevAt: 0, at: 250, playing: true, rate: 1 };
  assert.equal(detectJump({ ...sample, posMs: 45_000 }), true);
  assert.equal(detectJump({ ...sample, posMs: 2_000 }), true);
  assert.equal(detectJump({ ...sample, playing: false, posMs: 11_500 }), true);
});

test('while the page waits for its own start, a fall back to paused is a refusal, not a pause', () => {
  assert.equal(playAttemptOutcome(YT_STATE.PLAYING), 'started');
  assert.equal(playAttemptOutcome(YT_STATE.BUFFERING), 'pending');
  assert.equal(playAttemptOutcome(YT_STATE.PAUSED), 'refused');
  assert.equal(playAttemptOutcome(YT_STATE.UNSTARTED), 'pending', 'a working start passes through UNSTARTED');
  assert.equal(playAttemptOutcome(YT_STATE.CUED), 'refused');
});

test('a playing YouTube player can play on; a buffering or unstarted one cannot', () => {
  const at = { positionMs: 10_000, durationMs: 100_000, loadedFraction: 0 };
  assert.equal(canPlayFrom({ ...at, state: YT_STATE.PLAYING }), true);
  assert.equal(canPlayFrom({ ...at, loadedFraction: 1, state: YT_STATE.BUFFERING }), false);
  assert.equal(canPlayFrom({ ...at, loadedFraction: 1, state: YT_STATE.UNSTARTED }), false);
});

test('a paused YouTube player can play on once a second past its position is loaded, or the end', () => {
  const paused = { state: YT_STATE.PAUSED, positionMs: 10_000, durationMs: 100_000 };
  assert.equal(canPlayFrom({ ...paused, loadedFraction: 0.105 }), false);
  assert.equal(canPlayFrom({ ...paused, loadedFraction: 0.11 }), true);
  assert.equal(canPlayFrom({ ...paused, positionMs: 99_800, loadedFraction: 1 }), true);
  assert.equal(canPlayFrom({ ...paused, durationMs: 0, loadedFraction: 1 }), false, 'nothing known yet');
});

test('every YouTube failure is named for the viewer and given a reason the server knows', () => {
  const table = [
    ['unreachable', 'unreachable', /cannot be reached/],
    [2, 'invalid', /not valid \(error 2\)/],
    [5, 'player_error', /error 5/],
    [100, 'not_found', /removed, made private, or never existed/],
    [101, 'embed_refused', /does not allow it to be played on other sites \(error 101\)/],
    [150, 'embed_refused', /does not allow it to be played on other sites \(error 150\)/],
    [999, 'player_error', /error 999/],
  ];
  for (const [code, reason, words] of table) {
    const failure = youtubeFailure(code);
    assert.equal(failure.reason, reason, String(code));
    assert.match(failure.message, words, String(code));
  }
});
