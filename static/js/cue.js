// A cued start: how a paused player joins a party that plays (a viewer arriving, a player
// that stopped). Started at once with a seek while playing, it would land late by however
// long fetching and decoding at the new place take, and then be nudged in over a second or
// more. Cued, it is moved, paused, to where the party's timeline will be a moment from now
// and started on that instant, like a scheduled start. Pure: what the player does and what
// time it is are told to it.

import { expectedPosition } from './timeline.js';

/** Tuning for cues. */
export const CUE_DEFAULTS = Object.freeze({
  // From a cue's seek until the player is ready to play there (moved, with data to play
  // from). Cold: the first cue of a player, which fetches the media there (Chromium here,
  // fresh page on loopback, a busy machine: 100–500 ms); warm: a short hop ahead of a place
  // it has just loaded.
  coldReadyMs: 250,
  warmReadyMs: 60,
  spareMs: 100, // left to spare on top
  maxLeadMs: 8000, // however slow the player was, a cue is put at most this far ahead
  // A joining player (from its first cue until it has stayed in its dead band this long)
  // found further off than a frame once its start has settled — it landed off, or stalled on
  // a busy machine — is cued again rather than nudged in over a second: a newcomer's picture
  // may jump. At most this many cues per join.
  settledMs: 1000,
  joinBandMs: 33,
  joinCuesMax: 3,
});

export class Cue {
  /**
   * The party's line (`state`, playing) scheduled to start `leadMs` after server time `now`:
   * from that instant on the very same line; before it, waiting at the position it will be at.
   * `localNow` is when the cue is made, on the page's own clock; `warm` says whether the
   * player has just been ready near there (a cue made again).
   */
  constructor(state, { now, leadMs, localNow, warm = false }) {
    const anchor = now + leadMs;
    this.state = { ...state, position_ms: expectedPosition(state, anchor), anchor_ms: anchor };
    this.at = localNow;
    this.warm = warm;
    this.moved = false; // the player was sent to the cue's position
    this.readyAfterMs = null; // how long after the cue it was ready to play there
    this.missed = false; // its instant came before the player was ready
  }

  get ready() {
    return this.readyAfterMs != null;
  }

  /**
   * Notes whether the player, sent to the cue's position, is ready to play there at local time
   * `localNow`. Returns how long that took when it has just become so, else null.
   */
  observe(playerReady, localNow) {
    if (!this.moved || this.ready || !playerReady) return null;
    this.readyAfterMs = localNow - this.at;
    return this.readyAfterMs;
  }

  /** The player is still moving to the cue's position at server time `now`: late if it is due. */
  seekingAt(now, startMs) {
    if (now >= this.state.anchor_ms - startMs) this.missed = true;
  }

  /**
   * What the cue says at server time `now`, `startsNow` telling whether its start would begin
   * now (it is begun early by what play() takes) and `paused` whether the player is paused:
   * - `follow`: the player follows the cue's line (waits for its instant, starts on it, plays);
   * - `done`: it plays and the instant has passed: the party's own line is the same from here;
   * - `hold`: the instant has come but the player is not ready there yet: keep it still;
   * - `again`: it was ready only after the instant: cue it again, a short hop ahead.
   */
  verdict({ now, startsNow, paused }) {
    const due = startsNow || now >= this.state.anchor_ms;
    if (!paused) return now >= this.state.anchor_ms ? 'done' : 'follow';
    if (!due) return 'follow';
    if (!this.ready) {
      this.missed = true;
      return 'hold';
    }
    return this.missed ? 'again' : 'follow';
  }
}

/** A player joining the party: from its first cue until it has settled in its dead band. */
export class Join {
  constructor() {
    this.cues = 0;
    this.inBandSince = null;
  }

  /** One more cue. */
  cued() {
    this.cues += 1;
    this.inBandSince = null;
  }

  /** Whether it may be cued again (it has not used up its cues). */
  mayCueAgain(tuning = CUE_DEFAULTS) {
    return this.cues < tuning.joinCuesMax;
  }

  /**
   * The player plays `offMs` from the party at local time `localNow`, its dead band
   * `deadBandMs`: `again` (cue it again), `settled` (the join is over) or `on`.
   */
  playing(offMs, deadBandMs, localNow, tuning = CUE_DEFAULTS) {
    if (offMs > deadBandMs) {
      this.inBandSince = null;
      return offMs > tuning.joinBandMs && this.mayCueAgain(tuning) ? 'again' : 'on';
    }
    this.inBandSince ??= localNow;
    return localNow - this.inBandSince >= tuning.settledMs ? 'settled' : 'on';
  }
}

/** How far ahead to put a cue: its ready time, to spare, and play()'s own cost, bounded. */
export function cueLeadMs({ readyMs, startMs }, tuning = CUE_DEFAULTS) {
  return Math.min(readyMs + tuning.spareMs + startMs, tuning.maxLeadMs);
}
