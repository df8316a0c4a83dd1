// The party client against a scripted socket and a manual clock: hello, pings, seq, back-off, close codes.

import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { PONG_TIMEOUT_MS, PartyConnection, backoffDelay, socketUrl } from '../../static/js/party.js';
import { ClockSync } from '../../static/js/clock.js';
import { FakeSocket, FakeTime } from './fakes.mjs';

const state = (seq, extra = {}) => ({ seq, media: 'video:1', paused: true, position_ms: 0, anchor_ms: 0, rate: 1, duration_ms: null, updated_by: '', ...extra });
const welcome = (seq = 3) => ({
  type: 'welcome', protocol: 1, conn_id: 'c1', you: { user_id: 5, name: 'Ana' }, can_control: true,
  server_ms: 1_700_000_000_000, state: state(seq), viewers: [], video: { title: 'T', kind: 'file', source: '/m.webm' },
});

function connect({ random = () => 0.5 } = {}) {
  const time = new FakeTime();
  const clock = new ClockSync({ now: time.now });
  const log = [];
  const record = (name) => (...args) => log.push([name, ...args]);
  const party = new PartyConnection({
    url: 'ws://host/ws/watch/key', clock, WebSocketImpl: FakeSocket, timers: time, random,
    handlers: {
      onStatus: record('status'), onWelcome: record('welcome'), onState: record('state'),
      onViewers: record('viewers'), onVideo: record('video'), onError: record('error'), onStopped: record('stopped'),
      onPlaylist: record('playlist'), onPermissions: record('permissions'), onChat: record('chat'),
      onStore: record('store'),
    },
  });
  party.start();
  return { party, time, clock, log, of: (name) => log.filter((e) => e[0] === name) };
}

function joined(options) {
  const c = connect(options);
  FakeSocket.latest().serverOpen();
  FakeSocket.latest().serverSend(welcome());
  return c;
}

beforeEach(() => FakeSocket.reset());

test('the socket URL follows the page scheme', () => {
  assert.equal(socketUrl('http://localhost:8080', '/ws/watch/abc'), 'ws://localhost:8080/ws/watch/abc');
  assert.equal(socketUrl('https://example.org', '/ws/watch/abc'), 'wss://example.org/ws/watch/abc');
});

test('hello is the first message, and nothing else is sent before welcome', () => {
  const { party } = connect();
  const ws = FakeSocket.latest();
  assert.equal(ws.url, 'ws://host/ws/watch/key');
  ws.serverOpen();
  assert.equal(party.send('play'), false);
  assert.deepEqual(ws.sent, [{ type: 'hello', protocol: 1 }]);
});

test('welcome connects, and pings then measure the clock', () => {
  const { party, time, clock, of } = joined();
  const ws = FakeSocket.latest();
  assert.equal(party.status, 'connected');
  assert.equal(of('welcome').length, 1);
  const [ping] = ws.sentOfType('ping');
  assert.ok(Number.isInteger(ping.id));
  time.advance(40);
  ws.serverSend({ type: 'pong', id: ping.id, server_ms: 1_700_000_000_000 });
  assert.equal(clock.measured(), true);
  assert.equal(clock.serverNow(time.now()), 1_700_000_000_000 + 20);
  time.advance(250);
  assert.equal(ws.sentOfType('ping').length, 5, 'four at once, then the next on the fast schedule');
  assert.equal(party.send('seek', { position_ms: 1000 }), true);
  const { cmd_id, ...seek } = ws.sent.at(-1);
  assert.deepEqual(seek, { type: 'seek', position_ms: 1000 });
  assert.match(cmd_id, /^[0-9a-z]+-1$/);
});

test('a command the server has not said is done is sent again after a reconnect, with its id', () => {
  const { time, party } = joined();
  let ws = FakeSocket.latest();
  party.send('play');
  party.send('seek', { position_ms: 5000 });
  party.send('chat', { text: 'hi' });
  const [play, seek] = [ws.sentOfType('play')[0], ws.sentOfType('seek')[0]];
  assert.notEqual(play.cmd_id, seek.cmd_id);
  assert.equal(ws.sentOfType('chat')[0].cmd_id, undefined, 'only commands carry ids');
  ws.serverSend({ type: 'done', cmd_id: play.cmd_id });
  ws.serverClose(1001);
  time.advance(500);
  ws = FakeSocket.latest();
  ws.serverOpen();
  ws.serverSend(welcome());
  assert.deepEqual(ws.sentOfType('seek'), [seek], 'the seek, with the same id');
  assert.deepEqual(ws.sentOfType('play'), [], 'the play was done');
  ws.serverSend({ type: 'done', cmd_id: seek.cmd_id });
  ws.serverClose(1001);
  time.advance(500);
  FakeSocket.latest().serverOpen();
  FakeSocket.latest().serverSend(welcome());
  assert.deepEqual(FakeSocket.latest().sentOfType('seek'), []);
});

