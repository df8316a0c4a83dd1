// How a browser plays an HLS stream, and what a fatal hls.js error means for the viewer.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fatalOutcome, hlsRoute, hlsSupport } from '../../static/js/players/hls-stream.js';

test('Media Source Extensions come first, the browser\'s own HLS second, else nothing plays', () => {
  assert.equal(hlsRoute({ mediaSource: true, native: false }), 'hls.js');
  assert.equal(hlsRoute({ mediaSource: true, native: true }), 'hls.js', 'every browser seeks and reports alike');
  assert.equal(hlsRoute({ mediaSource: false, native: true }), 'native');
  assert.equal(hlsRoute({ mediaSource: false, native: false }), null);
});

test('what a browser offers is read from its Media Source and its <video>', () => {
  const browser = (isTypeSupported, canPlayType) => ({
    MediaSource: { isTypeSupported },
    document: { createElement: () => ({ canPlayType }) },
  });
  assert.deepEqual(hlsSupport(browser(() => true, () => '')), { mediaSource: true, native: false });
  assert.deepEqual(hlsSupport(browser(() => false, () => 'maybe')), { mediaSource: false, native: true });
  assert.deepEqual(hlsSupport({}), { mediaSource: false, native: false }, 'no Media Source, no document');
  const iphone = { ManagedMediaSource: { isTypeSupported: () => true }, document: browser(null, () => '').document };
  assert.equal(hlsSupport(iphone).mediaSource, true, 'Safari\'s ManagedMediaSource counts');
});

test('a media error is retried once; a network error and a second media error end the stream', () => {
  assert.deepEqual(fatalOutcome({ type: 'mediaError', details: 'bufferAppendError' }, 0), { action: 'recover' });
  const again = fatalOutcome({ type: 'mediaError', details: 'bufferAppendError' }, 1);
  assert.equal(again.action, 'fail');
  assert.match(again.message, /could not be decoded/);
  const playlist = fatalOutcome({ type: 'networkError', details: 'manifestLoadError' }, 0);
  assert.equal(playlist.action, 'fail');
  assert.match(playlist.message, /playlist \(\.m3u8\) did not answer/);
  assert.match(fatalOutcome({ type: 'networkError', details: 'fragLoadError' }, 0).message, /network failed/);
  assert.equal(fatalOutcome({ type: 'otherError', details: 'internalException' }, 0).action, 'fail');
});

test('each failure carries the reason the page reports to the party', () => {
  assert.equal(fatalOutcome({ type: 'networkError', details: 'manifestLoadError' }, 0).reason, 'unreachable');
  assert.equal(fatalOutcome({ type: 'mediaError', details: 'bufferAppendError' }, 1).reason, 'unsupported');
  assert.equal(fatalOutcome({ type: 'otherError', details: 'internalException' }, 0).reason, 'player_error');
});
