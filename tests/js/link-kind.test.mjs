// Which player a link will get, as the add-video form says while it is typed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LINK_KINDS, linkKind, linkKindText } from '../../static/js/link-kind.js';

test('every kind of link is named by the player it will get', () => {
  const table = [
    ['https://www.youtube.com/watch?v=dQw4w9WgXcQ', 'youtube'],
    ['youtu.be/dQw4w9WgXcQ', 'youtube'],
    ['https://m.youtube.com/shorts/abcdefghijk', 'youtube'],
    ['https://music.youtube.com/watch?v=dQw4w9WgXcQ', 'youtube'],
    ['https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ', 'youtube'],
    ['https://cdn.example.com/films/night.mp4', 'file'],
    ['example.com/a/clip.WEBM?token=1', 'file'],
    ['http://example.com/sound.ogg', 'file'],
    ['https://example.com/v.m4v#t=12', 'file'],
    ['https://example.com/live/index.m3u8', 'hls'],
    ['http://127.0.0.1:8080/static/media/hls/sample-90s/index.m3u8', 'hls'],
    ['https://vimeo.com/12345', 'other'],
    ['https://example.com/page.html', 'other'],
    ['ftp://example.com/a.mp4', 'other'],
    ['not a link', 'other'],
  ];
  for (const [text, kind] of table) assert.equal(linkKind(text), kind, text);
});

test('nothing is said while there is nothing to judge', () => {
  for (const text of ['', '   ', 'h', 'https://', 'https://youtu']) assert.equal(linkKind(text), null, JSON.stringify(text));
  assert.equal(linkKindText(''), '');
});

test('the words name the player', () => {
  assert.equal(linkKindText('https://youtu.be/dQw4w9WgXcQ'), LINK_KINDS.youtube);
  assert.match(linkKindText('https://example.com/a.m3u8'), /HLS stream/);
  assert.match(linkKindText('https://example.com/a.mp4'), /Video file/);
});
