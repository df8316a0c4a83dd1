// The viewer list entries: connection counts, the viewer themself, names kept as text.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeViewer, leftBehindNotice, renderViewers, waitingNotice } from '../../static/js/presence.js';
import { FakeDocument } from './fakes.mjs';

test('one connection shows no count; several show ×N', () => {
  assert.equal(describeViewer({ user_id: 1, name: 'Ana', connections: 1, status: 'watching' }).connections, '');
  assert.equal(describeViewer({ user_id: 1, name: 'Ana', connections: 3, status: 'watching' }).connections, '×3');
});

test('the viewer themself is marked, by id', () => {
  assert.equal(describeViewer({ user_id: 7, name: 'Bo', connections: 1, status: 'watching' }, '7').you, true);
  assert.equal(describeViewer({ user_id: 8, name: 'Bo', connections: 1, status: 'watching' }, '7').you, false);
});

test('names are carried as they are, to be set as text', () => {
  const d = describeViewer({ user_id: 2, name: '<img src=x onerror=alert(1)>', connections: 1, status: 'buffering' });
  assert.equal(d.name, '<img src=x onerror=alert(1)>');
  assert.equal(d.status, 'loading…');
  assert.equal(d.buffering, true);
});

const perms = { mode: 'promoted', owner_id: 1, controllers: [2] };

test('the host and the viewers they promoted are marked', () => {
  const owner = describeViewer({ user_id: 1, name: 'Ana', connections: 1, status: 'watching' }, 3, perms);
  const promoted = describeViewer({ user_id: 2, name: 'Bo', connections: 1, status: 'watching' }, 3, perms);
  const other = describeViewer({ user_id: 3, name: 'Cy', connections: 1, status: 'watching' }, 3, perms);
  assert.deepEqual([owner.owner, owner.controller], [true, false]);
  assert.deepEqual([promoted.owner, promoted.controller], [false, true]);
  assert.deepEqual([other.owner, other.controller], [false, false]);
});

test('the host sees Promote or Demote for everyone else; others see neither', () => {
  const viewers = [1, 2, 3].map((id) => ({ user_id: id, name: `V${id}`, connections: 1, status: 'watching' }));
  assert.deepEqual(viewers.map((v) => describeViewer(v, 1, perms).promotion), [null, 'demote', 'promote']);
  assert.deepEqual(viewers.map((v) => describeViewer(v, 2, perms).promotion), [null, null, null]);
});

test('the rendered list marks controllers and gives the host one button per other viewer', () => {
  const list = new FakeDocument().createElement('ul');
  const viewers = [1, 2, 3].map((id) => ({ user_id: id, name: `V${id}`, connections: 1, status: 'watching' }));
  renderViewers(list, viewers, '1', perms);
  const items = list.querySelectorAll('li.viewer');
  assert.equal(items.length, 3);
  assert.deepEqual(items.map((li) => li.classList.contains('viewer-controller')), [false, true, false]);
  const buttons = list.querySelectorAll('button.promote');
  assert.deepEqual(buttons.map((b) => [b.dataset.userId, b.dataset.action, b.textContent]),
    [['2', 'demote', 'Demote'], ['3', 'promote', 'Promote']]);
});

test('each status reads as words, with its own badge', () => {
  const read = (status) => {
    const d = describeViewer({ user_id: 1, name: 'Ana', connections: 1, status });
    return [d.status, d.tone];
  };
  assert.deepEqual(read('watching'), ['watching', 'text-bg-secondary']);
  assert.deepEqual(read('out_of_sync'), ['out of sync', 'text-bg-warning']);
  assert.deepEqual(read('buffering'), ['loading…', 'text-bg-info']);
  assert.deepEqual(read('left_behind'), ['left behind (still loading)', 'text-bg-danger']);
  assert.deepEqual(read('away'), ['away (no connection)', 'text-bg-dark']);
  assert.deepEqual(read('dozing'), ['dozing', 'text-bg-secondary'], 'a status from a newer server shows as it is');
  assert.deepEqual(read('constructor'), ['constructor', 'text-bg-secondary']);
});

