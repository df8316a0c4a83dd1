// The viewer's seeks on a native player, as commands: a lone seek at once, a drag once it rests.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserSeekBurst } from '../../static/js/players/html5.js';
import { FakeTime } from './fakes.mjs';

function setup() {
  const time = new FakeTime(0);
  const sent = [];
  let position = 0;
  const burst = new UserSeekBurst((ms) => sent.push(ms), { settleMs: 300, timers: time });
  const seekTo = (ms) => { position = ms; burst.seeked(() => position); };
  return { time, sent, burst, seekTo };
}

test('a lone seek (a click on the timeline) is sent at once, and only once', () => {
  const { time, sent, seekTo } = setup();
  seekTo(42_000);
  assert.deepEqual(sent, [42_000]);
  time.advance(1000);
  assert.deepEqual(sent, [42_000], 'nothing more once it rests');
});

test('a drag sends its first seek at once and where it rests once it has rested', () => {
  const { time, sent, seekTo } = setup();
  seekTo(10_000);
  time.advance(50);
  seekTo(11_000);
  time.advance(50);
  seekTo(12_500);
  time.advance(299);
  assert.deepEqual(sent, [10_000], 'the drag has not rested yet');
  time.advance(1);
  assert.deepEqual(sent, [10_000, 12_500]);
  time.advance(1000);
  seekTo(3000);
  assert.deepEqual(sent, [10_000, 12_500, 3000], 'after a rest, the next seek is a new burst, sent at once');
});

test('a seek beginning holds the burst open until it completes', () => {
  const { time, sent, burst, seekTo } = setup();
  seekTo(5000);
  time.advance(200);
  burst.hold(); // the viewer starts another seek
  time.advance(500);
  assert.deepEqual(sent, [5000]);
  seekTo(9000);
  time.advance(300);
  assert.deepEqual(sent, [5000, 9000], 'the burst goes on: its end is sent once it rests');
});

test('a reset forgets the burst: nothing pending is sent, and the next seek goes at once', () => {
  const { time, sent, burst, seekTo } = setup();
  seekTo(1000);
  seekTo(2000);
  burst.reset(); // other media loaded
  time.advance(1000);
  assert.deepEqual(sent, [1000]);
  seekTo(7000);
  assert.deepEqual(sent, [1000, 7000]);
});
