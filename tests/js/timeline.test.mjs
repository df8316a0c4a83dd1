// The timeline arithmetic: expected positions, scheduled starts and the end of the media.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { awaitingStart, expectedPosition, reachedEnd, shouldBeMoving } from '../../static/js/timeline.js';

const base = { seq: 1, media: 'video:1', paused: false, position_ms: 10_000, anchor_ms: 50_000, rate: 1, duration_ms: null };

test('a playing state advances from its anchor at its rate', () => {
  assert.equal(expectedPosition(base, 52_500), 12_500);
  assert.equal(expectedPosition({ ...base, rate: 1.5 }, 52_000), 13_000);
  assert.equal(expectedPosition({ ...base, rate: 0.5 }, 54_000), 12_000);
});

test('a paused state stays at its position whatever the time', () => {
  const paused = { ...base, paused: true };
  assert.equal(expectedPosition(paused, 40_000), 10_000);
  assert.equal(expectedPosition(paused, 90_000), 10_000);
});

test('before a scheduled start the media waits at its position', () => {
  assert.equal(expectedPosition(base, 49_700), 10_000);
  assert.equal(awaitingStart(base, 49_700), true);
  assert.equal(awaitingStart(base, 50_000), false);
  assert.equal(shouldBeMoving(base, 49_700), false);
  assert.equal(shouldBeMoving(base, 50_001), true);
});

test('the position is clamped to the known duration', () => {
  const known = { ...base, duration_ms: 11_000 };
  assert.equal(expectedPosition(known, 60_000), 11_000);
  assert.equal(reachedEnd(known, 60_000), true);
  assert.equal(shouldBeMoving(known, 60_000), false);
  assert.equal(reachedEnd(known, 50_500), false);
});

test('an unknown duration leaves the position unbounded above', () => {
  assert.equal(expectedPosition(base, 1_050_000), 1_010_000);
  assert.equal(reachedEnd(base, 1_050_000), false);
});

test('the position is never negative', () => {
  assert.equal(expectedPosition({ ...base, position_ms: -5 }, 50_000), 0);
});
