// The viewer's actions on a native player's controls, as commands: a press on the timeline of
// a playing video (pause → seeking → play) is one seek; a lone seek goes at once, a drag of a
// paused one once it rests.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NativeControls, UserSeekBurst } from '../../static/js/players/native-controls.js';
import { FakeTime } from './fakes.mjs';

/** A reader whose commands are logged as strings ("seek 42000"); `at(ms)` moves the player. */
function controls() {
  const time = new FakeTime(0);
  const sent = [];
  let position = 10_000;
  const reader = new NativeControls({
    pause: (ms) => sent.push(`pause ${ms}`),
    seeking: () => sent.push('seeking'),
    seek: (ms) => sent.push(`seek ${ms}`),
    play: () => sent.push('play'),
  }, { position: () => position, timers: time });
  const at = (ms) => { position = ms; };
  const commands = () => sent.filter((s) => s !== 'seeking');
  return { time, sent, reader, at, commands };
}

test('a click on the timeline of a playing video (pause, seeking, seeked, play) is one seek', () => {
  const { time, reader, at, commands } = controls();
  reader.paused();
  at(42_000);
  reader.seeking();
  time.advance(20);
  reader.seeked();
  time.advance(80);
  assert.ok(reader.active(), 'the page leaves the player alone while the mouse is pressed');
  reader.played();
  assert.deepEqual(commands(), ['seek 42000']);
  assert.equal(reader.active(), false);
  time.advance(20_000);
  assert.deepEqual(commands(), ['seek 42000'], 'nothing follows');
});

test('a quick tap, whose play overtakes the seek, is one seek too', () => {
  const { time, reader, at, commands } = controls();
  reader.paused();
  at(60_000);
  reader.seeking();
  time.advance(10);
  reader.played();
  assert.equal(reader.trailingSeeked(), true, 'the seek completing after playback resumed is the press\'s');
  assert.equal(reader.trailingSeeked(), false, 'and only that one');
  time.advance(20_000);
  assert.deepEqual(commands(), ['seek 60000']);
  at(5000);
  reader.seeking();
  reader.seeked();
  assert.deepEqual(commands(), ['seek 60000', 'seek 5000'], 'the next seek is the viewer\'s own again');
});

test('dragging the thumb of a playing video sends one seek, where it is let go', () => {
  const { time, reader, at, commands } = controls();
  reader.paused();
  for (const ms of [20_000, 30_000, 45_000, 62_000]) {
    at(ms);
    reader.seeking();
    time.advance(30);
    reader.seeked();
    time.advance(500);
  }
  time.advance(3000); // the mouse rests on the thumb, still pressed
  assert.deepEqual(commands(), []);
  reader.played();
  assert.deepEqual(commands(), ['seek 62000']);
});

test('the seeking of a press holds the page off, as any seek of the viewer does', () => {
  const { reader, at, sent } = controls();
  reader.paused();
  assert.deepEqual(sent, [], 'a held pause says nothing yet');
  at(5000);
  reader.seeking();
  assert.deepEqual(sent, ['seeking']);
});

test('a pause that no seek follows is sent once held, with the position it was made at', () => {
  const { time, reader, at, commands } = controls();
  at(12_345);
  reader.paused();
  at(12_400); // the element reports a little later
  time.advance(249);
  assert.deepEqual(commands(), []);
  assert.ok(reader.active());
  time.advance(1);
  assert.deepEqual(commands(), ['pause 12345']);
  assert.equal(reader.active(), false);
});

test('a pause and a play at once say nothing to the party', () => {
  const { time, reader, commands } = controls();
  reader.paused();
  time.advance(100);
  reader.played();
  time.advance(20_000);
  assert.deepEqual(commands(), []);
});

test('a press that never resumes playback ends as a seek and a pause', () => {
  const { time, reader, at, commands } = controls();
  reader.paused();
  at(33_000);
  reader.seeking();
  reader.seeked();
  time.advance(9_999);
  assert.deepEqual(commands(), []);
  time.advance(1);
  assert.deepEqual(commands(), ['seek 33000', 'pause 33000']);
  assert.equal(reader.active(), false);
});

test('a play with nothing under way is a play; seeks outside a press go as bursts', () => {
  const { time, reader, at, commands } = controls();
  reader.played();
  at(7000);
  reader.seeking();
  reader.seeked();
  assert.deepEqual(commands(), ['play', 'seek 7000'], 'a lone seek of a paused player goes at once');
  time.advance(1000);
  assert.deepEqual(commands(), ['play', 'seek 7000']);
});

test('a reset forgets a held pause and a press', () => {
  const { time, reader, commands } = controls();
  reader.paused();
  reader.reset();
  time.advance(20_000);
  reader.paused();
  reader.seeking();
  reader.reset();
  time.advance(20_000);
  assert.deepEqual(commands(), []);
  assert.equal(reader.active(), false);
});

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

test('a press whose seek the page aborts leaves no completion to wait for', () => {
  const { reader, at, commands } = controls();
  reader.paused();
  at(40_000);
  reader.seeking();
  reader.played();
  reader.seekAborted(); // the page seeks while the press's seek is under way
  assert.equal(reader.trailingSeeked(), false);
  assert.deepEqual(commands(), ['seek 40000']);
});
