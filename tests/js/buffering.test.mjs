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
