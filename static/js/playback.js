// Playback control: keeps one player on the server timeline. Applies each state the server
// sends (playing or paused, rate, position), runs the drift policy on every tick, starts
// scheduled plays on time, and turns the viewer's own actions on the player into commands.
// The player may be replaced (a playlist moves to an item another adapter plays) or absent
// (nothing playable here). No DOM and no socket: the player, clock and sender are injected,
// so it runs under test.

import { awaitingStart, expectedPosition, shouldBeMoving } from './timeline.js';
import { DRIFT_DEFAULTS, SeekLatency, driftAction } from './drift.js';
import { CUE_DEFAULTS, Cue, Join, cueLeadMs } from './cue.js';

export const TICK_MS = 200;
// After a viewer's own command their player is left as they set it until the server answers
// (or this long, when the command was refused), instead of being yanked back meanwhile.
const USER_HOLD_MS = 1500;
// Errors up to this size (or the player's dead band, if wider) are shown as "in sync".
const IN_SYNC_MS = 100;
// After a seek while playing, the player is left alone this long before its landing error
// is read: a player resumes in steps (seeked, decoding, moving) and only then shows what the
// seek really cost.
const SEEK_SETTLE_MS = 300;
// What a player costs before the first measurement: from play() to moving, and from a seek
// to moving again. Chromium here: 60–100 ms and 50–200 ms.
const START_LATENCY_PRIOR_MS = 80;
// The first measured start replaces the prior (this machine's players say more than a guess);
// one that seems to have taken longer than this met a stall, not play()'s cost.
const START_LATENCY_MAX_MS = 400;
const SEEK_LATENCY_PRIOR_MS = 80;
// While a seek is under way the player is looked at this often, so a scheduled start that
// waits for it is not a whole tick late.
const SEEK_POLL_MS = 20;
// A player that ended before the server knew the duration is treated as at the end this close to it.
const END_SLACK_MS = 250;
const RATE_MIN = 0.25;
const RATE_MAX = 2.0;

/** What cued players have taken to be ready: a fresh one (cold), and one cued again (warm). */
function cueEstimates() {
  return {
    cold: new SeekLatency({ initialMs: CUE_DEFAULTS.coldReadyMs }),
    warm: new SeekLatency({ initialMs: CUE_DEFAULTS.warmReadyMs }),
  };
}

export class Playback {
  constructor({ player, clock, send, timers = globalThis,
    onBlocked = () => {}, onSync = () => {}, onNotice = () => {} }) {
    Object.assign(this, { player, clock, send, timers, onBlocked, onSync, onNotice });
    this.state = null;
    this.playerReady = false;
    this.canControl = true;
    this.blocked = false; // the browser refused to start playback without a click
    this.starting = false; // a play() is under way
    this.holdUntil = 0;
    this.seekLatency = new SeekLatency({ initialMs: SEEK_LATENCY_PRIOR_MS });
    this.startLatency = new SeekLatency({ initialMs: START_LATENCY_PRIOR_MS, maxMs: START_LATENCY_MAX_MS, firstReplacesPrior: true });
    this.startTimer = null;
    this.seekPoll = null;
    this.startedEarly = null; // the state whose scheduled start was begun ahead of its anchor
    this.cueReady = cueEstimates();
    this.cue = null; // a paused player far from a party that plays is cued (cue.js)
    this.joining = null; // a Join, from a player's first cue until it has settled (cue.js)
    // {at, aimedMs, rate, latency} of a seek or start while playing, until its landing is read
    // into `latency` (the seek or the start estimate).
    this.seekCheck = null;
  }

  /**
   * The player can be positioned. `player` names which one, so a player that was replaced
   * meanwhile is not taken for the current one.
   */
  setPlayerReady(player = this.player) {
    if (player !== this.player || !player) return;
    this.playerReady = true;
    this.tick();
  }

  setCanControl(can) { this.canControl = can; }

  /**
   * Follows the party with another player (or with none: nothing to follow with), or with the
   * same one after it loaded other media. It is not ready until `setPlayerReady` says so.
   */
  setPlayer(player) {
    if (player !== this.player) { // another player, other costs
      this.seekLatency = new SeekLatency({ initialMs: SEEK_LATENCY_PRIOR_MS });
      this.startLatency = new SeekLatency({ initialMs: START_LATENCY_PRIOR_MS, maxMs: START_LATENCY_MAX_MS, firstReplacesPrior: true });
      this.cueReady = cueEstimates();
    }
    this.player = player;
    this.cue = null;
    this.joining = null;
    this.playerReady = false;
    this.starting = false;
    this.holdUntil = 0;
    this.seekCheck = null;
    this.timers.clearTimeout(this.startTimer);
    this.timers.clearTimeout(this.seekPoll);
    if (!player && this.blocked) this.setBlocked(false); // nothing left to start
    this.report(null);
  }

