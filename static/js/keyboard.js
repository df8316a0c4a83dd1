// Keyboard control of playback for viewers who may control: Space plays or pauses, the left
// and right arrows jump 5 s back or ahead. Keys typed into a form field belong to the field,
// and keys pressed on a focused player to the player.
// Pure: the page hands in plain key events and the party's state, and sends what comes back.

export const SEEK_STEP_MS = 5000;
// A held arrow repeats about 30 times a second; the server accepts a few commands a second.
const ARROW_REPEAT_MS = 250;
// Presses in quick succession add up (three presses: 15 s) rather than each starting again
// from where the player stood before the server answered the first.
const CHAIN_MS = 2000;

/** True when keys pressed at `target` are typing: text fields, selects, editable content. */
export function isTypingTarget(target) {
  const tag = String(target?.tagName ?? '').toUpperCase();
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || target?.isContentEditable === true;
}

/**
 * True when `target` is a player with keys of its own: a focused <video> acts on Space and the
 * arrows itself, and what it does reaches the party as the viewer's own action on the player.
 */
function hasOwnKeys(target) {
  const tag = String(target?.tagName ?? '').toUpperCase();
  return tag === 'VIDEO' || tag === 'AUDIO';
}

/** True when Space at `target` presses it (a button or a link), which must keep working. */
function pressedBySpace(target) {
  const tag = String(target?.tagName ?? '').toUpperCase();
  return tag === 'BUTTON' || tag === 'A' || tag === 'SUMMARY' || target?.getAttribute?.('role') === 'button';
}

/**
 * The party command for `key`, or null when it is not a playback key.
 * `paused`: the party's state; `positionMs`: where the viewer sees the media;
 * `durationMs`: its length, or null while unknown.
 */
export function keyCommand(key, { paused, positionMs, durationMs = null }) {
  if (key === ' ' || key === 'Spacebar') {
    return paused ? { type: 'play' } : { type: 'pause', position_ms: clamp(positionMs, durationMs) };
  }
  if (key === 'ArrowLeft') return { type: 'seek', position_ms: clamp(positionMs - SEEK_STEP_MS, durationMs) };
  if (key === 'ArrowRight') return { type: 'seek', position_ms: clamp(positionMs + SEEK_STEP_MS, durationMs) };
  return null;
}

function clamp(ms, durationMs) {
  const upper = durationMs ?? Infinity;
  return Math.round(Math.min(Math.max(ms, 0), upper));
}

export class KeyboardControl {
  constructor(now = () => performance.now()) {
    this.now = now;
    this.lastArrowAt = -Infinity;
    this.chain = null; // {target, seq, at} of the last arrow seek, until the server moves on
  }

  /**
   * Reads one keydown. Returns null when the key is not the page's to handle (the browser
   * does what it always does), or `{command}` when it is: the caller then prevents the
   * default action (Space would scroll the page) and sends `command` unless it is null.
   * `party`: {canControl, paused, positionMs, durationMs, seq}, or null without a state.
   */
  handle(event, party) {
    if (!party?.canControl || event.defaultPrevented || event.isComposing) return null;
    if (event.ctrlKey || event.metaKey || event.altKey || event.shiftKey) return null;
    if (isTypingTarget(event.target) || hasOwnKeys(event.target)) return null;
    const isSpace = event.key === ' ' || event.key === 'Spacebar';
    if (isSpace && pressedBySpace(event.target)) return null;
    const base = this.chainedPosition(party);
    const command = keyCommand(event.key, { ...party, positionMs: base });
    if (!command) return null;
    if (event.repeat && isSpace) return { command: null }; // a held Space would toggle on and off
    if (command.type === 'seek') {
      const at = this.now();
      if (event.repeat && at - this.lastArrowAt < ARROW_REPEAT_MS) return { command: null };
      this.lastArrowAt = at;
      this.chain = { target: command.position_ms, seq: party.seq, at };
    }
    return { command };
  }

  chainedPosition(party) {
    const c = this.chain;
    if (c && c.seq === party.seq && this.now() - c.at < CHAIN_MS) return c.target;
    this.chain = null;
    return party.positionMs;
  }
}
