// The YouTube player's sync policy as pure functions: which rates it can really play, how
// drift is corrected with them, and how a viewer's seek shows up in sampled positions.
// Kept apart from the adapter so it is tested without the IFrame API.

const VIDEO_ID = /^[A-Za-z0-9_-]{11}$/;

/** True for a well-formed YouTube video id (11 characters of the URL-safe alphabet). */
export function isVideoId(id) {
  return typeof id === 'string' && VIDEO_ID.test(id);
}

/** The available rate closest to `desired` (the player rounds to one of them anyway). */
export function snapRate(desired, available) {
  if (!available?.length) return desired;
  return available.reduce((best, r) => (Math.abs(r - desired) < Math.abs(best - desired) ? r : best));
}

/**
 * True when the player offers rates close enough on both sides of `base` to nudge with:
 * within (1 ± maxNudge) × base. The standard set (0.25 steps) offers none, so for it
 * a 10 % nudge would become a 25 % lurch.
 */
export function canNudge(available, base, maxNudge = 0.1) {
  const near = (r) => Math.abs(r - base) > 1e-9 && Math.abs(r - base) <= base * maxNudge + 1e-9;
  return (available ?? []).some((r) => near(r) && r > base) && (available ?? []).some((r) => near(r) && r < base);
}

/**
 * Drift policy for the YouTube player. Its positions are coarser than a <video> element's and
 * each seek rebuffers, so the bands are wider; with only standard rates it cannot nudge and
 * seeks once the error is beyond the band.
 */
export function youtubeDriftPolicy(available, base) {
  if (canNudge(available, base)) {
    return { deadBandMs: 60, settleMs: 20, pausedToleranceMs: 100, seekThresholdMs: 1000, maxNudge: 0.1 };
  }
  return { deadBandMs: 250, settleMs: 250, pausedToleranceMs: 150, seekThresholdMs: 250, maxNudge: 0 };
}

/**
 * True when the position sampled at `at` cannot be explained by the previous sample and the
 * playback since: someone moved the playhead. `toleranceMs` absorbs polling jitter and
 * buffering stalls (a stall only makes the player fall behind by the stall's length).
 */
export function detectJump({ prevMs, prevAt, posMs, at, playing, rate, toleranceMs = 1000 }) {
  const predicted = prevMs + (playing ? Math.max(0, at - prevAt) * rate : 0);
  return Math.abs(posMs - predicted) > toleranceMs;
}

/** YT.PlayerState values, so the adapter does not depend on the global being loaded. */
export const YT_STATE = Object.freeze({ UNSTARTED: -1, ENDED: 0, PLAYING: 1, PAUSED: 2, BUFFERING: 3, CUED: 5 });

/**
 * What a player state change means while the page is waiting for its own playVideo() to
 * take effect: PLAYING confirms it, and falling back to a stopped state means the browser
 * refused to start (autoplay policy), not that the viewer paused.
 */
export function playAttemptOutcome(ytState) {
  if (ytState === YT_STATE.PLAYING) return 'started';
  if (ytState === YT_STATE.PAUSED || ytState === YT_STATE.CUED) return 'refused';
  // UNSTARTED is also the first step of a start that works (-1 → 3 → 1): wait and see.
  return 'pending';
}

// A paused player counts as able to play on once this much is loaded past its position.
const LOADED_AHEAD_MS = 1000;

/**
 * Whether the player could play on from its position without waiting. Playing says so; a
 * paused (or cued) player tells nothing by itself, so the part of the video it has loaded
 * (getVideoLoadedFraction, loaded up to fraction × duration) must reach LOADED_AHEAD_MS past
 * the position, or the end.
 */
export function canPlayFrom({ state, positionMs, durationMs, loadedFraction }) {
  if (state === YT_STATE.PLAYING) return true;
  if (state !== YT_STATE.PAUSED && state !== YT_STATE.CUED) return false;
  if (!(durationMs > 0) || !Number.isFinite(loadedFraction)) return false;
  const loadedToMs = loadedFraction * durationMs;
  return loadedToMs >= Math.min(positionMs + LOADED_AHEAD_MS, durationMs - 1);
}

/**
 * Why a YouTube video cannot be played here, as the page tells the viewer and the server:
 * `reason` is the protocol's word for it (docs/protocol.md, `unplayable`), `message` the
 * viewer's. `code` is the IFrame API's error (onError), or 'unreachable' when YouTube's
 * player itself could not be loaded (a blocked network, no answer).
 */
export function youtubeFailure(code) {
  switch (code) {
    case 'unreachable':
      return { reason: 'unreachable', message: 'YouTube cannot be reached from this browser: its player did not load (the network, or a blocker, keeps it out).' };
    case 2:
      return { reason: 'invalid', message: 'YouTube says this video’s link is not valid (error 2).' };
    case 5:
      return { reason: 'player_error', message: 'YouTube’s player cannot play this video in this browser (error 5).' };
    case 100:
      return { reason: 'not_found', message: 'This YouTube video was removed, made private, or never existed (error 100).' };
    case 101:
    case 150:
      return { reason: 'embed_refused', message: `The owner of this YouTube video does not allow it to be played on other sites (error ${code}).` };
    default:
      return { reason: 'player_error', message: `YouTube cannot play this video here (error ${code}).` };
  }
}
