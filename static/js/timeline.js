// The playback timeline: where the media should be at a given server instant.
// Pure arithmetic over the server's state record; no clocks, no DOM.

/**
 * Expected media position (ms) at server time `serverNowMs`.
 * expected(t) = position_ms + (paused ? 0 : max(0, t − anchor_ms) × rate),
 * clamped to [0, duration_ms] when the duration is known.
 */
export function expectedPosition(state, serverNowMs) {
  // Before the anchor a scheduled play has not started yet: the media waits at position_ms.
  const elapsed = state.paused ? 0 : Math.max(0, serverNowMs - state.anchor_ms);
  const position = state.position_ms + elapsed * state.rate;
  const upper = state.duration_ms == null ? Infinity : state.duration_ms;
  return Math.min(Math.max(position, 0), upper);
}

/** True when the state says the media is playing but its scheduled start lies ahead. */
export function awaitingStart(state, serverNowMs) {
  return !state.paused && serverNowMs < state.anchor_ms;
}

/** True when the state has played through to the known end of the media. */
export function reachedEnd(state, serverNowMs) {
  return state.duration_ms != null && expectedPosition(state, serverNowMs) >= state.duration_ms;
}

/**
 * Whether the player should be moving right now: playing, started, and not past the end.
 * A player that has reached the end must stay put, because play() on an ended element
 * restarts it from zero.
 */
export function shouldBeMoving(state, serverNowMs) {
  return !state.paused && !awaitingStart(state, serverNowMs) && !reachedEnd(state, serverNowMs);
}
