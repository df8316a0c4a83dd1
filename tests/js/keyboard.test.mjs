// Keyboard control: which key sends what, and when keys are left to the page and its fields.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyboardControl, keyCommand } from '../../static/js/keyboard.js';
import { FakeTime } from './fakes.mjs';

const body = { tagName: 'BODY' };
const key = (k, fields = {}) => ({ key: k, target: body, repeat: false, ...fields });
const party = (fields = {}) => ({ canControl: true, paused: true, positionMs: 30_000, durationMs: 90_000, seq: 4, ...fields });

test('Space plays a paused party and pauses a playing one where it is', () => {
  assert.deepEqual(keyCommand(' ', { paused: true, positionMs: 1234 }), { type: 'play' });
  assert.deepEqual(keyCommand(' ', { paused: false, positionMs: 1234.4 }), { type: 'pause', position_ms: 1234 });
});

test('the arrows seek 5 s, within the media', () => {
  const table = [
    // key, position, duration, target
    ['ArrowRight', 30_000, 90_000, 35_000],
    ['ArrowLeft', 30_000, 90_000, 25_000],
    ['ArrowLeft', 3000, 90_000, 0],
    ['ArrowRight', 88_000, 90_000, 90_000],
    ['ArrowRight', 88_000, null, 93_000],
  ];
  for (const [k, positionMs, durationMs, target] of table) {
    assert.deepEqual(keyCommand(k, { paused: true, positionMs, durationMs }), { type: 'seek', position_ms: target }, `${k} at ${positionMs}`);
  }
});

test('other keys are not playback keys', () => {
  for (const k of ['Enter', 'a', 'ArrowUp', 'k']) assert.equal(keyCommand(k, { paused: true, positionMs: 0 }), null, k);
});

test('keys typed into a field, select or editable text are left to it', () => {
  const keys = new KeyboardControl();
  for (const target of [{ tagName: 'INPUT' }, { tagName: 'textarea' }, { tagName: 'SELECT' }, { tagName: 'DIV', isContentEditable: true }]) {
    assert.equal(keys.handle(key(' ', { target }), party()), null, target.tagName);
    assert.equal(keys.handle(key('ArrowLeft', { target }), party()), null, target.tagName);
  }
});

test('a focused player keeps its own keys, so nothing happens twice', () => {
  const keys = new KeyboardControl();
  for (const k of [' ', 'ArrowLeft', 'ArrowRight']) assert.equal(keys.handle(key(k, { target: { tagName: 'VIDEO' } }), party()), null, k);
});

test('Space on a button presses the button, while the arrows still seek', () => {
  const keys = new KeyboardControl();
  const button = { tagName: 'BUTTON' };
  assert.equal(keys.handle(key(' ', { target: button }), party()), null);
  assert.equal(keys.handle(key('ArrowRight', { target: button }), party()).command.type, 'seek');
});

test('nothing happens for a viewer who may not control, without a state, or with a modifier', () => {
  const keys = new KeyboardControl();
  assert.equal(keys.handle(key(' '), party({ canControl: false })), null);
  assert.equal(keys.handle(key(' '), null), null);
  for (const mod of ['ctrlKey', 'altKey', 'metaKey', 'shiftKey']) {
    assert.equal(keys.handle(key('ArrowLeft', { [mod]: true }), party()), null, mod);
  }
  assert.equal(keys.handle(key(' ', { defaultPrevented: true }), party()), null);
});

test('a held Space toggles once; its repeats are swallowed so the page does not scroll', () => {
  const keys = new KeyboardControl();
  assert.deepEqual(keys.handle(key(' '), party()), { command: { type: 'play' } });
  assert.deepEqual(keys.handle(key(' ', { repeat: true }), party()), { command: null });
});

test('a held arrow seeks a few times a second, not at the keyboard repeat rate', () => {
  const time = new FakeTime(0);
  const keys = new KeyboardControl(time.now);
  const sent = [];
  keys.handle(key('ArrowRight'), party());
  for (let i = 0; i < 30; i++) { // a second of auto-repeat
    time.advance(33);
    const handled = keys.handle(key('ArrowRight', { repeat: true }), party());
    assert.ok(handled, 'every repeat is still the page\'s');
    if (handled.command) sent.push(handled.command.position_ms);
  }
  assert.ok(sent.length >= 3 && sent.length <= 4, `${sent.length} seeks`);
});

test('presses before the server answers add up; after its answer they start from the new state', () => {
  const time = new FakeTime(0);
  const keys = new KeyboardControl(time.now);
  const at = (positionMs, seq) => party({ positionMs, seq });
  assert.equal(keys.handle(key('ArrowRight'), at(30_000, 4)).command.position_ms, 35_000);
  time.advance(100);
  assert.equal(keys.handle(key('ArrowRight'), at(30_000, 4)).command.position_ms, 40_000);
  time.advance(100);
  assert.equal(keys.handle(key('ArrowLeft'), at(30_000, 4)).command.position_ms, 35_000);
  time.advance(100);
  // The answer (seq 5) has the party at 36 s by now.
  assert.equal(keys.handle(key('ArrowRight'), at(36_000, 5)).command.position_ms, 41_000);
  time.advance(5000);
  // A press long after, with no answer (that seek was refused), starts from where the party is.
  assert.equal(keys.handle(key('ArrowRight'), at(36_000, 5)).command.position_ms, 41_000);
});