test('a command not done within the retry window is not sent again', () => {
  const { time, party } = joined();
  party.send('pause', { position_ms: 1000 });
  FakeSocket.latest().serverClose(1006);
  time.advance(11_000);
  const ws = FakeSocket.latest();
  ws.serverOpen();
  ws.serverSend(welcome());
  assert.deepEqual(ws.sentOfType('pause'), []);
});

/** Answers every ping the page sent on `ws` that has not been answered yet. */
function answerPings(ws, answered) {
  for (const { id } of ws.sentOfType('ping')) {
    if (answered.has(id)) continue;
    answered.add(id);
    ws.serverSend({ type: 'pong', id, server_ms: 1_700_000_000_000 });
  }
}

test('a connection whose pings go unanswered is found dead within the pong time-out, and reconnects', () => {
  const { party, time, of } = joined();
  const ws = FakeSocket.latest();
  const answered = new Set();
  for (let i = 0; i < 20; i++) {
    time.advance(500);
    answerPings(ws, answered);
  }
  assert.equal(party.status, 'connected', 'answered pings keep it connected');
  // The network drops: nothing closes, nothing answers.
  time.advance(PONG_TIMEOUT_MS + 1_000);
  assert.equal(party.status, 'reconnecting');
  assert.equal(of('status').at(-1)[1], 'reconnecting');
  assert.equal(ws.closedByClient, true, 'the dead socket is let go');
  time.advance(1_000);
  assert.notEqual(FakeSocket.latest(), ws, 'a new socket is opened');
});

test('a slow answer within the pong time-out keeps the connection', () => {
  const { party, time } = joined();
  const ws = FakeSocket.latest();
  const answered = new Set();
  for (let i = 0; i < 10; i++) {
    time.advance(PONG_TIMEOUT_MS - 500);
    answerPings(ws, answered);
  }
  assert.equal(party.status, 'connected');
});

test('a pong nobody asked for is ignored', () => {
  const { clock } = joined();
  FakeSocket.latest().serverSend({ type: 'pong', id: 999, server_ms: 5 });
  assert.equal(clock.measured(), false);
});

test('states whose seq is not greater than the held one are ignored', () => {
  const { of } = joined();
  const ws = FakeSocket.latest();
  ws.serverSend({ type: 'state', state: state(3) });
  ws.serverSend({ type: 'state', state: state(5) });
  ws.serverSend({ type: 'state', state: state(4) });
  ws.serverSend({ type: 'state', state: state(5) });
  ws.serverSend({ type: 'state', state: state(6) });
  assert.deepEqual(of('state').map((e) => e[1].seq), [5, 6]);
});

test('viewers, video and error messages are handed on', () => {
  const { of } = joined();
  const ws = FakeSocket.latest();
  ws.serverSend({ type: 'viewers', viewers: [{ user_id: 1, name: 'A', connections: 2, status: 'watching' }] });
  ws.serverSend({ type: 'video', video: { title: 'New', kind: 'file', source: '/m.webm' } });
  ws.serverSend({ type: 'error', code: 'rate_limited', message: 'Slow down' });
  ws.onmessage({ data: 'not json' });
  assert.equal(of('viewers')[0][1][0].connections, 2);
  assert.equal(of('video')[0][1].title, 'New');
  assert.deepEqual(of('error')[0][1], { code: 'rate_limited', message: 'Slow down' });
});

test('playlist, permissions and chat messages are handed on', () => {
  const { of } = joined();
  const ws = FakeSocket.latest();
  ws.serverSend({ type: 'playlist', playlist: { id: 1, title: 'Evening', items: [] } });
  ws.serverSend({ type: 'permissions', permissions: { mode: 'promoted', owner_id: 5, controllers: [] } });
  ws.serverSend({ type: 'chat', message: { id: 3, kind: 'user', user_id: 5, name: 'Ana', text: 'hi', position_ms: 0, media: 'video:1', at_ms: 0 } });
  assert.equal(of('playlist')[0][1].title, 'Evening');
  assert.equal(of('permissions')[0][1].mode, 'promoted');
  assert.equal(of('chat')[0][1].text, 'hi');
});

test('the store going away and coming back is handed on, and the connection stays', () => {
  const { of, party } = joined();
  const ws = FakeSocket.latest();
  ws.serverSend({ type: 'store', available: false });
  ws.serverSend({ type: 'store', available: true });
  assert.deepEqual(of('store').map((e) => e[1]), [false, true]);
  assert.equal(party.status, 'connected');
});

