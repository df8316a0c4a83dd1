// The viewer's actions on a native <video controls> element, read as what the viewer meant.
// The element reports what happened to it, not why: Chromium's controls (Firefox's too) pause
// a playing video while the mouse is pressed on the timeline and play it again when it is let
// go, so one click there reads pause → seeking → play, and a drag pause → many seeks → play.
// Taken one by one those would be three commands (the whole party paused, three chat lines,
// and the play could overtake the seek); this turns them into the one seek the viewer made.
// Pure: the player's position and the timers are injected.

// A pause waits this long for a seek that makes it the start of a press on the timeline. The
// controls queue the seek right behind the pause, so it comes long before this.
const PAUSE_HOLD_MS = 250;
// Seeks outside such a press (a paused player, the timeline's keys): a burst of them is sent
// at its first seek and again where it rests this long.
const SEEK_SETTLE_MS = 300;
// A press on the timeline ends when playback resumes. One that does not resume (the viewer
// paused just before pressing) ends this long after its last seek, as a seek and a pause.
const PRESS_END_MS = 10_000;

export class NativeControls {
  /**
   * @param {object} commands what the viewer meant: pause(ms), seeking(), seek(ms), play()
   * @param {object} o
   * @param {() => number} o.position where the player is now (ms)
   * @param {object} [o.timers] setTimeout/clearTimeout
   */
  constructor(commands, { position, timers = globalThis, pauseHoldMs = PAUSE_HOLD_MS,
    settleMs = SEEK_SETTLE_MS, pressEndMs = PRESS_END_MS }) {
    Object.assign(this, { commands, position, timers, pauseHoldMs, pressEndMs });
    this.burst = new UserSeekBurst((ms) => commands.seek(ms), { settleMs, timers });
    this.phase = 'idle'; // 'idle' | 'pausing' (a pause held back) | 'pressed' (on the timeline)
    this.timer = null;
    this.seekUnderway = false; // a seek of the press has begun and not completed
    this.trailing = false; // the press ended before its seek completed: that completion is its
  }

  /** True while a pause is held back or the timeline is pressed: the page leaves the player be. */
  active() { return this.phase !== 'idle'; }

  /** The viewer paused the player. */
  paused() {
    if (this.phase === 'pressed') return;
    const at = this.position();
    this.burst.reset();
    this.enter('pausing', this.pauseHoldMs, () => this.commands.pause(at));
  }

  /** The viewer began a seek. */
  seeking() {
    if (this.phase === 'idle') {
      this.trailing = false; // a new seek supersedes the press's
      this.burst.hold();
    } else {
      this.seekUnderway = true;
      this.pressed(); // the held pause was the press's; a seek is what it meant
    }
    this.commands.seeking();
  }

  /** The viewer's seek completed. */
  seeked() {
    this.seekUnderway = false;
    if (this.phase === 'pressed') this.pressed();
    else if (this.phase === 'idle') this.burst.seeked(this.position);
  }

  /**
   * True (once) for the completion of a press's seek that ended after playback resumed: it is
   * the press's, whatever the page asked of the player meanwhile. Ask before anything else.
   */
  trailingSeeked() {
    const trailing = this.trailing;
    this.trailing = false;
    this.seekUnderway = false;
    return trailing;
  }

  /** The page starts a seek of its own while one is under way, which aborts that one. */
  seekAborted() {
    this.trailing = false;
    this.seekUnderway = false;
  }

  /** The viewer started playback. */
  played() {
    const phase = this.phase;
    this.enter('idle');
    this.trailing = phase === 'pressed' && this.seekUnderway;
    if (phase === 'pressed') this.commands.seek(this.position()); // let go: the press was a seek
    else if (phase === 'idle') this.commands.play();
    // 'pausing': paused and played again at once; nothing for the party
  }

  /** The timeline is pressed, and stays so until playback resumes or PRESS_END_MS pass. */
  pressed() {
    this.enter('pressed', this.pressEndMs, () => {
      const at = this.position();
      this.commands.seek(at);
      this.commands.pause(at);
    });
  }

  /** Forgets everything under way (other media, or the player is gone). */
  reset() {
    this.enter('idle');
    this.seekUnderway = false;
    this.trailing = false;
    this.burst.reset();
  }

  /** Moves to `phase`; with `ms`, runs `done` (back in 'idle') unless something comes first. */
  enter(phase, ms = null, done = null) {
    this.timers.clearTimeout(this.timer);
    this.timer = null;
    this.phase = phase;
    if (ms === null) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      this.phase = 'idle';
      done();
    }, ms);
  }
}

/**
 * The viewer's seeks outside a press on the timeline, as commands: the first of a burst is
 * sent at once, so a lone seek costs no wait; the rest of a drag is sent once, where it rests.
 */
export class UserSeekBurst {
  /** @param {(ms: number) => void} send */
  constructor(send, { settleMs = SEEK_SETTLE_MS, timers = globalThis } = {}) {
    Object.assign(this, { send, settleMs, timers });
    this.count = 0; // seeks completed in this burst
    this.timer = null;
  }

  /** A viewer's seek completed; `positionMs()` reads where the player is. */
  seeked(positionMs) {
    this.timers.clearTimeout(this.timer);
    this.count += 1;
    if (this.count === 1) this.send(positionMs());
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      if (this.count > 1) this.send(positionMs());
      this.count = 0;
    }, this.settleMs);
  }

  /** Another seek of the viewer's begins: the burst is not over until it completes. */
  hold() {
    this.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  /** Forgets the burst (other media, or the player is gone). */
  reset() {
    this.hold();
    this.count = 0;
  }
}