  /** A new authoritative state (from welcome or state): it ends any hold on the player. */
  setState(state) {
    this.state = state;
    this.holdUntil = 0;
    this.seekCheck = null; // a landing measured against another state would mean nothing
    this.cue = null;
    this.joining = null;
    this.tick();
  }

  /**
   * The timeline the player follows: the party's state, or while a cue stands, the same line
   * scheduled to start on the cue's instant (the player waits at the cue's position until then).
   */
  timeline() {
    return this.cue?.state ?? this.state;
  }

  /** The party is over for this page: let go of the player and stop following. */
  stop() {
    this.state = null;
    this.cue = null;
    this.timers.clearTimeout(this.startTimer);
    this.timers.clearTimeout(this.seekPoll);
    this.player?.pause();
  }

  /** The server refused a command: stop waiting for its answer. */
  commandRefused() {
    this.holdUntil = 0;
    this.tick();
  }

  /** Where the party's timeline puts the media now, in ms; null while unknown. */
  expectedMs() {
    const now = this.clock.serverNow();
    return this.state && now != null ? expectedPosition(this.state, now) : null;
  }

  /** player position − expected position now, in ms; null while either is unknown. */
  errorMs() {
    const now = this.clock.serverNow();
    if (!this.state || !this.playerReady || now == null) return null;
    return this.player.positionMs() - expectedPosition(this.timeline(), now);
  }

  /**
   * What the page's sync status is judged by (see sync-status.js): the error now, whether the
   * timeline moves, whether a seek is under way, whether the viewer's own command still awaits
   * the server's answer, and the player's dead band. Only `atMs` while the error is unknown.
   */
  syncSample() {
    const atMs = this.clock.now();
    const s = this.timeline();
    const p = this.player;
    const now = this.clock.serverNow();
    if (!s || !p || !this.playerReady || now == null) return { atMs, errorMs: null };
    const expected = expectedPosition(s, now);
    const pos = p.positionMs();
    const atEnd = p.ended() && expected >= pos - END_SLACK_MS;
    return {
      atMs,
      errorMs: atEnd ? 0 : pos - expected,
      moving: shouldBeMoving(s, now) && !atEnd,
      seeking: p.seeking(),
      holding: atMs < this.holdUntil,
      bandMs: this.policy().deadBandMs,
    };
  }

  policy() {
    return { ...DRIFT_DEFAULTS, ...this.player.driftPolicy(this.state.rate) };
  }

  /** One step of the sync loop; also run at once on every change. */
  tick() {
    const s = this.timeline();
    const p = this.player;
    const now = this.clock.serverNow();
    if (!s || !this.playerReady || now == null) return this.report(null);
    if (this.clock.now() < this.holdUntil) return undefined;
    // A seek under way: the position means nothing yet, so the page says "syncing…".
    if (p.seeking()) {
      this.cue?.seekingAt(now, this.startLatency.estimate());
      this.pollSeek();
      return this.report(null);
    }
    const expected = expectedPosition(s, now);
    const pos = p.positionMs();
    const atEnd = p.ended() && expected >= pos - END_SLACK_MS;
    const policy = this.policy();
    // A scheduled start is begun early by what play() takes, so the player moves on the anchor.
    const lead = this.startLatency.estimate();
    // Once begun, it is not paused again should the clock estimate move the anchor back out of reach.
    const startsNow = awaitingStart(s, now) && !atEnd && (s.anchor_ms - now <= lead || this.startedEarly === s);
    if (this.cue) {
      this.observeCue();
      const verdict = this.cue.verdict({ now, startsNow, paused: p.paused() });
      if (verdict === 'done') this.cue = null;
      // Missed while the browser refuses to play: cued again once the viewer's click allows it.
      if (verdict === 'again') return this.blocked ? this.report(null) : this.cueStart(now, { warm: true });
      if (verdict === 'hold') return this.holdForCue();
    }
    if ((!shouldBeMoving(s, now) && !startsNow) || atEnd) return this.holdStill(now, expected, pos, atEnd, policy);
    // Far off (or, while joining, off at all), a paused player is cued rather than started with a seek.
    const off = Math.abs(pos - expected);
    const joinCue = Boolean(this.joining?.mayCueAgain()) && off > policy.deadBandMs;
    if (p.paused() && !startsNow && (off > policy.seekThresholdMs || joinCue) && !this.blocked && !this.starting) {
      return this.cueStart(now, { warm: Boolean(this.joining) });
    }
    if (p.paused()) return this.start(expected, pos, policy, startsNow ? s.anchor_ms - now : null);
    if (this.seekCheck && !this.seekLanded(pos - expected)) return this.report(pos - expected, policy);
    if (this.joining && !startsNow) {
      const verdict = this.joining.playing(Math.abs(pos - expected), policy.deadBandMs, this.clock.now());
      if (verdict === 'settled') this.joining = null;
      if (verdict === 'again') {
        p.pause();
        return this.cueStart(now, { warm: true });
      }
    }
    if (startsNow) return this.report(pos - expected, policy); // started early: runs into the anchor

    const act = driftAction({
      errorMs: pos - expected,
      expectedMs: expected,
      rate: s.rate,
      paused: false,
      nudging: Math.abs(p.rate() - p.snapRate(s.rate)) > 0.0005,
      seekLatencyMs: this.seekLatency.estimate(),
    }, policy);
    if (act.action === 'seek') {
      p.setRate(p.snapRate(s.rate));
      p.seek(act.target);
      this.pollSeek();
      this.seekCheck = { at: this.clock.now(), aimedMs: act.target - expected, rate: s.rate, latency: this.seekLatency };
    } else {
      p.setRate(p.snapRate(act.rate));
    }
    return this.report(pos - expected, policy);
  }

