// Clock alignment on simulated links: offsets, outliers, jitter and the ping schedule.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClockSync } from '../../static/js/clock.js';

// A simulated link: the server clock runs `skewMs` ahead of the local one; each leg takes
// its own delay. Returns the sample a real ping/pong would produce.
function roundTrip(clock, localSendMs, skewMs, upMs, downMs) {
  const serverMs = localSendMs + upMs + skewMs;
  return clock.record(localSendMs, serverMs, localSendMs + upMs + downMs);
}

// Deterministic pseudo-random numbers, so a failing run can be replayed.
function lcg(seed) {
  let s = seed;
  return () => ((s = (s * 1_664_525 + 1_013_904_223) % 2 ** 32) / 2 ** 32);
}

test('with no readings there is no server time', () => {
  const clock = new ClockSync({ now: () => 0 });
  assert.equal(clock.serverNow(), null);
  assert.equal(clock.measured(), false);
});

test('a symmetric round trip gives the exact offset', () => {
  const clock = new ClockSync({ now: () => 500 });
  roundTrip(clock, 100, 1_700_000_000_000, 20, 20);
  assert.equal(clock.offset(), 1_700_000_000_000);
  assert.equal(clock.serverNow(600), 1_700_000_000_600);
});

test('the estimate follows the lowest-RTT samples and ignores slow outliers', () => {
  const skew = 123_456;
  const clock = new ClockSync({ now: () => 0 });
  // Fast samples are near-symmetric; slow ones are badly asymmetric (queued on the way back),
  // which would drag even a median of all samples far off.
  roundTrip(clock, 0, skew, 10, 11);
  roundTrip(clock, 100, skew, 20, 400);
  roundTrip(clock, 200, skew, 11, 10);
  roundTrip(clock, 300, skew, 20, 600);
  roundTrip(clock, 400, skew, 10, 10);
  roundTrip(clock, 500, skew, 30, 900);
  assert.ok(Math.abs(clock.offset() - skew) <= 1, `offset ${clock.offset()} should be within 1 ms of ${skew}`);
  assert.equal(clock.bestRtt(), 20);
});

test('under random jitter the offset stays within a couple of ms of the truth', () => {
  const rand = lcg(42);
  const skew = -987_654;
  const clock = new ClockSync({ now: () => 0 });
  let worst = 0;
  for (let i = 0; i < 200; i++) {
    // 15 ms base each way, plus 0–80 ms of jitter on either leg independently.
    roundTrip(clock, i * 3000, skew, 15 + 80 * rand() ** 3, 15 + 80 * rand() ** 3);
    if (i >= 11) worst = Math.max(worst, Math.abs(clock.offset() - skew));
  }
  // Both legs sometimes come close to their 15 ms base, so the intersection is narrow.
  assert.ok(worst < 2, `worst error ${worst.toFixed(1)} ms`);
});

test('the bounds of all samples are intersected: the shortest delay each way counts, even from different samples', () => {
  const skew = 55_000;
  const clock = new ClockSync({ now: () => 0 });
  // Every sample is lopsided; each bounds the offset to [skew − down, skew + up].
  roundTrip(clock, 0, skew, 2, 30); // [skew − 30, skew + 2]
  roundTrip(clock, 100, skew, 25, 3); // [skew − 3, skew + 25]
  roundTrip(clock, 200, skew, 4, 24); // [skew − 24, skew + 4]
  // The intersection [skew − 3, skew + 2]; the median of the samples' midpoints would be skew − 10.
  assert.equal(clock.offset(), skew - 0.5);
});

test('bounds that contradict each other (the clock stepped) fall back to the median of the lowest-RTT samples', () => {
  const clock = new ClockSync({ now: () => 0 });
  for (let i = 0; i < 3; i++) roundTrip(clock, i * 100, 1000, 5, 5); // [995, 1005]
  for (let i = 3; i < 5; i++) roundTrip(clock, i * 100, 1100, 10, 10); // [1090, 1110]: disjoint
  assert.equal(clock.offset(), 1000, 'the three fastest samples, all before the step');
  for (let i = 5; i < 8; i++) roundTrip(clock, i * 100, 1100, 2, 2);
  assert.equal(clock.offset(), 1100, 'faster samples after the step take over');
});

test('only the recent window counts, so a changed offset is followed', () => {
  const clock = new ClockSync({ now: () => 0, windowSize: 4 });
  for (let i = 0; i < 4; i++) roundTrip(clock, i * 100, 1000, 5, 5);
  for (let i = 4; i < 8; i++) roundTrip(clock, i * 100, 2000, 10, 10);
  assert.equal(clock.offset(), 2000);
});

test('impossible samples are discarded', () => {
  const clock = new ClockSync({ now: () => 0 });
  assert.equal(clock.record(100, 5000, 90), null);
  assert.equal(clock.record(100, Number.NaN, 120), null);
  assert.equal(clock.measured(), false);
});

test('a one-way reading stands in until the first round trip', () => {
  let local = 1000;
  const clock = new ClockSync({ now: () => local });
  clock.recordOneWay(50_000);
  assert.equal(clock.serverNow(), 50_000);
  local = 1500;
  assert.equal(clock.serverNow(), 50_500);
  roundTrip(clock, 1500, 49_100, 10, 10);
  assert.equal(clock.offset(), 49_100);
});

test('pings come at once at first, then quickly, then every few seconds, and at once again after a restart', () => {
  const clock = new ClockSync({ now: () => 0 });
  const delays = [];
  // The burst's four pings go out before their pongs are back.
  for (let i = 0; i < 3; i++) delays.push(clock.nextPingDelay());
  for (let i = 0; i < 4; i++) roundTrip(clock, i, 0, 5, 5);
  for (let i = 0; i < 7; i++) {
    delays.push(clock.nextPingDelay());
    roundTrip(clock, i * 300, 0, 5, 5);
  }
  assert.deepEqual(delays, [0, 0, 0, 150, 150, 150, 150, 1000, 1000, 1000]);
  assert.equal(clock.settled(), true, 'the quick samples are in');
  clock.restartFast();
  assert.equal(clock.settled(), false);
  assert.equal(clock.nextPingDelay(), 0);
  assert.ok(clock.measured(), 'a restart keeps the samples');
});

test('a lost pong does not count toward leaving the fast schedule', () => {
  const clock = new ClockSync({ now: () => 0 });
  for (let i = 0; i < 3; i++) clock.nextPingDelay(); // the burst
  for (let i = 0; i < 7; i++) roundTrip(clock, i, 0, 1, 1);
  clock.record(10, 0, 5); // unusable
  assert.equal(clock.nextPingDelay(), 150);
  roundTrip(clock, 20, 0, 1, 1);
  assert.equal(clock.nextPingDelay(), 1000);
});
