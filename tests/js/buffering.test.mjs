// Buffering reports: short stalls stay quiet, lasting ones are reported once each way.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferingReporter } from '../../static/js/buffering.js';
import { FakeTime } from './fakes.mjs';

function reporter() {
  const time = new FakeTime();
  const sent = [];
  const r = new BufferingReporter((type) => { sent.push(type); return true; }, time, 500);
  return { r, time, sent };
}

test('a short stall is not reported', () => {
  const { r, time, sent } = reporter();
  r.waiting();
  time.advance(300);
  r.ready();
  time.advance(1000);
  assert.deepEqual(sent, []);
});

test('a lasting stall is reported once, and its end once', () => {
  const { r, time, sent } = reporter();
  r.waiting();
  time.advance(400);
  r.waiting();
  time.advance(400);
  r.waiting();
  r.ready();
  r.ready();
  assert.deepEqual(sent, ['buffering', 'ready']);
});

test('a stall still going on is reported again on a new connection', () => {
  const { r, time, sent } = reporter();
  r.waiting();
  time.advance(600);
  r.reconnected();
  assert.deepEqual(sent, ['buffering', 'buffering']);
  const quiet = reporter();
  quiet.r.reconnected();
  assert.deepEqual(quiet.sent, []);
});

test('a stall counts from its start, reported or not, until the player can play', () => {
  const { r, time } = reporter();
  assert.equal(r.stalled(), false);
  r.waiting();
  assert.equal(r.stalled(), true, 'not reported yet, but stalled');
  time.advance(600);
  assert.equal(r.stalled(), true);
  r.ready();
  assert.equal(r.stalled(), false);
});

test('a reported stall ends as soon as a check finds the player playable, without any event', () => {
  const { r, time, sent } = reporter();
  r.waiting();
  time.advance(600);
  r.check(false);
  assert.deepEqual(sent, ['buffering'], 'still loading: nothing more');
  r.check(true);
  assert.deepEqual(sent, ['buffering', 'ready']);
  r.check(true);
  assert.deepEqual(sent, ['buffering', 'ready'], 'ready is said once');
});

test('a stall found over by a check before it was reported is never reported', () => {
  const { r, time, sent } = reporter();
  r.waiting();
  time.advance(200);
  r.check(true);
  time.advance(1000);
  assert.deepEqual(sent, []);
});

test('a player the party needs playing that cannot play yet is stalled, with no event at all', () => {
  const { r, time, sent } = reporter();
  r.check(false, false);
  time.advance(2000);
  assert.deepEqual(sent, [], 'a paused party needs nothing loaded');
  r.check(false, true);
  time.advance(300);
  r.check(false, true);
  time.advance(300);
  assert.deepEqual(sent, ['buffering'], 'reported once the report delay passed');
  r.check(true, true);
  assert.deepEqual(sent, ['buffering', 'ready']);
});

test('a load that is quick enough is never reported', () => {
  const { r, time, sent } = reporter();
  r.check(false, true);
  time.advance(200);
  r.check(true, true);
  time.advance(1000);
  assert.deepEqual(sent, []);
});

test('a stall reported while the party waited is said again when the party starts to play', () => {
  const { r, time, sent } = reporter();
  r.waiting();
  time.advance(600);
  r.check(false, false);
  r.check(false, false);
  assert.deepEqual(sent, ['buffering']);
  r.check(false, true);
  r.check(false, true);
  assert.deepEqual(sent, ['buffering', 'buffering'], 'once, as the party starts');
});
