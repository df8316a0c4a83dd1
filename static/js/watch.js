// The watch page: reads the party's settings from #watch's data attributes, builds the
// player for the video's kind, connects to the party, and shows connection, sync and
// viewers. Sync decisions live in playback.js; this file only wires and displays.

import { ClockSync } from './clock.js';
import { PartyConnection, socketUrl } from './party.js';
import { Playback, TICK_MS } from './playback.js';
import { BufferingReporter } from './buffering.js';
import { renderViewers } from './presence.js';
import { Html5Player } from './players/html5.js';
import { YouTubePlayer } from './players/youtube.js';
import { isVideoId } from './players/youtube-policy.js';

// Refusals of a command concern this viewer's own action, which is then undone.
const COMMAND_ERRORS = new Set(['rate_limited', 'invalid_position', 'invalid_rate', 'internal']);
const NOTICE_MS = 5000;

const root = document.getElementById('watch');
const $ = (id) => document.getElementById(id);
const ui = {
  box: $('player-box'),
  title: $('video-title'),
  connection: $('connection-status'),
  sync: $('sync-status'),
  join: $('join-playback'),
  viewers: $('viewers'),
  notice: $('party-notice'),
  control: $('control-hint'),
};

function show(el, visible) { el?.classList.toggle('d-none', !visible); }

let noticeTimer = null;
function notice(text, { lasting = false, tone = 'warning' } = {}) {
  clearTimeout(noticeTimer);
  ui.notice.textContent = text;
  ui.notice.className = `alert alert-${tone} py-2 mb-3`;
  if (!lasting) noticeTimer = setTimeout(() => show(ui.notice, false), NOTICE_MS);
}

function setConnection(text, tone) {
  ui.connection.textContent = text;
  ui.connection.className = `badge text-bg-${tone}`;
}

function showTitle(title) {
  if (!title) return;
  ui.title.textContent = title;
  document.title = `${title} · WeWatch`;
}

/** The player for the video's kind, or null (with a message in the box) when it cannot play here. */
function buildPlayer(kind, source, events) {
  if (kind === 'youtube') {
    if (isVideoId(source)) return new YouTubePlayer(ui.box, source, events);
    return unplayable('This YouTube link is not valid.');
  }
  if (kind === 'hls' && !document.createElement('video').canPlayType('application/vnd.apple.mpegurl')) {
    return unplayable('This browser cannot play HLS streams (.m3u8). Open the link in a browser that plays them natively, such as Safari.');
  }
  if (kind === 'file' || kind === 'hls') return new Html5Player(ui.box, source, events);
  return unplayable('This kind of video cannot be played.');
}

function unplayable(message) {
  const p = document.createElement('p');
  p.className = 'player-message';
  p.textContent = message;
  ui.box.replaceChildren(p);
  return null;
}