test('the rendered entries carry their status as a class and a badge', () => {
  const list = new FakeDocument().createElement('ul');
  const statuses = ['watching', 'out_of_sync', 'buffering', 'left_behind'];
  renderViewers(list, statuses.map((status, i) => ({ user_id: i, name: `V${i}`, connections: 1, status })), '0');
  const items = list.querySelectorAll('li.viewer');
  assert.deepEqual(items.map((li) => statuses.find((s) => li.classList.contains(`viewer-${s.replaceAll('_', '-')}`))), statuses);
  assert.deepEqual(list.querySelectorAll('span.viewer-status').map((b) => b.textContent),
    ['watching', 'out of sync', 'loading…', 'left behind (still loading)']);
});

test('the waiting notice names who is loading', () => {
  const v = (id, name, status = 'buffering') => ({ user_id: id, name, connections: 1, status });
  assert.equal(waitingNotice([v(1, 'Ana'), v(2, 'Bo', 'watching')], 2), 'Waiting for Ana to load…');
  assert.equal(waitingNotice([v(1, 'Ana'), v(2, 'Bo')], '2'), 'Waiting for Ana and you to load…');
  assert.equal(waitingNotice([v(2, 'Bo')], 2), 'Waiting for you to load…');
  assert.equal(waitingNotice([v(1, 'Ana'), v(3, 'Cy'), v(4, 'Di')], 2), 'Waiting for Ana, Cy and Di to load…');
  assert.equal(waitingNotice([v(1, 'Ana'), v(3, 'Cy'), v(4, 'Di'), v(5, 'Ed')], 2), 'Waiting for Ana, Cy and 2 others to load…');
  assert.equal(waitingNotice([v(1, 'Ana', 'left_behind'), v(2, 'Bo', 'out_of_sync')], 2), 'Waiting for everyone to be ready…',
    'the list may not have caught up with the party yet');
  assert.equal(waitingNotice(null, 2), 'Waiting for everyone to be ready…');
});

test('names in the waiting notice stay text', () => {
  const text = waitingNotice([{ user_id: 1, name: '<img src=x onerror=alert(1)>', connections: 1, status: 'buffering' }], 2);
  assert.equal(text, 'Waiting for <img src=x onerror=alert(1)> to load…');
});

test('a viewer who follows the party shows as playing or paused with it; others keep their status', () => {
  const d = (status, paused) => describeViewer({ user_id: 1, name: 'Ana', connections: 1, status }, 2, null, paused).status;
  assert.equal(d('watching', false), 'playing');
  assert.equal(d('watching', true), 'paused');
  assert.equal(d('watching', null), 'watching', 'before the party state is known');
  assert.equal(d('buffering', false), 'loading…');
  assert.equal(d('away', true), 'away (no connection)');
});

test('the waiting notice names whoever made the party wait when the list names nobody yet', () => {
  const watching = [{ user_id: 1, name: 'Ana', connections: 1, status: 'watching' }];
  assert.equal(waitingNotice(watching, 2, 'Bo'), 'Waiting for Bo to load…');
  assert.equal(waitingNotice([{ user_id: 3, name: 'Cy', connections: 1, status: 'buffering' }], 2, 'Bo'),
    'Waiting for Cy to load…', 'the list, once it knows');
  assert.equal(waitingNotice([], 2, ''), 'Waiting for everyone to be ready…');
});

test('a viewer left behind is told so on their own page', () => {
  const list = (status) => [{ user_id: 1, name: 'Ana', connections: 1, status: 'watching' },
    { user_id: 2, name: 'Bo', connections: 1, status }];
  assert.match(leftBehindNotice(list('left_behind'), '2'), /goes on without you/);
  assert.equal(leftBehindNotice(list('left_behind'), 1), null, 'only the viewer left behind');
  assert.equal(leftBehindNotice(list('buffering'), 2), null);
  assert.equal(leftBehindNotice(null, 2), null);
});
