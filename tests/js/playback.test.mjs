// Playback control with a simulated player and clock: states applied, starts on time, drift, commands.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Playback, TICK_MS } from '../../static/js/playback.js';
import { ClockSync } from '../../static/js/clock.js';
import { FakeTime } from './fakes.mjs';

const SKEW = 1_700_000_000_000; // server time − local time

/**
 * A simulated media element: moves at its rate while playing; a seek takes `seekMs`, after
 * which it has data to play from `dataMs` later, and play() takes `startMs` before the
 * position moves.
 */
class FakePlayer {
  constructor(time, { seekMs = 0, dataMs = 0, startMs = 0, blocked = false, drift = 1 } = {}) {
    Object.assign(this, { time, seekMs, dataMs, startMs, blocked, drift });
    this.pos = 0;
    this.isPaused = true;
    this.r = 1;
    this.seekUntil = 0;
    this.startUntil = 0;
    this.lastAt = time.now();
    this.calls = [];
  }

  update() {
    const t = this.time.now();
    const from = Math.min(t, Math.max(this.lastAt, this.seekUntil, this.startUntil));
    // `drift` models a media clock that runs slightly off, as real decoders do.
    if (!this.isPaused) this.pos += (t - from) * this.r * this.drift;
    this.lastAt = t;
  }

  positionMs() { this.update(); return this.pos; }
  paused() { return this.isPaused; }
  ended() { return false; }
  seeking() { return this.time.now() < this.seekUntil; }
  canPlay() { return this.time.now() >= this.seekUntil + this.dataMs; }
  holds(ms) { return Boolean(this.held) && ms >= this.held[0] && ms <= this.held[1]; }
  rate() { return this.r; }
  play() {
    this.update();
    this.calls.push('play');
    if (this.blocked) return Promise.reject(Object.assign(new Error('blocked'), { name: 'NotAllowedError' }));
    if (this.isPaused) this.startUntil = this.time.now() + this.startMs;
    this.isPaused = false;
    return Promise.resolve();
  }
  pause() { this.update(); this.calls.push('pause'); this.isPaused = true; }
  seek(ms) { this.update(); this.calls.push(['seek', Math.round(ms)]); this.pos = ms; this.seekUntil = this.time.now() + this.seekMs; }
  setRate(r) { this.update(); this.r = r; }
  driftPolicy() { return {}; }
  snapRate(r) { return r; }
}

