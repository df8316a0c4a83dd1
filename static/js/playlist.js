// A playlist's party: which item plays (the state's `media` is `item:{id}`, or "" while the
// playlist is empty), the list of items with a button to jump to each, and when this viewer
// tells the server that the current item has ended. Items come from the owner and are only
// ever set as text.

import { expectedPosition } from './timeline.js';

// A player that reached the end is believed when the party's timeline is this close to the end
// too (a player may run a little ahead); otherwise the timeline's own end is awaited.
const END_AGREEMENT_MS = 1000;

/** The item id in a state's `media` (`item:{id}`), or null for anything else. */
export function itemIdOf(media) {
  const m = /^item:(\d+)$/.exec(String(media ?? ''));
  return m ? Number(m[1]) : null;
}

/** The playlist's item that `media` names, or null (empty playlist, unknown or removed item). */
export function currentItem(playlist, media) {
  const id = itemIdOf(media);
  if (id === null) return null;
  return (playlist?.items ?? []).find((item) => item.id === id) ?? null;
}

/** The item after the one `media` names, or null when it is the last (or unknown). */
export function nextItem(playlist, media) {
  const items = playlist?.items ?? [];
  const index = items.findIndex((item) => item.id === itemIdOf(media));
  return index >= 0 ? items[index + 1] ?? null : null;
}

/**
 * Decides when this viewer reports `ended {item_id}`: once per state, when its player reached
 * the end of the current item and the timeline agrees, or when the timeline itself has reached
 * the end (so a party also moves on when this player is stalled or cannot play the item).
 */
export class EndedReporter {
  constructor() {
    this.reported = null; // "seq/media" of the state the last report was about
  }

  /** The item id to report now, or null. */
  due({ state, serverNowMs, playerEnded }) {
    const id = itemIdOf(state?.media);
    if (id === null || state.paused || state.duration_ms == null || serverNowMs == null) return null;
    if (this.reported === key(state)) return null;
    const remaining = state.duration_ms - expectedPosition(state, serverNowMs);
    const ended = remaining <= 0 || (playerEnded && remaining <= END_AGREEMENT_MS);
    return ended ? id : null;
  }

  /** The report about `state` went out: never again for it. */
  sent(state) {
    this.reported = key(state);
  }
}

const key = (state) => `${state.seq}/${state.media}`;

/** The playlist beside the player: its items, what plays now, the skip button and why it is off. */
export class PlaylistPanel {
  /**
   * @param {object} o
   * @param {HTMLOListElement} o.list  @param {HTMLButtonElement} o.skip  @param {HTMLElement} o.nowPlaying
   * @param {HTMLElement|null} [o.skipHint] says why skip does nothing on the last item
   * @param {() => void} o.onSkip  @param {(itemId: number) => void} o.onJump
   */
  constructor({ list, skip, skipHint = null, nowPlaying, onSkip, onJump }) {
    Object.assign(this, { list, skip, skipHint, nowPlaying });
    skip.addEventListener('click', () => onSkip());
    list.addEventListener('click', (ev) => {
      const button = ev.target.closest?.('button.jump');
      if (button) onJump(Number(button.dataset.itemId));
    });
  }

  /** Shows `playlist` with the item `media` names as current; skip and jump only for controllers. */
  show(playlist, media, { canControl }) {
    renderPlaylist(this.list, playlist, media, { canControl });
    const item = currentItem(playlist, media);
    this.nowPlaying.textContent = item ? `Now playing: ${item.title}` : '';
    const offered = Boolean(canControl && item);
    const last = !nextItem(playlist, media);
    this.skip.classList.toggle('d-none', !offered);
    this.skip.disabled = last;
    this.skipHint?.classList.toggle('d-none', !(offered && last));
  }
}

/** Replaces the list's entries with one <li class="playlist-item"> per item. */
export function renderPlaylist(list, playlist, media, { canControl }) {
  const doc = list.ownerDocument;
  const currentId = itemIdOf(media);
  const items = (playlist?.items ?? []).map((item, index) => {
    const active = item.id === currentId;
    const li = doc.createElement('li');
    li.className = `list-group-item d-flex align-items-center gap-2 playlist-item${active ? ' active' : ''}`;
    li.dataset.itemId = String(item.id);
    if (active) li.setAttribute('aria-current', 'true');
    li.append(span(doc, 'playlist-number small', `${index + 1}.`));
    li.append(span(doc, 'playlist-title me-auto', String(item.title ?? '')));
    li.append(span(doc, `badge ${active ? 'text-bg-light' : 'text-bg-secondary'}`, String(item.kind ?? '')));
    if (canControl) {
      const jump = doc.createElement('button');
      jump.type = 'button';
      jump.className = `btn btn-sm ${active ? 'btn-light' : 'btn-outline-primary'} jump`;
      jump.dataset.itemId = String(item.id);
      jump.textContent = active ? 'Restart' : 'Play';
      jump.setAttribute('aria-label', `${active ? 'Restart' : 'Play'} ${item.title ?? ''}`);
      li.append(jump);
    }
    return li;
  });
  list.replaceChildren(...items);
}

function span(doc, className, text) {
  const el = doc.createElement('span');
  el.className = className;
  el.textContent = text;
  return el;
}

/**
 * Decides when this viewer reports `unplayable {item_id, reason}`: its player cannot play the
 * item the party plays. Once per item and connection, and again when someone leaves: the party
 * moves on only once nobody left can play the item, so a departure may settle it.
 */
export class UnplayableReporter {
  constructor() {
    this.failure = null; // {media, reason} of the media this viewer cannot play
    this.reported = null; // the media the last report was about, on this connection
    this.connections = null; // how many connections the party had when last counted
  }

  /** This viewer's player cannot play `media`, for `reason`. */
  failed(media, reason) {
    this.failure = { media, reason };
    this.reported = null;
  }

  /** The player shows other media: what failed before says nothing about it. */
  forget() {
    this.failure = null;
    this.reported = null;
  }

  /** A new connection has been told nothing yet. */
  connected() {
    this.reported = null;
  }

  /** The viewer list changed: fewer connections than before calls for another report. */
  viewers(list) {
    const count = (list ?? []).reduce((sum, v) => sum + (Number(v.connections) || 1), 0);
    if (this.connections !== null && count < this.connections) this.reported = null;
    this.connections = count;
  }

  /** The `unplayable` fields to send now, given the party's state, or null. */
  due(state) {
    const f = this.failure;
    const id = itemIdOf(state?.media);
    if (!f || id === null || state.media !== f.media || this.reported === f.media) return null;
    return { item_id: id, reason: f.reason };
  }

  /** The report went out. */
  sent() {
    this.reported = this.failure?.media ?? null;
  }
}