  /**
   * Cues the paused player (cue.js): from now on it follows the party's line scheduled to
   * start a moment from `now` (server time), and is moved there, paused, by this tick.
   */
  cueStart(now, { warm = false } = {}) {
    const lead = (kind) => cueLeadMs({ readyMs: this.cueReady[kind].estimate(), startMs: this.startLatency.estimate() });
    // A cue into media the player holds already (it was served starting near there) is warm.
    const hot = warm || Boolean(this.player.holds?.(expectedPosition(this.state, now + lead('warm'))));
    const leadMs = lead(hot ? 'warm' : 'cold');
    this.cue = new Cue(this.state, { now, leadMs, localNow: this.clock.now(), warm: hot });
    this.joining ??= new Join();
    this.joining.cued();
    this.player.fetchAhead?.(); // it plays from there in a moment
    return this.tick();
  }

  /** Learns, on every tick under a cue, how long the player took to be ready at its position. */
  observeCue() {
    const p = this.player;
    const took = this.cue.observe(!p.seeking() && (p.canPlay?.() ?? true), this.clock.now());
    if (took != null) this.cueReady[this.cue.warm ? 'warm' : 'cold'].observe(took);
  }

  /** The cue's instant has come with the player not ready there: keep still, look again soon. */
  holdForCue() {
    this.timers.clearTimeout(this.seekPoll);
    this.seekPoll = this.timers.setTimeout(() => this.tick(), SEEK_POLL_MS);
    return this.report(null);
  }

  holdStill(now, expected, pos, atEnd, policy) {
    const s = this.timeline();
    const p = this.player;
    // Nothing to join while the party is paused (a cued start is the party's playing, though).
    if (this.blocked && s !== this.cue?.state) this.setBlocked(false);
    if (!p.paused()) p.pause();
    p.setRate(p.snapRate(s.rate));
    const act = driftAction({ errorMs: pos - expected, expectedMs: expected, rate: s.rate, paused: true }, policy);
    if (act.action === 'seek' && !atEnd) {
      p.seek(act.target);
      this.pollSeek();
    }
    if (this.cue?.state === s) this.cue.moved = true;
    if (awaitingStart(s, now)) {
      // Start on the scheduled instant (less what play() takes) rather than on the next tick,
      // up to TICK_MS late.
      const early = this.startLatency.estimate();
      this.timers.clearTimeout(this.startTimer);
      this.startTimer = this.timers.setTimeout(() => this.tick(), Math.max(0, s.anchor_ms - now - early) + 1);
    }
    return this.report(atEnd ? 0 : pos - expected, policy);
  }

