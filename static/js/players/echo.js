// Echo suppression for player adapters: tells the user's own actions on the player apart
// from the changes the page made itself while following the server. Only the former are
// commands; echoing the latter would bounce every state change back to the server.
// Pure: the adapter reports what it did and what it observed; the clock is injected.

// A programmatic seek that never reports completion is forgotten after this long.
const SEEK_EXPIRY_MS = 5000;
// How close the observed position must be to the target of our seek to count as ours.
const SEEK_MATCH_MS = 250;
// A seek that starts this soon after the page's own is the page's, wherever it landed: the
// browser moves an unseekable target to the nearest seekable position, and no viewer is that fast.
const SEEK_START_WINDOW_MS = 100;
const RATE_MATCH = 0.001;

export class EchoGuard {
  constructor(now = () => performance.now()) {
    this.now = now;
    this.expectPaused = true; // media elements start paused
    this.pendingSeek = null; // {target, at} of the page's latest seek until it completes
    this.rateSet = 1;
  }

  // What the page is about to do. Call these right before touching the player.
  willPlay() { this.expectPaused = false; }
  willPause() { this.expectPaused = true; }
  willSeek(targetMs) { this.pendingSeek = { target: targetMs, at: this.now() }; }
  willSetRate(rate) { this.rateSet = rate; }

  /** A seek the page made is still under way. */
  seekPending() {
    if (this.pendingSeek && this.now() - this.pendingSeek.at > SEEK_EXPIRY_MS) this.pendingSeek = null;
    return this.pendingSeek !== null;
  }

  /** The player started playing: 'user' when the page did not ask for it. */
  observePlay() {
    if (!this.expectPaused) return 'echo';
    this.expectPaused = false; // the player now plays; its next pause is judged from there
    return 'user';
  }

  /**
   * The player paused. `natural` is true for pauses nobody chose: the end of the media,
   * or the browser pausing a hidden page; those are neither echoes nor commands.
   */
  observePause({ natural = false } = {}) {
    if (this.expectPaused) return 'echo';
    this.expectPaused = true;
    return natural ? 'ignore' : 'user';
  }

  /** The player started seeking to `positionMs`. */
  observeSeeking(positionMs) {
    if (!this.seekPending()) return 'user';
    const justAsked = this.now() - this.pendingSeek.at <= SEEK_START_WINDOW_MS;
    if (!justAsked && !this.matchesPendingSeek(positionMs)) return 'user';
    this.pendingSeek.target = positionMs; // where the browser actually went
    return 'echo';
  }

  /**
   * The player finished seeking at `positionMs`: 'echo' (and the page's seek is complete) or
   * 'user'. `aheadMs` allows for playback since the seek when completion is noticed late
   * (by polling).
   */
  observeSeeked(positionMs, { aheadMs = 0 } = {}) {
    if (!this.matchesPendingSeek(positionMs, aheadMs)) return 'user';
    this.pendingSeek = null;
    return 'echo';
  }

  /** The playback rate changed to `rate`: 'user' unless it is the rate the page set. */
  observeRate(rate) {
    if (Math.abs(rate - this.rateSet) < RATE_MATCH) return 'echo';
    this.rateSet = rate; // adopt it, so a repeated event for the same change is not sent twice
    return 'user';
  }

  matchesPendingSeek(positionMs, aheadMs = 0) {
    if (!this.seekPending()) return false;
    const past = positionMs - this.pendingSeek.target;
    return past >= -SEEK_MATCH_MS && past <= aheadMs + SEEK_MATCH_MS;
  }
}
