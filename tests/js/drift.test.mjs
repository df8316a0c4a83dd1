// The drift policy: dead band, proportional nudges, seeks with latency, and a closed loop.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DRIFT_DEFAULTS, SeekLatency, driftAction } from '../../static/js/drift.js';

const playing = (errorMs, extra = {}) => driftAction({ errorMs, expectedMs: 60_000, rate: 1, paused: false, ...extra });

test('inside the dead band nothing happens and the rate is the state rate', () => {
  for (const e of [0, 5, -9, 10, -10]) {
    assert.deepEqual(playing(e, { rate: 1.25 }), { action: 'none', rate: 1.25, target: null }, `error ${e}`);
  }
});

test('a player ahead slows down and one behind speeds up', () => {
  const ahead = playing(80);
  const behind = playing(-80);
  assert.equal(ahead.action, 'rate');
  assert.equal(behind.action, 'rate');
  assert.ok(ahead.rate < 1 && behind.rate > 1, `${ahead.rate} / ${behind.rate}`);
});

test('the nudge is proportional to the error', () => {
  // rate − error / correctionMs (600 ms)
  assert.equal(playing(45).rate, 0.925);
  assert.equal(playing(-75).rate, 1.125);
  assert.equal(playing(-30, { rate: 2 }).rate, 2.05);
  assert.ok(Math.abs(1 - playing(100).rate) > Math.abs(1 - playing(50).rate));
});

test('the nudge is bounded to ±20 % of the state rate', () => {
  // At slow rates the bound is reached below the seek threshold.
  assert.equal(playing(100, { rate: 0.5 }).rate, 0.4);
  assert.equal(playing(-100, { rate: 0.5 }).rate, 0.6);
  // With a wider seek threshold, at any rate.
  const wide = (errorMs, rate = 1) => driftAction({ errorMs, expectedMs: 0, rate, paused: false }, { seekThresholdMs: 1000 });
  assert.equal(wide(900).rate, 0.8);
  assert.equal(wide(-900).rate, 1.2);
  assert.equal(wide(-900, 2).rate, 2.4);
});

test('a nudge already under way continues until the error is nearly gone', () => {
  assert.equal(playing(6, { nudging: true }).action, 'rate');
  assert.equal(playing(6, { nudging: false }).action, 'none');
  assert.equal(playing(-1.5, { nudging: true }).action, 'none');
});

test('far off, the player seeks ahead by the measured seek latency', () => {
  assert.deepEqual(playing(-1500, { seekLatencyMs: 200 }), { action: 'seek', rate: 1, target: 60_200 });
  assert.deepEqual(playing(2500, { seekLatencyMs: 200, rate: 2 }), { action: 'seek', rate: 2, target: 60_400 });
  assert.equal(playing(119).action, 'rate');
  assert.equal(playing(-121).action, 'seek', 'beyond 120 ms a nudge would take too long');
});

test('the seek threshold is configurable', () => {
  const policy = { ...DRIFT_DEFAULTS, seekThresholdMs: 400 };
  const input = { errorMs: 300, expectedMs: 0, rate: 1, paused: false };
  assert.equal(driftAction(input, policy).action, 'rate');
  assert.equal(driftAction(input).action, 'seek');
  assert.equal(driftAction({ ...input, errorMs: 500 }, policy).action, 'seek');
});

test('without nudging, anything beyond the dead band is a seek', () => {
  const coarse = { deadBandMs: 250, maxNudge: 0, seekThresholdMs: 250 };
  assert.equal(driftAction({ errorMs: 200, expectedMs: 0, rate: 1, paused: false }, coarse).action, 'none');
  assert.equal(driftAction({ errorMs: 300, expectedMs: 0, rate: 1, paused: false }, coarse).action, 'seek');
});

test('a paused player rests exactly on the position (the same frame as everyone) and never nudges', () => {
  const paused = (errorMs) => driftAction({ errorMs, expectedMs: 5000, rate: 1, paused: true, seekLatencyMs: 300 });
  assert.deepEqual(paused(0), { action: 'none', rate: 1, target: null });
  assert.deepEqual(paused(0.005), { action: 'none', rate: 1, target: null }, 'rounding in currentTime is not an error');
  assert.deepEqual(paused(1), { action: 'seek', rate: 1, target: 5000 }, 'a millisecond off may be another frame');
  assert.deepEqual(paused(-16), { action: 'seek', rate: 1, target: 5000 }, 'no latency added while paused');
  assert.deepEqual(paused(500), { action: 'seek', rate: 1, target: 5000 });
});

test('closed loop: a player 100 ms behind is brought within the dead band in under 2 s without seeking', () => {
  // The player advances at its playbackRate; the timeline at the state rate.
  const tickMs = 200;
  let error = -100;
  let rate = 1;
  let seeks = 0;
  let t = 0;
  while (Math.abs(error) > DRIFT_DEFAULTS.deadBandMs && t < 20_000) {
    const act = playing(error, { nudging: rate !== 1 });
    if (act.action === 'seek') seeks++;
    rate = act.rate;
    error += (rate - 1) * tickMs;
    t += tickMs;
  }
  assert.equal(seeks, 0);
  assert.ok(t <= 2000, `took ${t} ms`);
  // It then settles rather than overshooting or parking at the band's edge.
  for (let i = 0; i < 25; i++) {
    const act = playing(error, { nudging: rate !== 1 });
    rate = act.rate;
    error += (rate - 1) * tickMs;
  }
  assert.ok(Math.abs(error) <= DRIFT_DEFAULTS.settleMs, `residual ${error}`);
  assert.equal(rate, 1);
});

test('closed loop: a player 400 ms behind seeks once, ahead by the seek latency, then needs no more', () => {
  const tickMs = 200;
  const seekMs = 80;
  let error = -400;
  let rate = 1;
  let seeks = 0;
  for (let t = 0; t < 4000; t += tickMs) {
    const act = playing(error, { nudging: rate !== 1, seekLatencyMs: seekMs });
    if (act.action === 'seek') {
      seeks++;
      error = (act.target - 60_000) - seekMs; // lands where aimed, less the time the seek took
    } else {
      error += (act.rate - 1) * tickMs;
    }
    rate = act.rate;
  }
  assert.equal(seeks, 1);
  assert.ok(Math.abs(error) <= DRIFT_DEFAULTS.deadBandMs, `residual ${error}`);
});

test('seek latency is an exponential average of measured seeks', () => {
  const latency = new SeekLatency({ alpha: 0.5 });
  assert.equal(latency.estimate(), 0);
  latency.observe(100);
  assert.equal(latency.estimate(), 100);
  latency.observe(200);
  assert.equal(latency.estimate(), 150);
  latency.observe(-5);
  latency.observe(Number.NaN);
  assert.equal(latency.estimate(), 150, 'nonsense is ignored');
  latency.observe(60_000);
  assert.equal(latency.estimate(), 1575, 'a stalled seek is capped');
});

test('a seek latency prior stands in until measurements move it', () => {
  const latency = new SeekLatency({ alpha: 0.5, initialMs: 80 });
  assert.equal(latency.estimate(), 80, 'the prior, before any seek');
  latency.observe(Number.NaN);
  assert.equal(latency.estimate(), 80, 'nonsense does not displace it');
  latency.observe(200);
  assert.equal(latency.estimate(), 140, 'the first measurement is averaged with the prior');
  latency.observe(200);
  assert.equal(latency.estimate(), 170);
  assert.equal(new SeekLatency().estimate(), 0, 'without a prior, 0');
});
