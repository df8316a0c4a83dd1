// The watch page: reads the party's settings from #watch's data attributes, connects to the
// party, and keeps the player, chat, viewer list and (for a playlist) the item list in step
// with what the server says. Sync decisions live in playback.js, who may control in
// permissions.js, the player box in stage.js; this file only wires and displays.

import { ClockSync } from './clock.js';
import { PartyConnection, socketUrl } from './party.js';
import { Playback, TICK_MS } from './playback.js';
import { BufferingReporter } from './buffering.js';
import { ViewerPanel } from './viewer-panel.js';
import { SyncStatusReporter, syncText } from './sync-status.js';
import { shouldBeMoving } from './timeline.js';
import { mayControl, sameUser } from './permissions.js';
import { ControlPanel } from './controls.js';
import { ChatPanel } from './chat.js';
import { NameForm } from './name-form.js';
import { KeyboardControl } from './keyboard.js';
import { EndedReporter, PlaylistPanel, UnplayableReporter } from './playlist.js';
import { DurationReport } from './media-info.js';
import { Stage } from './stage.js';
import { currentInvite, invitePaths, showInvite, wireInvite } from './invite.js';

// Refusals of a command concern this viewer's own action, which is then undone.
const COMMAND_ERRORS = new Set(['rate_limited', 'store_unavailable', 'invalid_position', 'invalid_rate', 'internal', 'forbidden',
  'empty_playlist', 'last_item', 'no_such_item', 'not_a_playlist']);
const NOTICE_MS = 5000;
// The close code of a party connection whose invite link was replaced (docs/protocol.md).
const INVITE_ROTATED = 4001;
// A video party plays one media for good; the player box knows it by this key.
const VIDEO_MEDIA = 'video';

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
  waiting: $('waiting-notice'),
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