function start() {
  const { wsPath, kind, source } = root.dataset;
  const clock = new ClockSync();
  let selfId = root.dataset.userId;
  let mediaInfo = null;
  let mediaInfoSent = false;
  let party = null;
  let playback = null;

  const send = (type, fields) => party?.send(type, fields) ?? false;
  const buffering = new BufferingReporter((type) => send(type));
  const sendMediaInfo = () => {
    if (mediaInfoSent || !mediaInfo || playback?.state?.duration_ms != null) return;
    mediaInfoSent = send('media_info', mediaInfo);
  };

  const player = buildPlayer(kind, source, {
    onUserPlay: () => playback?.userPlay(),
    onUserPause: (ms) => playback?.userPause(ms),
    onUserSeeking: () => playback?.userSeeking(),
    onUserSeek: (ms) => playback?.userSeek(ms),
    onUserRate: (rate) => playback?.userRate(rate),
    onBuffering: () => buffering.waiting(),
    onReady: () => buffering.ready(),
    onMediaInfo: (info) => { mediaInfo = info; sendMediaInfo(); },
    onFailure: (message) => notice(message, { lasting: true, tone: 'danger' }),
  });
  if (!player) {
    setConnection('offline', 'secondary');
    ui.sync.textContent = '';
    return exposeForTests(null, clock, null);
  }

  playback = new Playback({
    player,
    clock,
    send,
    onBlocked: (blocked) => show(ui.join, blocked),
    onSync: ({ errorMs, inSync }) => {
      ui.sync.textContent = inSync ? `in sync ±${Math.round(Math.abs(errorMs))} ms` : 'syncing…';
    },
    onNotice: (text) => notice(text),
  });
  player.ready().then(() => playback.setPlayerReady(), () => {});
  // The click is the user gesture that lets the browser start playback.
  ui.join.addEventListener('click', () => playback.join());

  party = new PartyConnection({
    url: socketUrl(location.origin, wsPath),
    clock,
    handlers: {
      onStatus: (status) => {
        if (status === 'connected') setConnection('connected', 'success');
        else if (status === 'reconnecting') setConnection('reconnecting…', 'warning');
        else if (status === 'connecting') setConnection('connecting…', 'secondary');
      },
      onWelcome: (msg) => {
        selfId = msg.you?.user_id ?? selfId;
        playback.setCanControl(msg.can_control !== false);
        show(ui.control, msg.can_control === false);
        showTitle(msg.video?.title);
        renderViewers(ui.viewers, msg.viewers ?? [], selfId);
        mediaInfoSent = false;
        playback.setState(msg.state);
        buffering.reconnected();
        sendMediaInfo();
      },
      onState: (state) => { playback.setState(state); sendMediaInfo(); },
      onViewers: (viewers) => renderViewers(ui.viewers, viewers, selfId),
      onVideo: (video) => showTitle(video?.title),
      onError: ({ code, message }) => {
        if (COMMAND_ERRORS.has(code)) playback.commandRefused();
        notice(message || `The server refused that (${code}).`);
      },
      onStopped: ({ message }) => {
        setConnection('closed', 'danger');
        ui.viewers.replaceChildren(); // no longer known
        notice(message, { lasting: true, tone: 'danger' });
        clearInterval(loop);
        playback.stop();
        show(ui.join, false);
        ui.sync.textContent = '';
      },
    },
  });
  const loop = setInterval(() => playback.tick(), TICK_MS);
  document.addEventListener('visibilitychange', () => {
    // Timers of a hidden page are throttled; measure the clock afresh on return.
    if (document.visibilityState === 'visible') { clock.restartFast(); playback.tick(); }
  });
  // Leaving closes the party politely; a page restored from the back-forward cache starts afresh.
  window.addEventListener('pagehide', () => party.stop());
  window.addEventListener('pageshow', (ev) => { if (ev.persisted) location.reload(); });
  exposeForTests(playback, clock, party);
  party.start();
}

/** Read-only hooks for browser tests and the sync harness. */
function exposeForTests(playback, clock, party) {
  const api = Object.freeze({
    state: () => (playback?.state ? { ...playback.state } : null),
    serverNow: () => clock.serverNow(),
    error_ms: () => playback?.errorMs() ?? null,
    connected: () => party?.status === 'connected',
  });
  Object.defineProperty(window, 'wewatch', { value: api, writable: false, configurable: false });
}

function wireInvite() {
  const link = $('invite-link');
  const button = $('copy-invite');
  if (!link || !button) return;
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(link.href);
      button.textContent = 'Copied';
    } catch {
      // The clipboard API needs a secure context; with the link selected the viewer can copy it.
      const range = document.createRange();
      range.selectNodeContents(link);
      window.getSelection()?.removeAllRanges();
      window.getSelection()?.addRange(range);
      button.textContent = 'Selected: copy it';
    }
    setTimeout(() => { button.textContent = 'Copy'; }, 2000);
  });
}

wireInvite();
start();
