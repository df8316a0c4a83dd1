// The viewer list entries: connection counts, the viewer themself, names kept as text.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeViewer } from '../../static/js/presence.js';

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
  assert.equal(d.status, 'buffering');
  assert.equal(d.buffering, true);
});
