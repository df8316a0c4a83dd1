// Buffering reports: turns the player's raw waiting/ready signals into `buffering` and
// `ready` messages. A short stall (a seek landing, a rate change) is not reported, because
// with "wait for everyone" one buffering viewer holds the whole party.

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

  /** The player can play again. */
  ready() {
    this.timers.clearTimeout(this.timer);
    this.timer = null;
    if (!this.reported) return;
    this.reported = false;
    this.send('ready');
  }

  /** A new connection starts with the viewer counted as watching: repeat a stall still going on. */
  reconnected() {
    if (this.reported) this.send('buffering');
  }
}
