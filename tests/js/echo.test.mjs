// Echo suppression: the page's own play, pause, seek and rate changes are not commands.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EchoGuard } from '../../static/js/players/echo.js';

function guard() {
  let t = 0;
  const g = new EchoGuard(() => t);
  return { g, advance: (ms) => { t += ms; } };
}

test("the page's own play and pause are echoes, the viewer's are commands", () => {
  const { g } = guard();
  g.willPlay();
  assert.equal(g.observePlay(), 'echo');
  assert.equal(g.observePause(), 'user', 'nobody asked for this pause');
  assert.equal(g.observePlay(), 'user', 'nor for this play');
  g.willPause();
  assert.equal(g.observePause(), 'echo');
});

test('a repeated event for the same user action is not sent twice', () => {
  const { g } = guard();
  assert.equal(g.observePlay(), 'user');
  assert.equal(g.observePlay(), 'echo');
});

test('the pause at the end of the media is neither an echo nor a command', () => {
  const { g } = guard();
  g.willPlay();
  g.observePlay();
  assert.equal(g.observePause({ natural: true }), 'ignore');
  assert.equal(g.observePause(), 'echo', 'afterwards the player is known to be paused');
});

test("the page's own seek is recognised by its target", () => {
  const { g, advance } = guard();
  g.willSeek(30_000);
  assert.equal(g.seekPending(), true);
  assert.equal(g.observeSeeking(30_000), 'echo');
  advance(120);
  assert.equal(g.observeSeeked(30_010), 'echo');
  assert.equal(g.seekPending(), false);
});

test('a seek elsewhere while the page is seeking is the viewer’s', () => {
  const { g, advance } = guard();
  g.willSeek(30_000);
  advance(150);
  assert.equal(g.observeSeeking(75_000), 'user');
  assert.equal(g.observeSeeked(75_000), 'user');
  assert.equal(g.seekPending(), true, "the page's own seek is still awaited");
});

test('any seek is the viewer’s when the page did not seek', () => {
  const { g } = guard();
  assert.equal(g.observeSeeking(30_000), 'user');
  assert.equal(g.observeSeeked(30_000), 'user');
});

test('a seek that never completes is forgotten, so later seeks are not mistaken for it', () => {
  const { g, advance } = guard();
  g.willSeek(10_000);
  advance(6000);
  assert.equal(g.seekPending(), false);
  assert.equal(g.observeSeeked(10_000), 'user');
});

test('a rate the page set is an echo; another rate is the viewer’s choice', () => {
  const { g } = guard();
  g.willSetRate(1.037);
  assert.equal(g.observeRate(1.037), 'echo');
  assert.equal(g.observeRate(1.5), 'user');
  assert.equal(g.observeRate(1.5), 'echo', 'the same change reported twice is sent once');
});

test('a seek the browser moved (unseekable target) is still the page’s, and completes', () => {
  const { g, advance } = guard();
  g.willSeek(30_000);
  advance(5);
  assert.equal(g.observeSeeking(0), 'echo');
  advance(40);
  assert.equal(g.observeSeeked(0), 'echo');
});

test('a seek noticed late by polling still matches once playback since is allowed for', () => {
  const { g, advance } = guard();
  g.willSeek(30_000);
  advance(900);
  assert.equal(g.observeSeeked(30_800), 'user', 'without the allowance it looks like a jump');
  assert.equal(g.observeSeeked(30_800, { aheadMs: 900 }), 'echo');
});

test('loading other media stops playback, resets the rate and ends any seek: none of it is the viewer', () => {
  const { g } = guard();
  g.willPlay();
  g.willSetRate(1.5);
  g.willSeek(40_000);
  g.willLoad(1);
  assert.equal(g.observePause(), 'echo', 'the element stops as it loads');
  assert.equal(g.observeRate(1), 'echo', 'the rate falls back to the default');
  assert.equal(g.seekPending(), false);
  assert.equal(g.observeSeeking(0), 'user', 'a seek from here on is someone\'s');
});

test('a play of the page overtaken at once by its own pause stays the page’s when reported late', () => {
  const { g, advance } = guard();
  g.willPlay(); // a scheduled start begins…
  advance(5);
  g.willPause(); // …and the party pauses to wait for a viewer before the player reports it
  advance(5);
  assert.equal(g.observePlay(), 'echo');
  assert.equal(g.observePause(), 'echo');
  assert.equal(g.observePlay(), 'user', 'a later play of the viewer is theirs');
});

test('a pause of the page overtaken at once by its own play stays the page’s when reported late', () => {
  const { g, advance } = guard();
  g.willPlay();
  g.observePlay();
  g.willPause();
  advance(10);
  g.willPlay();
  advance(10);
  assert.equal(g.observePause(), 'echo');
  assert.equal(g.observePlay(), 'echo');
  assert.equal(g.observePause(), 'user', 'a later pause of the viewer is theirs');
});

test('a change reported long after the page asked for the opposite is the viewer’s', () => {
  const { g, advance } = guard();
  g.willPlay();
  g.willPause();
  advance(1000);
  assert.equal(g.observePlay(), 'user');
});

test('after a refused play the viewer’s own play is theirs at once', () => {
  const { g, advance } = guard();
  g.willPlay();
  g.playRefused();
  advance(20);
  assert.equal(g.observePlay(), 'user');
});

test('changes the player is known to report stay the page’s however late they come', () => {
  const { g, advance } = guard();
  g.willPlay({ reported: true }); // a scheduled start begins…
  g.willPause({ reported: true }); // …the party pauses at once…
  advance(4000); // …and the whole browser freezes before the player reports either
  assert.equal(g.observePlay(), 'echo');
  assert.equal(g.observePause(), 'echo');
  assert.equal(g.observePlay(), 'user', 'a later play of the viewer is theirs');
  g.willPause({ reported: true });
  advance(4000);
  assert.equal(g.observePause(), 'echo');
});

test('a viewer’s change between the page’s own and its report is still the viewer’s', () => {
  const { g, advance } = guard();
  g.willPlay({ reported: true });
  advance(1000);
  assert.equal(g.observePlay(), 'echo', 'the page’s start');
  assert.equal(g.observePause(), 'user', 'the viewer paused before the report came');
});

test('a refused play that was to be reported leaves nothing due; loading drops what was', () => {
  const { g } = guard();
  g.willPlay({ reported: true });
  g.playRefused({ reported: true });
  assert.equal(g.observePlay(), 'user', 'the viewer’s own play after the refusal');
  g.willPause({ reported: true });
  g.willLoad(1);
  assert.equal(g.observePause(), 'echo', 'loading stops the element');
  g.observePlay();
  assert.equal(g.observePause(), 'user', 'nothing of the page’s is due any more');
});
