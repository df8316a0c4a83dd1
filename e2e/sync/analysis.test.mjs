// The sync harness's arithmetic on made-up data: no browser, no server.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  clockModel, convergence, expectedMs, gridTimes, onGrid, percentile, spreads, stalls, stateAt,
  viewerErrors,
} from './analysis.mjs';

test('percentiles interpolate between closest ranks', () => {
  assert.equal(percentile([3, 1, 2], 50), 2);
  assert.equal(percentile([0, 10], 95), 9.5);
  assert.equal(percentile([], 50), null);
});

test('the clock model takes the lowest-RTT samples and follows a rate difference', () => {
  const pongs = [];
  // server = machine + 1000 + 20 ppm drift; symmetric legs of 0.1 ms, some slow samples
  for (let i = 0; i < 200; i++) {
    const t0 = 1e12 + i * 500;
    const slow = i % 3 === 0 ? 30 : 0; // a slow reply leg biases its own offset by −15 ms
    const t1 = t0 + 0.2 + slow;
    const serverMs = (t0 + 0.1) + 1000 + 20e-6 * (t0 + 0.1 - 1e12);
    pongs.push({ t0, t1, serverMs });
  }
  const { offsetAt, stats } = clockModel(pongs);
  assert.ok(Math.abs(offsetAt(1e12) - 1000) < 0.05, `offset ${offsetAt(1e12)}`);
  assert.ok(Math.abs(offsetAt(1e12 + 100_000) - 1002) < 0.05, `offset later ${offsetAt(1e12 + 100_000)}`);
  assert.ok(Math.abs(stats.driftPpm - 20) < 1);
});

test('expected position follows the protocol: waits before the anchor, clamps to the duration', () => {
  const s = { paused: false, position_ms: 1000, anchor_ms: 5000, rate: 1.5, duration_ms: 4000 };
  assert.equal(expectedMs(s, 4000), 1000);
  assert.equal(expectedMs(s, 6000), 2500);
  assert.equal(expectedMs(s, 9000), 4000);
  assert.equal(expectedMs({ ...s, paused: true }, 9000), 1000);
});

test('viewer errors use the state in effect at each sample and server time from the model', () => {
  const states = [
    { at: 100, state: { seq: 1, paused: true, position_ms: 0, anchor_ms: 0, rate: 1, duration_ms: null } },
    { at: 1000, state: { seq: 2, paused: false, position_ms: 0, anchor_ms: 11_000, rate: 1, duration_ms: null } },
  ];
  assert.equal(stateAt(states, 50), null);
  assert.equal(stateAt(states, 999).seq, 1);
  const offsetAt = () => 10_000; // server = machine + 10 s
  const rows = viewerErrors([
    { t: 500, pos: 3, paused: 1, rate: 1, seeking: 0, appNow: 10_501, appError: 3 },
    { t: 1500, pos: 480, paused: 0, rate: 1, seeking: 0, appNow: null, appError: null },
  ], states, offsetAt);
  assert.equal(rows[0].err, 3);
  assert.equal(rows[0].clockErr, 1);
  assert.equal(rows[1].err, -20); // should be at 500 ms
  assert.equal(rows[1].seq, 2);
});

test('errors are interpolated onto a common grid, never across a state change', () => {
  const rows = [
    { t: 0, err: 0, seq: 1 },
    { t: 100, err: 10, seq: 1 },
    { t: 200, err: 500, seq: 2 },
  ];
  const g = onGrid(rows, [50, 140, 190, 400]);
  assert.equal(g[0], 5);
  assert.equal(g[1], 10); // nearer neighbour, other state on the right
  assert.equal(g[2], 500);
  assert.equal(g[3], null); // no sample near
});

test('spread needs every viewer and is max − min', () => {
  assert.deepEqual(spreads([[1, 2, null], [4, -2, 0]]), [3, 4, null]);
});

test('convergence waits for the new state and a steady run within tolerance', () => {
  const times = gridTimes(0, 2000, 50);
  const seqs = times.map((t) => (t < 300 ? 1 : 2));
  const a = times.map((t) => (t < 800 ? 100 : 10));
  const b = times.map((t) => (t < 600 ? -100 : t < 900 ? 5 : t < 950 ? 60 : 0));
  const ms = convergence({ times, columns: [a, b], seqs }, { from: 100, seq: 2, toleranceMs: 33, holdMs: 250 });
  assert.equal(ms, 950 - 100);
  const never = convergence({ times, columns: [a, b], seqs }, { from: 100, seq: 3 });
  assert.equal(never, null);
});

test('stalls are runs where the position does not advance with the clock', () => {
  const rows = [];
  let pos = 0;
  for (let t = 0; t <= 2000; t += 50) {
    if (!(t > 1000 && t <= 1200)) pos += 50;
    rows.push({ t, pos, seq: 1, paused: false, seeking: false, tlPaused: false, rate: 1 });
  }
  const found = stalls(rows);
  assert.equal(found.length, 1);
  assert.equal(found[0].lostMs, 200);
  assert.equal(found[0].t, 1000);
});
