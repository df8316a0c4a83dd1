// Buffering reports: turns the player's raw waiting/ready signals into `buffering` and
// `ready` messages. A short stall (a seek landing, a rate change) is not reported, because
// with "wait for everyone" one buffering viewer holds the whole party. The end of a stall is
// reported at once: a party waiting for this viewer resumes as soon as everyone is ready.
// A player that should play and cannot yet (a first load that has not got anywhere, which
// raises no event at all) counts as stalled too, from the moment the party needs it.

export const BUFFERING_REPORT_DELAY_MS = 500;

export class BufferingReporter {
  /**
   * @param {(type: 'buffering'|'ready') => void} send
   * @param {{setTimeout: Function, clearTimeout: Function}} timers
   */
  constructor(send, timers = globalThis, delayMs = BUFFERING_REPORT_DELAY_MS) {
    this.send = send;
    this.timers = timers;
    this.delayMs = delayMs;
    this.timer = null;
    this.reported = false; // the server currently counts this viewer as buffering
    this.mustPlay = false; // at the last check, the party needed this player to play
  }

  /** The player is waiting for data while it should play. */
  waiting() {
    if (this.reported || this.timer !== null) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      this.reported = true;
      this.send('buffering');
    }, this.delayMs);
  }

  /** The player can play again (or the stalled player is gone). */
  ready() {
    this.timers.clearTimeout(this.timer);
    this.timer = null;
    if (!this.reported) return;
    this.reported = false;
    this.send('ready');
  }

  /** True from a stall's start (reported or not yet) until the player can play again. */
  stalled() {
    return this.reported || this.timer !== null;
  }

  /**
   * Checks a stalled player directly: `playable` says whether it could play now. A player the
   * page paused while it stalled (the party waits, maybe for this very viewer) may get its
   * data without any event saying so; this notices it on the next check. `mustPlay` says the
   * party needs the player to be playing now: one that cannot is stalled, event or not.
   */
  check(playable, mustPlay = false) {
    const started = mustPlay && !this.mustPlay;
    this.mustPlay = mustPlay;
    if (playable) {
      if (this.stalled()) this.ready();
      return;
    }
    if (!mustPlay) return;
    // The party starts to play while this player still loads: say so again, so a party
    // that was paused when the stall began holds for it now.
    if (started && this.reported) this.send('buffering');
    else this.waiting();
  }

  /** A new connection starts with the viewer counted as watching: repeat a stall still going on. */
  reconnected() {
    if (this.reported) this.send('buffering');
  }
}
