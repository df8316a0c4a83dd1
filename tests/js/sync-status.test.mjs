// The sync status the viewer list shows: out only after a lasting error, back only when close,
// never judged while buffering, and told to the server on changes only.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SyncStatusReporter, judgeSync, syncText } from '../../static/js/sync-status.js';

/** Feeds `errors` (ms, or null) one tick apart; returns what was sent. */
function run(errors, { tickMs = 200, start = 0, reporter, sample = {} } = {}) {
  const sent = [];
  const r = reporter ?? new SyncStatusReporter((type, fields) => { sent.push({ type, ...fields }); return true; });
  errors.forEach((errorMs, i) => r.observe({ atMs: start + i * tickMs, errorMs, moving: true, ...sample }));
  return { r, sent };
}

const repeat = (value, n) => Array(n).fill(value);

test('an error beyond 100 ms for more than a second while playing is out of sync, once', () => {
  const { r, sent } = run(repeat(150, 10));
  assert.equal(r.inSync, false);
  assert.deepEqual(sent, [{ type: 'sync_status', in_sync: false }]);
});

test('an error beyond 100 ms that lasts under a second is not reported', () => {
  const { r, sent } = run([...repeat(300, 5), 20, ...repeat(300, 5)]);
  assert.equal(r.inSync, true);
  assert.deepEqual(sent, []);
});

test('an error between the two bands changes nothing: no flapping', () => {
  const out = run([...repeat(150, 7), ...repeat(70, 20), 150, 60, 150, 90]);
  assert.deepEqual(out.sent.map((m) => m.in_sync), [false], 'still out at 70 ms');
  const back = run([...repeat(150, 7), 30, ...repeat(70, 20), ...repeat(99, 3)]);
  assert.deepEqual(back.sent.map((m) => m.in_sync), [false, true], 'back at 30 ms, and in it stays below 100 ms');
});

test('back in sync needs the error under 40 ms', () => {
  const { sent } = run([...repeat(-400, 7), -45, -41, -39]);
  assert.deepEqual(sent.map((m) => m.in_sync), [false, true]);
});

test('a seek under way for more than a second is out of sync, whatever the error reads', () => {
  const sent = [];
  const r = new SyncStatusReporter((type, fields) => { sent.push(fields.in_sync); return true; });
  for (let i = 0; i <= 5; i++) r.observe({ atMs: i * 200, errorMs: 0, moving: true, seeking: true });
  assert.deepEqual(sent, [], 'a second of seeking is allowed');
  r.observe({ atMs: 1200, errorMs: null, moving: false, seeking: true });
  assert.deepEqual(sent, [false], 'also while paused');
  r.observe({ atMs: 1400, errorMs: 5, moving: false });
  assert.deepEqual(sent, [false, true]);
});

test('a paused player is not judged out of sync by its error, but comes back once close', () => {
  const { sent, r } = run(repeat(500, 20), { sample: { moving: false } });
  assert.deepEqual(sent, []);
  run(repeat(200, 7), { reporter: r });
  assert.equal(r.inSync, false);
  r.observe({ atMs: 5000, errorMs: 3, moving: false });
  assert.equal(r.inSync, true);
});

test('nothing is judged while buffering, and a stall does not count towards the second', () => {
  const { r, sent } = run(repeat(2000, 20), { sample: { buffering: true } });
  assert.deepEqual(sent, []);
  assert.equal(r.inSync, true);
  let v = { inSync: true, offSince: null };
  v = judgeSync(v, { atMs: 0, errorMs: 500, moving: true });
  v = judgeSync(v, { atMs: 800, errorMs: 500, moving: true, buffering: true });
  v = judgeSync(v, { atMs: 1600, errorMs: 500, moving: true });
  assert.deepEqual(v, { inSync: true, offSince: 1600 }, 'the count starts again after the stall');
});

test('an unknown error or the viewer’s own pending command keeps the verdict and restarts the count', () => {
  let v = { inSync: true, offSince: null };
  v = judgeSync(v, { atMs: 0, errorMs: 500, moving: true });
  v = judgeSync(v, { atMs: 900, errorMs: null, moving: true });
  assert.deepEqual(v, { inSync: true, offSince: null });
  v = judgeSync({ inSync: false, offSince: 0 }, { atMs: 900, errorMs: 0, moving: true, holding: true });
  assert.deepEqual(v, { inSync: false, offSince: null });
});

test('a coarse player is judged by its own dead band', () => {
  const coarse = run(repeat(300, 10), { sample: { bandMs: 250 } });
  assert.deepEqual(coarse.sent, [], '300 ms is within what a 250 ms band allows');
  const far = run([...repeat(600, 7), 200], { sample: { bandMs: 250 } });
  assert.deepEqual(far.sent.map((m) => m.in_sync), [false, true]);
});

test('a new connection starts in sync on the server: an out-of-sync page says so again', () => {
  const { r, sent } = run(repeat(150, 7));
  assert.equal(sent.length, 1);
  r.connected();
  assert.deepEqual(sent.map((m) => m.in_sync), [false, false]);
  const fine = run([0]);
  fine.r.connected();
  assert.deepEqual(fine.sent, []);
});

test('a change that could not be sent is sent with the next sample', () => {
  let up = false;
  const sent = [];
  const r = new SyncStatusReporter((type, fields) => { if (up) sent.push(fields.in_sync); return up; });
  run(repeat(150, 7), { reporter: r });
  assert.deepEqual(sent, []);
  up = true;
  r.observe({ atMs: 2000, errorMs: 150, moving: true });
  assert.deepEqual(sent, [false]);
});

test('the sync badge never claims to be in sync while the connection is down', () => {
  assert.equal(syncText({ connected: true, hasPlayer: true, errorMs: 12.4, inSync: true }), 'in sync ±12 ms');
  assert.equal(syncText({ connected: true, hasPlayer: true, errorMs: -300, inSync: false }), 'syncing…');
  assert.equal(syncText({ connected: false, hasPlayer: true, errorMs: 3, inSync: true }), '');
  assert.equal(syncText({ connected: true, hasPlayer: false, errorMs: null, inSync: true }), '');
});
