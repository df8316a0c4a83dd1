// Playlist parties: the current item, the item list, and when a viewer reports an item's end.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EndedReporter, PlaylistPanel, UnplayableReporter, currentItem, itemIdOf, nextItem, renderPlaylist } from '../../static/js/playlist.js';
import { FakeDocument } from './fakes.mjs';

const item = (id, title = `Item ${id}`) => ({ id, kind: 'file', source: `/m${id}.webm`, title, start_ms: 0 });
const playlist = { id: 1, title: 'Evening', items: [item(4), item(9), item(2)] };

test('the state names the current item as item:{id}', () => {
  assert.equal(itemIdOf('item:9'), 9);
  for (const media of ['', 'video:9', 'item:', 'item:9x', null, undefined]) assert.equal(itemIdOf(media), null, String(media));
  assert.equal(currentItem(playlist, 'item:9').id, 9);
  assert.equal(currentItem(playlist, 'item:5'), null, 'removed, or not yet in the playlist held');
  assert.equal(currentItem(playlist, ''), null, 'the playlist is empty');
  assert.equal(currentItem(null, 'item:9'), null);
});

test('the next item follows the playlist order, not the ids', () => {
  assert.equal(nextItem(playlist, 'item:4').id, 9);
  assert.equal(nextItem(playlist, 'item:9').id, 2);
  assert.equal(nextItem(playlist, 'item:2'), null);
  assert.equal(nextItem(playlist, 'item:7'), null);
});

const NOW = 1_700_000_000_000;
/** A state that started playing `sinceMs` ago from 0, on an item lasting `durationMs`. */
const playing = ({ sinceMs, durationMs = 30_000, seq = 3, media = 'item:4', paused = false }) => ({
  seq, media, paused, position_ms: 0, anchor_ms: NOW - sinceMs, rate: 1, duration_ms: durationMs, updated_by: '',
});

test('an item is reported ended when the player ended and the timeline agrees', () => {
  const r = new EndedReporter();
  assert.equal(r.due({ state: playing({ sinceMs: 29_500 }), serverNowMs: NOW, playerEnded: true }), 4);
});

test('a player that ended well before the timeline waits for it', () => {
  const r = new EndedReporter();
  assert.equal(r.due({ state: playing({ sinceMs: 25_000 }), serverNowMs: NOW, playerEnded: true }), null);
  assert.equal(r.due({ state: playing({ sinceMs: 29_000 }), serverNowMs: NOW, playerEnded: false }), null);
});

test('the timeline reaching the end is enough, even if this player never got there', () => {
  const r = new EndedReporter();
  assert.equal(r.due({ state: playing({ sinceMs: 31_000 }), serverNowMs: NOW, playerEnded: false }), 4);
});

test('an item is reported once per state, and again after the party went back into it', () => {
  const r = new EndedReporter();
  const state = playing({ sinceMs: 31_000 });
  assert.equal(r.due({ state, serverNowMs: NOW, playerEnded: true }), 4);
  r.sent(state);
  assert.equal(r.due({ state, serverNowMs: NOW + 1000, playerEnded: true }), null);
  const replayed = playing({ sinceMs: 31_000, seq: 5 });
  assert.equal(r.due({ state: replayed, serverNowMs: NOW, playerEnded: true }), 4);
});

test('an unsent report is tried again on the next look', () => {
  const r = new EndedReporter();
  const state = playing({ sinceMs: 31_000 });
  assert.equal(r.due({ state, serverNowMs: NOW, playerEnded: true }), 4);
  assert.equal(r.due({ state, serverNowMs: NOW + 200, playerEnded: true }), 4, 'sent() was never called');
});

test('nothing is reported while paused, before the duration is known, or outside a playlist', () => {
  const r = new EndedReporter();
  const cases = [
    playing({ sinceMs: 31_000, paused: true }),
    playing({ sinceMs: 31_000, durationMs: null }),
    playing({ sinceMs: 31_000, media: '' }),
    playing({ sinceMs: 31_000, media: 'video:4' }),
    null,
  ];
  for (const state of cases) assert.equal(r.due({ state, serverNowMs: NOW, playerEnded: true }), null, JSON.stringify(state));
  assert.equal(r.due({ state: playing({ sinceMs: 31_000 }), serverNowMs: null, playerEnded: true }), null, 'no clock yet');
});

function rendered(media, canControl) {
  const list = new FakeDocument().createElement('ol');
  renderPlaylist(list, playlist, media, { canControl });
  return list;
}