  /**
   * Plays a paused player. `earlyMs` is how long before the scheduled anchor this start is
   * (null when the anchor has passed).
   */
  start(expected, pos, policy, earlyMs = null) {
    const s = this.timeline();
    const p = this.player;
    if (this.blocked || this.starting) return this.report(pos - expected, policy);
    p.setRate(p.snapRate(s.rate));
    if (earlyMs != null) this.startedEarly = s;
    if (earlyMs != null && Math.abs(pos - expected) <= policy.pausedToleranceMs + 1) {
      // Waiting at the start position: a landing `earlyMs` ahead of a late start measures play().
      this.seekCheck = { at: this.clock.now(), aimedMs: earlyMs * s.rate, rate: s.rate, latency: this.startLatency };
    } else if (Math.abs(pos - expected) > policy.deadBandMs) {
      const early = earlyMs ?? 0;
      const aheadMs = Math.max(0, this.seekLatency.estimate() - early) * s.rate;
      p.seek(expected + aheadMs);
      this.pollSeek();
      this.seekCheck = { at: this.clock.now(), aimedMs: aheadMs + early * s.rate, rate: s.rate, latency: this.seekLatency };
    } else if (this.joining) {
      this.seekCheck = { at: this.clock.now(), aimedMs: 0, rate: s.rate, latency: null }; // let it settle first
    }
    this.starting = true;
    p.play().then(() => {
      this.starting = false;
    }, (err) => {
      this.starting = false;
      if (err?.name !== 'NotAllowedError') return;
      this.seekCheck = null; // a start that never happened measures nothing
      this.setBlocked(true);
    });
    return this.report(pos - expected, policy);
  }

  /** Looks at the player again soon while a seek is under way, rather than a tick later. */
  pollSeek() {
    this.timers.clearTimeout(this.seekPoll);
    this.seekPoll = this.player.seeking() ? this.timers.setTimeout(() => this.tick(), SEEK_POLL_MS) : null;
  }

  /** The viewer clicked "Join playback": a user gesture, so the browser now lets it play. */
  join() {
    this.setBlocked(false);
    this.holdUntil = 0;
    this.tick();
  }

  setBlocked(blocked) {
    this.blocked = blocked;
    this.onBlocked(blocked);
  }

  /**
   * Reads how a seek while playing landed, once it has settled: a seek aimed `aimedMs` ahead
   * that lands `errorMs` off cost (aimedMs − errorMs) / rate of playing time. False while
   * it is still settling.
   */
  seekLanded(errorMs) {
    const { at, aimedMs, rate, latency } = this.seekCheck;
    if (this.clock.now() - at < SEEK_SETTLE_MS) return false;
    this.seekCheck = null;
    latency?.observe(Math.max(0, (aimedMs - errorMs) / rate));
    return true;
  }

  // The viewer's own actions on the player's controls.

  userPlay() {
    // The party already plays: this viewer's player was only catching up (or blocked).
    if (this.state && !this.state.paused) return this.join();
    if (!this.command('play')) return this.tick();
    // The server schedules the start a moment ahead for everyone; wait for it here too.
    this.player?.pause();
    return undefined;
  }

  userPause(positionMs) {
    if (this.state?.paused) return this.tick();
    if (!this.command('pause', { position_ms: this.clampPosition(positionMs) })) this.tick();
    return undefined;
  }

  userSeeking() {
    if (this.canControl) this.holdUntil = this.clock.now() + USER_HOLD_MS;
  }

  userSeek(positionMs) {
    if (!this.command('seek', { position_ms: this.clampPosition(positionMs) })) this.tick();
  }

  userRate(rate) {
    const bounded = Math.min(Math.max(rate, RATE_MIN), RATE_MAX);
    if (!this.command('rate', { rate: bounded })) this.tick();
  }

  /** Playlists: the viewer asked for the next item, or for a given one. */
  userSkip() { this.command('skip'); }
  userJump(itemId) { this.command('jump', { item_id: itemId }); }

  command(type, fields = {}) {
    if (!this.canControl) {
      this.onNotice('Only the host and the people they promote can control playback.');
      return false;
    }
    if (!this.send(type, fields)) {
      this.onNotice('Not connected: your change was not sent.');
      return false;
    }
    this.holdUntil = this.clock.now() + USER_HOLD_MS;
    return true;
  }

  clampPosition(ms) {
    const upper = this.state?.duration_ms ?? Infinity;
    return Math.round(Math.min(Math.max(ms, 0), upper));
  }

  report(errorMs, policy) {
    const band = Math.max(IN_SYNC_MS, policy?.deadBandMs ?? 0);
    this.onSync({ errorMs, inSync: errorMs != null && Math.abs(errorMs) <= band });
    return undefined;
  }
}
