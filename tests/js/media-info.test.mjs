// When the page tells the server the media's duration.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DurationReport } from '../../static/js/media-info.js';

const state = (media, duration_ms = null) => ({ seq: 1, media, duration_ms });
const INFO = { duration_ms: 30_000 };

test('in a video party the duration is reported while the party lacks it, once per connection', () => {
  const r = new DurationReport();
  r.learned('video', INFO);
  assert.deepEqual(r.due('video', state('video:1')), INFO);
  r.sent('video');
  assert.equal(r.due('video', state('video:1')), null);
  r.connected();
  assert.deepEqual(r.due('video', state('video:1')), INFO, 'a new connection reports again');
  assert.equal(r.due('video', state('video:1', 30_000)), null, 'someone else already did');
});

test('in a playlist party every item is reported on every connection, known or not', () => {
  const r = new DurationReport({ everyMedia: true });
  r.learned('item:1', INFO);
  assert.deepEqual(r.due('item:1', state('item:1', 29_990)), INFO);
  r.sent('item:1');
  assert.equal(r.due('item:1', state('item:1', 29_990)), null);
  r.forget();
  r.learned('item:2', { duration_ms: 90_000 });
  assert.deepEqual(r.due('item:2', state('item:2', 90_000)), { duration_ms: 90_000 });
});

test("what the player learned about one item is never reported for another", () => {
  const r = new DurationReport({ everyMedia: true });
  r.learned('item:1', INFO);
  assert.equal(r.due('item:2', state('item:2')), null, 'the party moved on before the report');
  r.forget();
  assert.equal(r.due('item:1', state('item:1')), null, 'the next item is loading');
  assert.equal(r.due('item:1', null), null);
});