function setup(playerOptions = {}, { canControl = true, sendOk = true } = {}) {
  const time = new FakeTime(0);
  const clock = new ClockSync({ now: time.now });
  clock.record(0, SKEW, 0);
  const player = new FakePlayer(time, playerOptions);
  const sent = [];
  const events = { blocked: [], notices: [], sync: null };
  const playback = new Playback({
    player, clock, timers: time,
    send: (type, fields) => { if (sendOk) sent.push({ type, ...fields }); return sendOk; },
    onBlocked: (b) => events.blocked.push(b),
    onNotice: (n) => events.notices.push(n),
    onSync: (s) => { events.sync = s; },
  });
  playback.setCanControl(canControl);
  playback.setPlayerReady();
  // The page's loop: one tick every TICK_MS.
  const loop = () => { playback.tick(); time.setTimeout(loop, TICK_MS); };
  time.setTimeout(loop, TICK_MS);
  const serverNow = () => time.now() + SKEW;
  const state = (fields) => ({ seq: 1, media: 'video:1', paused: true, position_ms: 0, anchor_ms: serverNow(),
    rate: 1, duration_ms: 600_000, updated_by: '', ...fields });
  return { time, player, playback, sent, events, serverNow, state };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

test('a paused state puts the player, paused, at its position', () => {
  const { player, playback, time, events, state } = setup();
  playback.setState(state({ position_ms: 42_000 }));
  time.advance(1000);
  assert.equal(player.paused(), true);
  assert.equal(player.positionMs(), 42_000);
  assert.deepEqual(player.calls, [['seek', 42_000]]);
  assert.equal(events.sync.inSync, true);
});

test('while a seek is under way the page reports syncing, not a stale figure', () => {
  const { playback, time, events, state } = setup({ seekMs: 5000 });
  playback.setState(state({ position_ms: 42_000 }));
  time.advance(1000);
  assert.equal(events.sync.errorMs, null);
  assert.equal(events.sync.inSync, false);
  time.advance(5000);
  assert.equal(events.sync.inSync, true, 'in sync once the seek lands');
});

test('a scheduled play starts on its anchor, not on the next tick, play() begun early by what it takes', () => {
  const { player, playback, time, serverNow, state } = setup({ startMs: 80 }); // as the prior assumes
  const anchor = serverNow() + 330;
  playback.setState(state({ paused: false, position_ms: 5000, anchor_ms: anchor }));
  time.advance(240);
  assert.equal(player.paused(), true, 'waits before the anchor');
  assert.equal(player.positionMs(), 5000);
  time.advance(20);
  assert.equal(player.paused(), false, 'play() is called 80 ms ahead of the anchor');
  assert.deepEqual(player.calls, [['seek', 5000], 'play'], 'no seek at the start: it waits at the start position');
  time.advance(70);
  assert.equal(player.positionMs(), 5000, 'and moves only on the anchor');
  time.advance(2000);
  assert.ok(Math.abs(playback.errorMs()) < 2, `error ${playback.errorMs()}`);
});

test('a start begun early is not paused again when the clock estimate moves the anchor back out of reach', () => {
  const { player, playback, time, serverNow, state } = setup({ startMs: 80 });
  playback.setState(state({ paused: false, position_ms: 5000, anchor_ms: serverNow() + 100 }));
  time.advance(30);
  assert.equal(player.paused(), false, 'begun 70 ms ahead');
  playback.clock.record(time.now(), time.now() + SKEW - 40, time.now()); // the server clock now reads 40 ms earlier
  playback.tick();
  assert.deepEqual(player.calls.filter((c) => c === 'pause'), [], 'no pause: the page would flip its own player');
});

test('the start latency is learned from scheduled starts, so later ones land on the anchor', async () => {
  const { player, playback, time, serverNow, state } = setup({ startMs: 150 });
  const starts = [];
  for (let i = 0; i < 8; i++) {
    const position = i * 10_000;
    playback.setState(state({ seq: 2 * i + 1, paused: true, position_ms: position }));
    await flush(); // the previous play() has resolved
    time.advance(1000);
    const anchor = serverNow() + 400;
    playback.setState(state({ seq: 2 * i + 2, paused: false, position_ms: position, anchor_ms: anchor }));
    time.advance(400 + 160); // past the anchor and the player's start
    starts.push(Math.round(playback.errorMs()));
    time.advance(1000);
  }
  assert.ok(starts[0] <= -60, `the first start is late by what play() takes beyond the prior: ${starts}`);
  assert.ok(Math.abs(starts.at(-1)) <= 10, `later starts land on the anchor: ${starts}`);
  assert.ok(Math.abs(playback.startLatency.estimate() - 150) <= 10, `estimate ${playback.startLatency.estimate()}`);
  // One for each paused position after the first (0, where it already is); none to catch up.
  assert.equal(player.calls.filter((c) => c[0] === 'seek').length, 7);
});

test('a viewer joining a party in progress is cued: moved, paused, to where the party will be, and started on that instant', () => {
  const { player, playback, time, serverNow, state } = setup({ seekMs: 80, startMs: 80 });
  playback.setState(state({ paused: false, position_ms: 1000, anchor_ms: serverNow() - 60_000 }));
  // The priors: ready to play 250 ms after the seek, 100 ms to spare, play() takes 80 ms.
  assert.deepEqual(player.calls, [['seek', 61_430]], 'moved, paused, to where the party will be 430 ms from now');
  assert.equal(player.paused(), true);
  time.advance(349);
  assert.deepEqual(player.calls, [['seek', 61_430]], 'waits there');
  time.advance(2);
  assert.deepEqual(player.calls, [['seek', 61_430], 'play'], 'play() is begun 80 ms ahead of the instant');
  time.advance(79);
  assert.equal(player.positionMs(), 61_430, 'and the player moves on the instant');
  time.advance(1000);
  assert.ok(Math.abs(playback.errorMs()) <= 2, `error ${playback.errorMs()}`);
  assert.equal(player.calls.filter((c) => c[0] === 'seek').length, 1, 'one seek');
});

test('a cue into media the player holds already (served starting near there) is a short hop', () => {
  const { player, playback, time, serverNow, state } = setup({ seekMs: 30, startMs: 80 });
  player.held = [60_000, 90_000];
  playback.setState(state({ paused: false, position_ms: 1000, anchor_ms: serverNow() - 60_000 }));
  assert.deepEqual(player.calls, [['seek', 61_240]], 'ready 60 ms after the seek, 100 to spare, 80 for play()');
  time.advance(1000);
  assert.equal(player.paused(), false);
  assert.ok(Math.abs(playback.errorMs()) <= 2, `error ${playback.errorMs()}`);
});

test('a cued player not ready on its instant is held there until it is, then cued again a short hop ahead', () => {
  const { player, playback, time, serverNow, state } = setup({ seekMs: 100, dataMs: 600, startMs: 80 });
  playback.setState(state({ paused: false, position_ms: 1000, anchor_ms: serverNow() - 60_000 }));
  const seeks = () => player.calls.filter((c) => c[0] === 'seek').map((c) => c[1]);
  time.advance(600); // the instant has passed: the seek is done, the data not there yet
  assert.equal(player.paused(), true, 'not started without data');
  assert.deepEqual(seeks(), [61_430], 'held where it is: the data is on its way');
  time.advance(110); // the data is there (at 700 ms): cued again, 60 + 100 + 80 ms ahead
  assert.deepEqual(seeks(), [61_430, 61_700 + 240]);
  player.dataMs = 0; // a short hop within what it has
  time.advance(2000);
  assert.equal(player.paused(), false);
  assert.ok(Math.abs(playback.errorMs()) <= 2, `error ${playback.errorMs()}`);
  assert.equal(seeks().length, 2);
});

test('a cued player learns how long it takes to be ready, and cues further ahead the next time', async () => {
  const { player, playback, time, serverNow, state } = setup({ seekMs: 600, startMs: 80 });
  playback.setState(state({ paused: false, position_ms: 1000, anchor_ms: serverNow() - 60_000 }));
  const firstLead = playback.cue.state.anchor_ms - serverNow();
  time.advance(590);
  player.seekMs = 20; // once the first seek has fetched the media, seeks there are quick
  time.advance(2000);
  await flush(); // its play() has resolved
  assert.equal(player.paused(), false);
  assert.ok(Math.abs(playback.errorMs()) <= 2, `error ${playback.errorMs()}`);
  const cold = playback.cueReady.cold.estimate();
  assert.ok(cold > 250 && cold < 600, `the first cue took 600 ms: estimate ${cold}`);
  player.isPaused = true; // stopped for seconds (a hidden tab, say): cued again
  player.pos -= 5000;
  for (let i = 0; i < 10 && !playback.cue; i++) time.advance(50);
  const lead = playback.cue.state.anchor_ms - serverNow();
  assert.ok(lead > firstLead + 50, `cued ${lead} ms ahead, the first time ${firstLead}`);
  time.advance(2000);
  assert.ok(Math.abs(playback.errorMs()) <= 2, `error ${playback.errorMs()}`);
});

test('a cued start that lands more than a frame off is cued again, play()\'s cost now known', async () => {
  const { player, playback, time, serverNow, state } = setup({ seekMs: 50, startMs: 150 }); // the prior says 80
  playback.setState(state({ paused: false, position_ms: 1000, anchor_ms: serverNow() - 60_000 }));
  time.advance(800); // started 80 ms ahead of its instant, moving 70 ms late; judged 300 ms later
  await flush(); // its play() has resolved
  assert.ok(player.calls.includes('pause'), 'stopped to be cued again');
  assert.ok(Math.abs(playback.startLatency.estimate() - 150) < 2, `start latency ${playback.startLatency.estimate()}`);
  time.advance(1000);
  assert.equal(player.paused(), false);
  assert.ok(Math.abs(playback.errorMs()) <= 2, `error ${playback.errorMs()}`);
  assert.equal(player.calls.filter((c) => c === 'play').length, 2);
});

test('a joiner that falls a few frames behind before it has settled is cued again; once settled, it is nudged', async () => {
  const { player, playback, time, serverNow, state } = setup({ seekMs: 30, startMs: 80 });
  playback.setState(state({ paused: false, position_ms: 1000, anchor_ms: serverNow() - 60_000 }));
  time.advance(750); // cued, started on its instant (430 ms) and landed (judged 300 ms later)
  await flush();
  player.pos -= 60; // the busy machine stalls it
  time.advance(400);
  await flush();
  assert.equal(player.calls.filter((c) => c === 'pause').length, 1, 'stopped and cued again');
  for (let i = 0; i < 8; i++) {
    time.advance(500);
    await flush();
  }
  assert.ok(Math.abs(playback.errorMs()) <= 10, `error ${playback.errorMs()}`);
  assert.equal(playback.joining, null, 'settled: a second in the dead band');
  const pauses = player.calls.filter((c) => c === 'pause').length;
  player.pos -= 60;
  time.advance(400);
  assert.equal(player.calls.filter((c) => c === 'pause').length, pauses, 'not stopped again');
  assert.ok(player.rate() > 1, `nudged (rate ${player.rate()})`);
});

test('a player whose media clock runs 1 % fast stays within the dead band by nudging alone', () => {
  const { player, playback, time, serverNow, state } = setup({ drift: 1.01 });
  playback.setState(state({ paused: false, position_ms: 0, anchor_ms: serverNow() }));
  let worst = 0;
  for (let i = 0; i < 300; i++) {
    time.advance(TICK_MS);
    if (i > 10) worst = Math.max(worst, Math.abs(playback.errorMs()));
  }
  assert.ok(worst <= 40, `worst error ${worst.toFixed(1)} ms`);
  assert.equal(player.calls.filter((c) => c[0] === 'seek').length, 0);
  assert.ok(player.rate() < 1, 'it runs slower to compensate');
});

test('seeks learn what they cost and aim ahead by it', () => {
  const { player, playback, time, serverNow, state } = setup({ seekMs: 300 });
  playback.setState(state({ paused: false, position_ms: 0, anchor_ms: serverNow() }));
  time.advance(1000);
  const seeks = () => player.calls.filter((c) => c[0] === 'seek');
  const aims = [];
  let seeksForLast = 0;
  for (let i = 0; i < 6; i++) {
    player.pos += 5000; // a hiccup throws the player far off
    const expected = playback.expectedMs();
    const before = seeks().length;
    playback.tick(); // the loop sees it and seeks
    aims.push(Math.round(seeks().at(-1)[1] - expected));
    time.advance(3000); // the seek lands, is judged, and whatever it left is corrected
    seeksForLast = seeks().length - before;
  }
  assert.equal(aims[0], 80, 'the first seek aims ahead by the prior');
  assert.ok(Math.abs(aims.at(-1) - 300) < 30, `later seeks aim ahead by the measured cost: ${aims}`);
  assert.equal(seeksForLast, 1, 'one seek is then enough');
  assert.ok(Math.abs(playback.errorMs()) <= 10, `error ${playback.errorMs()}`);
  assert.ok(Math.abs(playback.seekLatency.estimate() - 300) < 30, `estimate ${playback.seekLatency.estimate()}`);
});

test('a seek is given time to land before it is judged', () => {
  const { player, playback, time, serverNow, state } = setup({ seekMs: 50 });
  playback.setState(state({ paused: false, position_ms: 0, anchor_ms: serverNow() }));
  time.advance(1000);
  player.pos += 5000;
  playback.tick();
  const seeks = () => player.calls.filter((c) => c[0] === 'seek').length;
  const before = seeks();
  time.advance(280); // the seek is done, and aimed 80 ms ahead it landed 30 ms ahead
  assert.equal(seeks(), before, 'no second seek while the first settles');
  assert.equal(player.rate(), 1, 'no nudge either');
  time.advance(200);
  assert.equal(seeks(), before);
  assert.ok(player.rate() < 1, `once settled, what is left is nudged away (rate ${player.rate()})`);
});

test('while a seek is under way the player is looked at often, not only every tick', () => {
  const { playback, time, events, state } = setup({ seekMs: 130 });
  playback.setState(state({ position_ms: 42_000 }));
  time.advance(120);
  assert.equal(events.sync.errorMs, null, 'still seeking');
  time.advance(30); // the next loop tick is at 200
  assert.equal(events.sync.errorMs, 0, 'seen within 20 ms of the seek landing');
});

test('the seek poll is cancelled when the party ends or the player is replaced', () => {
  for (const end of [(pb) => pb.stop(), (pb) => pb.setPlayer(null)]) {
    const { playback, time, state } = setup({ seekMs: 1000 });
    playback.setState(state({ position_ms: 42_000 }));
    time.advance(50); // a seek is under way and polled
    const pending = time.pending();
    end(playback);
    assert.equal(time.pending(), pending - 1, 'only the page loop is left');
  }
});

test('when autoplay is refused the join button is offered, and a click starts playback in sync', async () => {
  const { player, playback, time, events, serverNow, state } = setup({ blocked: true, seekMs: 80, startMs: 80 });
  playback.setState(state({ paused: false, position_ms: 0, anchor_ms: serverNow() - 10_000 }));
  time.advance(1000); // cued, and refused on its instant
  await flush();
  assert.deepEqual(events.blocked, [true]);
  time.advance(1000);
  await flush();
  assert.equal(player.calls.filter((c) => c === 'play').length, 1, 'no retry storm while blocked');
  player.blocked = false; // the click is the gesture the browser wanted
  playback.join();
  assert.deepEqual(events.blocked, [true, false]);
  time.advance(1000); // cued again, a short hop from where it waited
  assert.equal(player.paused(), false);
  assert.ok(Math.abs(playback.errorMs()) <= 2, `error ${playback.errorMs()}`);
});

test('a paused party needs no join button', async () => {
  const { playback, time, events, serverNow, state } = setup({ blocked: true });
  playback.setState(state({ paused: false, anchor_ms: serverNow() - 1000 }));
  time.advance(1000);
  await flush();
  playback.setState(state({ seq: 2, paused: true, position_ms: 1000 }));
  assert.deepEqual(events.blocked, [true, false]);
});

test("a viewer's pause is sent with the position they saw, and their player is left alone until the answer", () => {
  const { player, playback, time, sent, serverNow, state } = setup();
  playback.setState(state({ paused: false, anchor_ms: serverNow() }));
  time.advance(2000);
  player.isPaused = true; // the viewer pressed pause on the element
  playback.userPause(2000.4);
  assert.deepEqual(sent, [{ type: 'pause', position_ms: 2000 }]);
  time.advance(1000);
  assert.equal(player.paused(), true, 'not resumed while the command is under way');
  playback.setState(state({ seq: 2, paused: true, position_ms: 2000 }));
  time.advance(400);
  assert.equal(player.paused(), true);
  assert.equal(Math.round(player.positionMs()), 2000);
});

test('a refused command is undone', async () => {
  const { player, playback, time, serverNow, state } = setup();
  playback.setState(state({ paused: false, anchor_ms: serverNow() }));
  await flush();
  time.advance(1000);
  player.isPaused = true;
  playback.userPause(1000);
  playback.commandRefused(); // e.g. rate_limited
  assert.equal(player.paused(), false);
});

test('a viewer who may not control is told so, and the player follows the party again', () => {
  const { player, playback, time, sent, events, state } = setup({}, { canControl: false });
  playback.setState(state({ paused: true, position_ms: 3000 }));
  time.advance(400);
  player.isPaused = false;
  playback.userPlay();
  assert.deepEqual(sent, []);
  assert.match(events.notices[0], /host/);
  assert.equal(player.paused(), true);
});

test("pressing play while the party is paused asks the server and waits for everyone's start", () => {
  const { player, playback, time, sent, serverNow, state } = setup({ startMs: 80 });
  playback.setState(state({ paused: true, position_ms: 7000 }));
  time.advance(400);
  player.isPaused = false;
  playback.userPlay();
  assert.deepEqual(sent, [{ type: 'play' }]);
  assert.equal(player.paused(), true, 'held until the scheduled start');
  playback.setState(state({ seq: 2, paused: false, position_ms: 7000, anchor_ms: serverNow() + 250 }));
  time.advance(160);
  assert.equal(player.paused(), true);
  time.advance(20);
  assert.equal(player.paused(), false, 'play() begun ahead of the anchor by what it takes');
  time.advance(300);
  assert.ok(Math.abs(playback.errorMs()) < 2, `error ${playback.errorMs()}`);
});

test('pressing play while the party plays only joins in; nothing is sent', () => {
  const { playback, sent, serverNow, state } = setup();
  playback.setState(state({ paused: false, anchor_ms: serverNow() }));
  playback.userPlay();
  assert.deepEqual(sent, []);
});

test('seeks and rates are sent within bounds', () => {
  const { playback, sent, state } = setup();
  playback.setState(state({ duration_ms: 90_000 }));
  playback.userSeek(120_000);
  playback.userSeek(-20);
  playback.userRate(3);
  playback.userRate(1.5);
  assert.deepEqual(sent, [
    { type: 'seek', position_ms: 90_000 }, { type: 'seek', position_ms: 0 },
    { type: 'rate', rate: 2 }, { type: 'rate', rate: 1.5 },
  ]);
});

test("the state's rate is applied to the player", () => {
  const { player, playback, time, serverNow, state } = setup();
  playback.setState(state({ paused: false, rate: 1.5, anchor_ms: serverNow() }));
  time.advance(1000);
  assert.ok(Math.abs(player.rate() - 1.5) < 0.01);
  assert.ok(Math.abs(playback.errorMs()) <= 30);
});

test('without a clock estimate or a state, the sync status says so', () => {
  const { playback, events } = setup();
  playback.tick();
  assert.deepEqual(events.sync, { errorMs: null, inSync: false });
  assert.equal(playback.errorMs(), null);
});

test('once the party is over the player is paused and no longer follows the old state', () => {
  const { player, playback, time, serverNow, state } = setup();
  playback.setState(state({ paused: false, anchor_ms: serverNow() + 500 }));
  playback.stop();
  time.advance(2000);
  assert.equal(player.paused(), true);
  assert.equal(playback.errorMs(), null);
});

test('a new player (the next item) is left alone until it is ready, then joins the party in sync', async () => {
  const { player, playback, time, serverNow, state } = setup();
  playback.setState(state({ paused: false, anchor_ms: serverNow() - 10_000 }));
  time.advance(1000);
  const next = new FakePlayer(time);
  playback.setPlayer(next);
  playback.setState(state({ seq: 2, media: 'item:2', paused: false, position_ms: 0, anchor_ms: serverNow() + 150, duration_ms: null }));
  time.advance(1000);
  assert.deepEqual(next.calls, [], 'not touched while its media loads');
  assert.equal(playback.errorMs(), null);
  const oldCalls = player.calls.length;
  playback.setPlayerReady(next);
  time.advance(800); // cued (the party is 850 ms ahead) and started: landed 80 ms ahead (play() costs nothing here)
  await flush(); // its play() has resolved
  time.advance(700); // cued again, play()'s cost now known
  assert.equal(next.paused(), false);
  assert.ok(Math.abs(playback.errorMs()) <= 30, `error ${playback.errorMs()}`);
  assert.equal(player.calls.length, oldCalls, 'the replaced player is no longer driven');
});

test('a replaced player becoming ready late is not taken for the current one', () => {
  const { player, playback, time, serverNow, state } = setup();
  const next = new FakePlayer(time);
  playback.setPlayer(next);
  playback.setState(state({ paused: false, anchor_ms: serverNow() }));
  playback.setPlayerReady(player);
  time.advance(1000);
  assert.equal(playback.errorMs(), null);
  assert.deepEqual(next.calls, []);
});

test('the same player loading other media waits for it again', () => {
  const { player, playback, time, serverNow, state } = setup();
  playback.setState(state({ paused: false, anchor_ms: serverNow() }));
  time.advance(1000);
  playback.setPlayer(player);
  const calls = player.calls.length;
  time.advance(1000);
  assert.equal(player.calls.length, calls);
  playback.setPlayerReady(player);
  time.advance(400);
  assert.ok(Math.abs(playback.errorMs()) <= 30);
});

test('with nothing playable the party is still followed and commands still go out', () => {
  const { playback, time, sent, events, state } = setup();
  playback.setPlayer(null);
  playback.setState(state({ paused: true, position_ms: 5000 }));
  time.advance(1000);
  assert.equal(playback.errorMs(), null);
  assert.equal(events.sync.inSync, false);
  playback.userPlay(); // e.g. Space on the keyboard
  assert.deepEqual(sent, [{ type: 'play' }]);
  playback.stop();
});

test('a page waiting for a click to play drops the prompt when the player is taken away', async () => {
  const { playback, time, events, serverNow, state } = setup({ blocked: true });
  playback.setState(state({ paused: false, anchor_ms: serverNow() - 1000 }));
  time.advance(1000);
  await flush();
  playback.setPlayer(null);
  assert.deepEqual(events.blocked, [true, false]);
});

test('skip and jump are commands like any other: sent when allowed, refused with a word when not', () => {
  const allowed = setup();
  allowed.playback.userSkip();
  allowed.playback.userJump(9);
  assert.deepEqual(allowed.sent, [{ type: 'skip' }, { type: 'jump', item_id: 9 }]);
  const refused = setup({}, { canControl: false });
  refused.playback.userSkip();
  assert.deepEqual(refused.sent, []);
  assert.match(refused.events.notices[0], /promote/);
});

test('a party that waits for a viewer holds the player at the position; its scheduled resume starts on the anchor', async () => {
  const { player, playback, time, sent, serverNow, state } = setup({ startMs: 80 });
  playback.setState(state({ paused: false, position_ms: 10_000, anchor_ms: serverNow() }));
  time.advance(2000);
  await flush(); // its play() has resolved
  assert.equal(player.paused(), false);
  const heldAt = 12_000;
  playback.setState(state({ seq: 2, paused: true, waiting: true, position_ms: heldAt, anchor_ms: serverNow() }));
  time.advance(3000);
  assert.equal(player.paused(), true, 'resting while the party waits');
  assert.ok(Math.abs(player.positionMs() - heldAt) <= 0.01, `rests at ${player.positionMs()}`);
  const anchor = serverNow() + 150;
  playback.setState(state({ seq: 3, paused: false, waiting: false, position_ms: heldAt, anchor_ms: anchor }));
  time.advance(60);
  assert.equal(player.paused(), true, 'waits for the scheduled start like any play');
  time.advance(20);
  assert.equal(player.paused(), false, 'begun ahead of the anchor by the start latency');
  time.advance(1000);
  assert.ok(Math.abs(playback.errorMs()) < 2, `error ${playback.errorMs()}`);
  assert.deepEqual(sent, [], 'the page said nothing: the server paused and resumed');
});

test('the sync sample says how far off the player is, and whether it should move', () => {
  const { player, playback, time, serverNow, state } = setup({ seekMs: 400 });
  assert.equal(playback.syncSample().errorMs, null, 'no state yet');
  playback.setState(state({ paused: true, position_ms: 3000 }));
  time.advance(500);
  assert.deepEqual(playback.syncSample(), { atMs: time.now(), errorMs: 0, moving: false, seeking: false, holding: false, bandMs: 10 });
  playback.setState(state({ seq: 2, paused: false, position_ms: 3000, anchor_ms: serverNow() }));
  assert.equal(playback.syncSample().seeking, false, 'already there: no seek');
  player.pos = 9000;
  time.advance(250);
  const sample = playback.syncSample();
  assert.equal(sample.moving, true);
  assert.equal(sample.seeking, true, 'the far-off player seeks back');
  playback.userPause(3500);
  assert.equal(playback.syncSample().holding, true, 'its own command awaits the answer');
});
