// Buffering reports: turns the player's raw waiting/ready signals into `buffering` and
// `ready` messages. A short stall (a seek landing, a rate change) is not reported, because
// with "wait for everyone" one buffering viewer holds the whole party. The end of a stall is
// reported at once: a party waiting for this viewer resumes as soon as everyone is ready.

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
   * data without any event saying so; this notices it on the next check.
   */
  check(playable) {
    if (playable && this.stalled()) this.ready();
  }

  /** A new connection starts with the viewer counted as watching: repeat a stall still going on. */
  reconnected() {
    if (this.reported) this.send('buffering');
  }
}
