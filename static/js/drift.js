// Drift control: decides how a playing or paused player is brought back onto the server
// timeline. Pure: it only turns an error into an action; applying it is the page's job.

/** Tuning for driftAction; player adapters with coarse controls pass their own. */
export const DRIFT_DEFAULTS = Object.freeze({
  deadBandMs: 10, // errors this small are left alone (a frame is 33 ms)
  settleMs: 2, // once nudging, keep going until this close, so the error does not park at the band's edge
  pausedToleranceMs: 0.01, // paused players, the pausing one too, rest on exactly the same position (the same frame)
  seekThresholdMs: 120, // beyond this a rate nudge (≥ 5× the error in time) would take too long: seek
  maxNudge: 0.2, // playbackRate stays within (1 ± maxNudge) × rate; 0 disables nudging
  correctionMs: 600, // a nudge aims to close the error over this long
});

/**
 * @param {object} input
 * @param {number} input.errorMs player position − expected position
 * @param {number} input.expectedMs expected position now (the seek target's base)
 * @param {number} input.rate the state's rate
 * @param {boolean} input.paused whether the state is paused (or not started yet)
 * @param {boolean} [input.nudging] whether the player currently runs at a nudged rate
 * @param {number} [input.seekLatencyMs] how long a seek takes to complete while playing
 * @returns {{action: 'none'|'rate'|'seek', rate: number, target: number|null}}
 */
export function driftAction(input, policy = DRIFT_DEFAULTS) {
  const { errorMs, expectedMs, rate, paused, nudging = false, seekLatencyMs = 0 } = input;
  const p = { ...DRIFT_DEFAULTS, ...policy };
  const off = Math.abs(errorMs);

  if (paused) {
    // A paused player never nudges: the rate has no effect until it plays.
    if (off > p.pausedToleranceMs) return { action: 'seek', rate, target: expectedMs };
    return { action: 'none', rate, target: null };
  }

  const band = nudging ? p.settleMs : p.deadBandMs;
  if (off <= band) return { action: 'none', rate, target: null };

  if (off > p.seekThresholdMs || p.maxNudge <= 0) {
    // The timeline keeps moving while the player seeks: aim where it will be when done.
    return { action: 'seek', rate, target: expectedMs + seekLatencyMs * rate };
  }

  // Running at rate − e/T for T ms closes an error of e ms (ahead when positive).
  const wanted = rate - errorMs / p.correctionMs;
  const bounded = clamp(wanted, rate * (1 - p.maxNudge), rate * (1 + p.maxNudge));
  return { action: 'rate', rate: Math.round(bounded * 1000) / 1000, target: null };
}

/**
 * Exponential average of how long seeks take to complete while playing, so the next seek
 * can aim ahead by that much.
 */
export class SeekLatency {
  /**
   * `initialMs` is a prior, which measurements then move like any earlier estimate — or, with
   * `firstReplacesPrior`, which the first measurement replaces (this player, on this machine,
   * says more than any guess).
   */
  constructor({ alpha = 0.3, maxMs = 3000, initialMs = null, firstReplacesPrior = false } = {}) {
    this.alpha = alpha;
    this.maxMs = maxMs; // a seek that stalled on the network says nothing about the next one
    this.value = initialMs;
    this.measured = !firstReplacesPrior;
  }

  /** Folds in one measured seek duration (ms). */
  observe(ms) {
    if (!Number.isFinite(ms) || ms < 0) return;
    const sample = Math.min(ms, this.maxMs);
    this.value = this.value == null || !this.measured ? sample : this.value + this.alpha * (sample - this.value);
    this.measured = true;
  }

  /** Current estimate in ms (the prior, or 0 without one, before any seek was measured). */
  estimate() {
    return this.value ?? 0;
  }
}

function clamp(x, lo, hi) {
  return Math.min(Math.max(x, lo), hi);
}