function start() {
  const { wsPath, partyKind, kind, source } = root.dataset;
  const isPlaylist = partyKind === 'playlist';
  const clock = new ClockSync();
  const party = { connection: null, selfId: root.dataset.userId, permissions: null, canControl: true,
    playlist: null, viewers: [] };
  const send = (type, fields) => party.connection?.send(type, fields) ?? false;
  const buffering = new BufferingReporter((type) => send(type));
  const syncStatus = new SyncStatusReporter(send);
  const durations = new DurationReport({ everyMedia: isPlaylist });
  const ended = new EndedReporter();
  const unplayable = new UnplayableReporter();
  const keyboard = new KeyboardControl();
  /** The key of the media the party plays now, as the player box names it. */
  const mediaKey = (state) => (isPlaylist ? state?.media ?? null : VIDEO_MEDIA);

  const connected = () => party.connection?.status === 'connected';
  const playback = new Playback({
    player: null,
    clock,
    send,
    onBlocked: (blocked) => {
      show(ui.join, blocked);
      if (blocked) buffering.ready(); // not loading: waiting for this viewer's click
    },
    onSync: ({ errorMs, inSync }) => {
      ui.sync.textContent = syncText({ connected: connected(), hasPlayer: Boolean(stage.player), errorMs, inSync });
    },
    onNotice: (text) => notice(text),
  });
  const stage = new Stage(ui.box, {
    onUserPlay: () => playback.userPlay(),
    onUserPause: (ms) => playback.userPause(ms),
    onUserSeeking: () => playback.userSeeking(),
    onUserSeek: (ms) => playback.userSeek(ms),
    onUserRate: (rate) => playback.userRate(rate),
    onBuffering: () => buffering.waiting(),
    onReady: () => buffering.ready(),
    onMediaInfo: (info, key) => { durations.learned(key, info); reportDuration(); },
    onTrouble: (message) => notice(message, { lasting: true, tone: 'danger' }),
    onUnplayable: ({ key, message, reason }) => {
      follow(null); // its player is gone; nothing here follows the party
      const onwards = isPlaylist ? ' The playlist moves on past it once nobody here can play it.' : '';
      notice(`${message}${onwards}`, { lasting: true, tone: 'danger' });
      if (!isPlaylist) return;
      unplayable.failed(key, reason);
      reportUnplayable();
    },
  }, { labelledBy: isPlaylist ? 'video-title now-playing' : 'video-title' });
  const chat = new ChatPanel({
    list: $('chat-messages'), form: $('chat-form'), input: $('chat-input'), error: $('chat-error'),
    send, onSeek: (ms) => playback.userSeek(ms),
  });
  const names = new NameForm({
    form: $('name-form'), input: $('name-input'), error: $('name-error'), send,
    onRenamed: (name) => { const who = document.querySelector('#whoami strong'); if (who) who.textContent = name; },
  });
  const controls = new ControlPanel({
    watchHint: $('watch-hint'), controlHint: $('control-hint'), mode: $('control-mode'), viewers: ui.viewers,
    wait: $('wait-for-everyone'), waitSetting: $('wait-setting'), send, onNotice: (text) => notice(text),
  });
  const items = isPlaylist ? new PlaylistPanel({
    list: $('playlist'), skip: $('skip'), skipHint: $('skip-hint'), nowPlaying: $('now-playing'),
    onSkip: () => playback.userSkip(), onJump: (itemId) => playback.userJump(itemId),
  }) : null;

  function reportDuration() {
    const key = mediaKey(playback.state);
    const info = durations.due(key, playback.state);
    // The report names the media it is about, so one arriving after a switch is not taken
    // for the next item.
    if (info && send('media_info', { ...info, media: playback.state?.media })) durations.sent(key);
  }

  /** Tells the server this viewer cannot play the current item, when that is due. */
  function reportUnplayable() {
    const fields = unplayable.due(playback.state);
    if (fields && send('unplayable', fields)) unplayable.sent();
  }

  function reportEnded() {
    const state = playback.state;
    const playerEnded = Boolean(playback.playerReady && stage.player?.ended());
    const itemId = ended.due({ state, serverNowMs: clock.serverNow(), playerEnded });
    if (itemId !== null && send('ended', { item_id: itemId })) ended.sent(state);
  }

  /** Puts `player` (or none) in charge of following the party, once it can be positioned. */
  function follow(player) {
    durations.forget();
    buffering.ready(); // whatever stalled before, it is not this player (or there is none)
    playback.setPlayer(player);
    player?.ready().then(() => playback.setPlayerReady(player), () => {});
  }

  /** A playlist's player shows the item the state names: loads it when it changed. */
  function present(state) {
    if (!isPlaylist || !stage.showItem(party.playlist, state?.media ?? '')) return;
    if (ui.notice.classList.contains('alert-danger')) show(ui.notice, false); // about the last item
    unplayable.forget();
    follow(stage.player);
  }

  const viewerPanel = new ViewerPanel({ list: ui.viewers, waiting: ui.waiting, onNotice: (text) => notice(text) });
  /** The viewer list and, while the party waits for someone to load, whom it waits for. */
  function showViewers() {
    const { viewers, selfId, permissions } = party;
    viewerPanel.show({ viewers, state: playback.state, selfId, permissions });
  }

  /**
   * One step of the page's own checks: the player's readiness and its sync status. A player
   * the party needs playing that cannot play (a first load going nowhere, which raises no
   * event) counts as stalled, unless it waits for this viewer's click.
   */
  function check() {
    const s = playback.state;
    const now = clock.serverNow();
    const mustPlay = Boolean(stage.player && s && now != null && shouldBeMoving(s, now) && !playback.blocked);
    buffering.check(Boolean(playback.playerReady && stage.player?.canPlay()), mustPlay);
    syncStatus.observe({ ...playback.syncSample(), buffering: buffering.stalled() });
  }

  /** Who may control changed (or may have): everything that offers or hides control. */
  function applyControl() {
    const { permissions, selfId } = party;
    if (permissions) party.canControl = mayControl(permissions, selfId);
    playback.setCanControl(party.canControl);
    controls.show(permissions, selfId, party.canControl);
    showViewers();
    applyMedia();
  }

  /** What plays now changed (or may have): the playlist's current item, clickable chat times. */
  function applyMedia() {
    const media = playback.state?.media ?? null;
    chat.setSeekContext({ canControl: party.canControl, media });
    items?.show(party.playlist, media, { canControl: party.canControl });
  }

  if (!isPlaylist) follow(stage.show({ key: VIDEO_MEDIA, kind, source }));
  // The click is the user gesture that lets the browser start playback.
  ui.join.addEventListener('click', () => playback.join());
  document.addEventListener('keydown', (ev) => {
    const s = playback.state;
    const handled = keyboard.handle(ev, s && {
      canControl: party.canControl && Boolean(s.media),
      paused: s.paused,
      positionMs: playback.expectedMs() ?? s.position_ms,
      durationMs: s.duration_ms,
      seq: s.seq,
    });
    if (!handled) return;
    ev.preventDefault(); // Space would scroll the page, and the player's own keys would act twice
    const c = handled.command;
    if (c?.type === 'play') playback.userPlay();
    else if (c?.type === 'pause') playback.userPause(c.position_ms);
    else if (c?.type === 'seek') playback.userSeek(c.position_ms);
  });

  party.connection = new PartyConnection({
    url: socketUrl(location.origin, wsPath),
    clock,
    handlers: {
      onStatus: (status) => {
        if (status !== 'connected') ui.sync.textContent = ''; // the timeline is not known meanwhile
        if (status === 'connected') setConnection('connected', 'success');
        else if (status === 'reconnecting') setConnection('reconnecting…', 'warning');
        else if (status === 'connecting') setConnection('connecting…', 'secondary');
      },
      onWelcome: (msg) => {
        party.selfId = msg.you?.user_id ?? party.selfId;
        party.permissions = msg.permissions ?? null;
        party.canControl = msg.can_control !== false;
        party.playlist = msg.playlist ?? null;
        party.viewers = msg.viewers ?? [];
        chat.setSelf(party.selfId);
        names.known(msg.you?.name);
        showTitle(isPlaylist ? party.playlist?.title : msg.video?.title);
        durations.connected();
        present(msg.state);
        playback.setState(msg.state);
        chat.history(msg.chat ?? []);
        applyControl();
        buffering.reconnected();
        syncStatus.connected();
        reportDuration();
        unplayable.connected();
        unplayable.viewers(party.viewers);
        reportUnplayable();
      },
      onState: (state) => {
        const mediaChanged = state.media !== playback.state?.media;
        present(state);
        playback.setState(state);
        if (mediaChanged) applyMedia();
        showViewers();
        reportDuration();
        reportUnplayable();
      },
      onViewers: (viewers) => {
        party.viewers = viewers;
        names.known(viewers.find((v) => sameUser(v.user_id, party.selfId))?.name);
        showViewers();
        unplayable.viewers(viewers);
        reportUnplayable();
      },
      onVideo: (video) => showTitle(video?.title),
      onPlaylist: (playlist) => {
        party.playlist = playlist;
        showTitle(playlist?.title);
        present(playback.state);
        applyMedia();
      },
      onPermissions: (permissions) => { party.permissions = permissions; applyControl(); },
      onChat: (message) => chat.add(message),
      onStore: (available) => {
        if (available) setConnection('connected', 'success');
        else setConnection('reconnecting to the store…', 'warning');
      },
      onError: ({ code, message }) => {
        if (chat.refused(code, message) || names.refused(code, message)) return;
        if (COMMAND_ERRORS.has(code)) playback.commandRefused();
        if (code === 'forbidden') controls.hint(true);
        if (code === 'not_owner') controls.show(party.permissions, party.selfId, party.canControl);
        notice(message || `The server refused that (${code}).`);
      },
      onStopped: async ({ code, reason, message }) => {
        // The owner made a new invite link: their own pages follow the party to it.
        if ((reason === 'invite_rotated' || code === INVITE_ROTATED) && await followInvite()) return;
        setConnection('closed', 'danger');
        viewerPanel.clear(); // no longer known
        notice(message, { lasting: true, tone: 'danger' });
        clearInterval(loop);
        playback.stop();
        show(ui.join, false);
        ui.sync.textContent = '';
      },
    },
  });
  /** Moves this page to the party's new invite link, when the owner can learn it. */
  async function followInvite() {
    const invite = await currentInvite(root.dataset.ownerApi);
    if (!invite) return false;
    const paths = invitePaths(invite.key);
    history.replaceState(history.state, '', paths.page);
    showInvite($('invite-link'), invite.watchUrl);
    notice('You made a new invite link: this page now uses it. The old link no longer works.', { tone: 'info' });
    party.connection.moveTo(socketUrl(location.origin, paths.socket));
    return true;
  }

  const loop = setInterval(() => {
    playback.tick();
    check();
    if (isPlaylist) reportEnded();
  }, TICK_MS);
  document.addEventListener('visibilitychange', () => {
    // Timers of a hidden page are throttled; measure the clock afresh on return.
    if (document.visibilityState === 'visible') { clock.restartFast(); playback.tick(); }
  });
  // Leaving closes the party politely; a page restored from the back-forward cache starts afresh.
  window.addEventListener('pagehide', () => party.connection.stop());
  window.addEventListener('pageshow', (ev) => { if (ev.persisted) location.reload(); });
  exposeForTests(playback, clock, party, syncStatus, buffering);
  party.connection.start();
}

/** Read-only hooks for browser tests and the sync harness. */
function exposeForTests(playback, clock, party, syncStatus, buffering) {
  const api = Object.freeze({
    state: () => (playback.state ? { ...playback.state } : null),
    serverNow: () => clock.serverNow(),
    clock_settled: () => clock.settled(),
    error_ms: () => playback.errorMs(),
    connected: () => party.connection?.status === 'connected',
    can_control: () => party.canControl,
    in_sync: () => syncStatus.inSync,
    buffering: () => buffering.stalled(),
  });
  Object.defineProperty(window, 'wewatch', { value: api, writable: false, configurable: false });
}

wireInvite(document.getElementById('invite-link'), document.getElementById('copy-invite'));
start();
