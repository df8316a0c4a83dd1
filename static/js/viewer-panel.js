// The viewer list beside the player and what the page says because of it: whom a waiting
// party waits for, and, on the page of a viewer the party went on without, that it did.
// Each viewer shows as playing or paused with the party, loading, left behind, out of sync
// or away.

import { leftBehindNotice, renderViewers, waitingNotice } from './presence.js';

export class ViewerPanel {
  /**
   * @param {object} o
   * @param {Element} o.list the viewer list (<ul>)
   * @param {Element} o.waiting the waiting notice
   * @param {(text: string) => void} o.onNotice shows a passing notice to this viewer
   */
  constructor({ list, waiting, onNotice }) {
    Object.assign(this, { list, waiting, onNotice });
    this.leftBehind = false; // this viewer was last shown left behind
  }

  /** Shows `viewers` against the party's `state`, with who may control (`permissions`). */
  show({ viewers, state, selfId, permissions }) {
    const paused = typeof state?.paused === 'boolean' ? state.paused : null;
    renderViewers(this.list, viewers ?? [], selfId, permissions, paused);
    const waiting = Boolean(state?.waiting);
    // The state names whoever made the party wait; the list, once it has caught up, everyone.
    if (waiting) this.waiting.textContent = waitingNotice(viewers, selfId, state.updated_by);
    this.waiting.classList.toggle('d-none', !waiting);
    const text = leftBehindNotice(viewers, selfId);
    if (text && !this.leftBehind) this.onNotice(text);
    this.leftBehind = Boolean(text);
  }

  /** The party is over for this page: nobody is known any more. */
  clear() {
    this.list.replaceChildren();
    this.waiting.classList.add('d-none');
    this.leftBehind = false;
  }
}