test('the list shows every item in order and marks the current one', () => {
  const list = rendered('item:9', true);
  const items = list.querySelectorAll('li.playlist-item');
  assert.deepEqual(items.map((li) => li.dataset.itemId), ['4', '9', '2']);
  assert.deepEqual(items.map((li) => li.classList.contains('active')), [false, true, false]);
  assert.deepEqual(list.querySelectorAll('button.jump').map((b) => b.dataset.itemId), ['4', '9', '2']);
});

test('viewers who may not control get no jump buttons', () => {
  assert.equal(rendered('item:9', false).querySelectorAll('button.jump').length, 0);
});

test('titles are shown as text', () => {
  const list = new FakeDocument().createElement('ol');
  renderPlaylist(list, { items: [item(1, '<script>alert(1)</script>')] }, 'item:1', { canControl: false });
  assert.equal(list.querySelectorAll('span.playlist-title')[0].textContent, '<script>alert(1)</script>');
});

function playlistPanel() {
  const doc = new FakeDocument();
  const parts = { list: doc.createElement('ol'), skip: doc.createElement('button'), skipHint: doc.createElement('span'),
    nowPlaying: doc.createElement('span') };
  const asked = [];
  const panel = new PlaylistPanel({ ...parts, onSkip: () => asked.push('skip'), onJump: (id) => asked.push(['jump', id]) });
  return { panel, asked, ...parts };
}

test('the panel names the current item and offers skip only while there is a next one', () => {
  const { panel, skip, nowPlaying } = playlistPanel();
  panel.show(playlist, 'item:4', { canControl: true });
  assert.equal(nowPlaying.textContent, 'Now playing: Item 4');
  assert.deepEqual([skip.classList.contains('d-none'), skip.disabled], [false, false]);
  panel.show(playlist, 'item:2', { canControl: true });
  assert.equal(skip.disabled, true, 'the last item');
  panel.show(playlist, 'item:4', { canControl: false });
  assert.equal(skip.classList.contains('d-none'), true);
  panel.show({ items: [] }, '', { canControl: true });
  assert.deepEqual([nowPlaying.textContent, skip.classList.contains('d-none')], ['', true]);
});

test('on the last item the panel says why skip is off', () => {
  const { panel, skip, skipHint } = playlistPanel();
  const shown = () => [!skip.classList.contains('d-none'), skip.disabled, !skipHint.classList.contains('d-none')];
  panel.show(playlist, 'item:4', { canControl: true });
  assert.deepEqual(shown(), [true, false, false], 'a next item: skip works, nothing to explain');
  panel.show(playlist, 'item:2', { canControl: true });
  assert.deepEqual(shown(), [true, true, true], 'the last item: skip is off and the hint says why');
  panel.show(playlist, 'item:2', { canControl: false });
  assert.deepEqual(shown(), [false, true, false], 'no skip offered, nothing to explain');
});

test('jump and skip buttons ask for the item by its id', () => {
  const { panel, asked, list, skip } = playlistPanel();
  panel.show(playlist, 'item:4', { canControl: true });
  list.querySelectorAll('button.jump')[2].click();
  skip.click();
  assert.deepEqual(asked, [['jump', 2], 'skip']);
});

test('a viewer reports an item it cannot play once per connection, while the party plays it', () => {
  const r = new UnplayableReporter();
  const state = { seq: 3, media: 'item:7', paused: true };
  assert.equal(r.due(state), null, 'nothing failed');
  r.failed('item:7', 'embed_refused');
  assert.deepEqual(r.due(state), { item_id: 7, reason: 'embed_refused' });
  r.sent();
  assert.equal(r.due({ ...state, seq: 4 }), null, 'once is enough');
  r.connected();
  assert.deepEqual(r.due(state), { item_id: 7, reason: 'embed_refused' }, 'a new connection reports again');
  r.sent();
  assert.equal(r.due({ seq: 5, media: 'item:8' }), null, 'never about another item');
});

test('someone leaving calls for another report; someone arriving does not', () => {
  const r = new UnplayableReporter();
  const state = { seq: 3, media: 'item:7' };
  r.viewers([{ user_id: 1, connections: 1 }, { user_id: 2, connections: 2 }]);
  r.failed('item:7', 'unreachable');
  r.sent();
  r.viewers([{ user_id: 1, connections: 1 }, { user_id: 2, connections: 2 }, { user_id: 3, connections: 1 }]);
  assert.equal(r.due(state), null);
  r.viewers([{ user_id: 1, connections: 1 }, { user_id: 2, connections: 1 }]);
  assert.deepEqual(r.due(state), { item_id: 7, reason: 'unreachable' });
});

test('other media in the player forgets the failure', () => {
  const r = new UnplayableReporter();
  r.failed('item:7', 'not_found');
  r.forget();
  assert.equal(r.due({ seq: 9, media: 'item:7' }), null);
});
