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
// The page may undo its own play or pause at once (the party pauses to wait for a viewer just
// as a scheduled start begins, or resumes just after pausing): the player then reports the
// first change after the page has already asked for the second. Reported this soon after the
// page asked for it, such a change is still the page's; no viewer toggles a player that fast.
// An adapter that knows which of its calls will be reported (a media element reports each
// flip of its `paused` flag) says so, and those reports are the page's however late they come
// (after the whole browser froze, say); the window serves the others.
const SUPERSEDED_WINDOW_MS = 250;

export class EchoGuard {
  constructor(now = () => performance.now()) {
    this.now = now;
    this.expectPaused = true; // media elements start paused
    this.pendingSeek = null; // {target, at} of the page's latest seek until it completes
    this.rateSet = 1;
    this.ownPlay = null; // when the page last asked to play, until the player reports a start
    this.ownPause = null; // when the page last asked to pause, until the player reports a pause
    this.duePlays = 0; // reports of a start the page's own calls are known to cause, not yet in
    this.duePauses = 0; // the same for pauses
  }

  // What the page is about to do. Call these right before touching the player; `reported`:
  // the player will report this change (it was paused, or playing, before), as far as the
  // adapter can tell.
  willPlay({ reported = false } = {}) {
    this.expectPaused = false;
    this.ownPlay = this.now();
    if (reported) this.duePlays += 1;
  }
  willPause({ reported = false } = {}) {
    this.expectPaused = true;
    this.ownPause = this.now();
    if (reported) this.duePauses += 1;
  }
  willSeek(targetMs) { this.pendingSeek = { target: targetMs, at: this.now() }; }
  willSetRate(rate) { this.rateSet = rate; }
  /** The page loads other media: playback stops, the rate returns to `defaultRate`, no seek is under way. */
  willLoad(defaultRate = 1) {
    this.expectPaused = true;
    this.ownPlay = null;
    this.ownPause = this.now();
    this.duePlays = 0; // loading drops the reports still queued
    this.duePauses = 0;
    this.pendingSeek = null;
    this.rateSet = defaultRate;
  }

  /**
   * The browser refused the page's play (autoplay policy, or media it cannot play): the
   * player never started. `reported`: as told to `willPlay`.
   */
  playRefused({ reported = false } = {}) {
    this.expectPaused = true;
    this.ownPlay = null; // no start will be reported, so the viewer's next play is theirs
    if (reported) this.duePlays = Math.max(0, this.duePlays - 1);
  }

  /** A seek the page made is still under way. */
  seekPending() {
    if (this.pendingSeek && this.now() - this.pendingSeek.at > SEEK_EXPIRY_MS) this.pendingSeek = null;
    return this.pendingSeek !== null;
  }

  /** The player started playing: 'user' when the page did not ask for it. */
  observePlay() {
    const own = this.duePlays > 0 || this.recent(this.ownPlay);
    this.duePlays = Math.max(0, this.duePlays - 1);
    this.ownPlay = null;
    if (!this.expectPaused) return 'echo';
    if (own) return 'echo'; // the page's play, already overtaken by its pause (whose event follows)
    this.expectPaused = false; // the player now plays; its next pause is judged from there
    return 'user';
  }

  /**
   * The player paused. `natural` is true for pauses nobody chose: the end of the media,
   * or the browser pausing a hidden page; those are neither echoes nor commands.
   */
  observePause({ natural = false } = {}) {
    const own = this.duePauses > 0 || this.recent(this.ownPause);
    this.duePauses = Math.max(0, this.duePauses - 1);
    this.ownPause = null;
    if (this.expectPaused) return 'echo';
    if (own) return 'echo'; // the page's pause, already overtaken by its play (whose event follows)
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

  /** True when the page asked for something at `at` (or null) only a moment ago. */
  recent(at) {
    return at !== null && this.now() - at <= SUPERSEDED_WINDOW_MS;
  }

  matchesPendingSeek(positionMs, aheadMs = 0) {
    if (!this.seekPending()) return false;
    const past = positionMs - this.pendingSeek.target;
    return past >= -SEEK_MATCH_MS && past <= aheadMs + SEEK_MATCH_MS;
  }
}