test('a close for an unreachable store (1013) reconnects', () => {
  const { of } = joined();
  FakeSocket.latest().serverClose(1013);
  assert.equal(of('stopped').length, 0);
  assert.equal(of('status').at(-1)[1], 'reconnecting');
});

test('an unexpected close reconnects with growing back-off and shows it', () => {
  const { time, party } = joined();
  FakeSocket.latest().serverClose(1006);
  assert.equal(party.status, 'reconnecting');
  assert.equal(FakeSocket.instances.length, 1);
  time.advance(374); // attempt 0 with random 0.5: 250 + 125 = 375 ms
  assert.equal(FakeSocket.instances.length, 1);
  time.advance(1);
  assert.equal(FakeSocket.instances.length, 2);
  FakeSocket.latest().serverClose(1006); // refused again before welcome
  time.advance(749);
  assert.equal(FakeSocket.instances.length, 2, 'the second wait is twice as long');
  time.advance(1);
  assert.equal(FakeSocket.instances.length, 3);
  assert.equal(party.status, 'reconnecting');
});

test('after reconnecting, welcome resyncs even to a lower seq and the back-off starts over', () => {
  const { time, party, of } = joined();
  FakeSocket.latest().serverClose(1001);
  time.advance(500);
  const ws = FakeSocket.latest();
  ws.serverOpen();
  assert.deepEqual(ws.sent[0], { type: 'hello', protocol: 1 });
  ws.serverSend(welcome(1));
  assert.equal(party.status, 'connected');
  ws.serverSend({ type: 'state', state: state(2) });
  assert.deepEqual(of('state').map((e) => e[1].seq), [2]);
  ws.serverClose(4000);
  time.advance(375);
  assert.equal(FakeSocket.instances.length, 3);
});

for (const code of [4001, 4002, 4004]) {
  test(`close code ${code} stops for good and shows the server's message`, () => {
    const { time, party, of } = joined();
    const ws = FakeSocket.latest();
    ws.serverSend({ type: 'closed', reason: 'invite_invalid', message: 'This link is gone.' });
    ws.serverClose(code);
    assert.equal(party.status, 'stopped');
    assert.deepEqual(of('stopped')[0][1], { code, reason: 'invite_invalid', message: 'This link is gone.' });
    time.advance(60_000);
    assert.equal(FakeSocket.instances.length, 1);
  });
}

test('without a closed message, a final close still tells the viewer why', () => {
  const { of } = joined();
  FakeSocket.latest().serverClose(4001);
  assert.match(of('stopped')[0][1].message, /no longer works/);
});

test('a party that moved to a new invite key is joined there afresh, as if new', () => {
  const { party, of } = joined();
  FakeSocket.latest().serverSend({ type: 'closed', reason: 'invite_rotated', message: 'Replaced.' });
  FakeSocket.latest().serverClose(4001);
  assert.equal(party.status, 'stopped');
  party.moveTo('ws://host/ws/watch/new-key');
  const ws = FakeSocket.latest();
  assert.equal(FakeSocket.instances.length, 2);
  assert.equal(ws.url, 'ws://host/ws/watch/new-key');
  ws.serverOpen();
  assert.deepEqual(ws.sentOfType('hello').length, 1);
  ws.serverSend(welcome(9));
  assert.equal(party.status, 'connected');
  assert.equal(of('welcome').length, 2);
});

test('a connection whose pongs stop coming is replaced', () => {
  const { time, party } = joined();
  const first = FakeSocket.latest();
  time.advance(10_500); // pings keep going, none is answered
  assert.equal(first.closedByClient, true);
  assert.equal(party.status, 'reconnecting');
  time.advance(500);
  assert.equal(FakeSocket.instances.length, 2);
});

test('stopping closes the socket and never reconnects', () => {
  const { time, party } = joined();
  party.stop();
  assert.equal(FakeSocket.latest().closedByClient, true);
  time.advance(60_000);
  assert.equal(FakeSocket.instances.length, 1);
});

test('back-off doubles from 0.5 s to a 10 s ceiling, with jitter in its upper half', () => {
  for (const [attempt, ceiling] of [[0, 500], [1, 1000], [2, 2000], [4, 8000], [5, 10_000], [30, 10_000]]) {
    assert.equal(backoffDelay(attempt, () => 0), ceiling / 2);
    const top = backoffDelay(attempt, () => 0.999999);
    assert.ok(top < ceiling && top > ceiling * 0.999, `attempt ${attempt}: ${top}`);
  }
  const spread = new Set(Array.from({ length: 20 }, (_, i) => backoffDelay(3, () => i / 20)));
  assert.equal(spread.size, 20, 'different viewers wait different times');
});
