// The player box: builds the player a media's kind needs, swaps media (a playlist's next item
// keeps a <video> and only changes its source; a change of kind replaces the adapter), and
// shows a message instead when there is nothing to play here — nothing in the party, a kind
// this browser cannot play, or media whose player failed (YouTube unreachable, say). A
// <video> it builds loads only the media's metadata until it first plays, and is named by
// the page's title; a video party's media file comes with the page as a <video data-served>
// (watch.html), which it takes over, so the metadata loads while the scripts do.

import { Html5Player } from './players/html5.js';
import { YouTubePlayer } from './players/youtube.js';
import { isVideoId } from './players/youtube-policy.js';
import { hlsRoute, hlsSupport } from './players/hls-stream.js';
import { currentItem } from './playlist.js';

const HTML5_KINDS = new Set(['file', 'hls']);
const EMPTY_PLAYLIST = 'This playlist is empty. The host can add videos to it on the playlist’s page.';
const ITEM_LOADING = 'Loading the next item…';

/**
 * Why `{kind, source}` cannot play in this browser — `{message, reason}`, the reason as the
 * page reports it (`unplayable`) — or null when it can.
 */
function unplayable(kind, source) {
  if (kind === 'youtube') return isVideoId(source) ? null : { message: 'This YouTube link is not valid.', reason: 'invalid' };
  if (kind === 'hls' && !hlsRoute(hlsSupport())) {
    return {
      message: 'This browser cannot play HLS streams (.m3u8): it has neither Media Source Extensions nor HLS of its own.',
      reason: 'unsupported',
    };
  }
  return HTML5_KINDS.has(kind) ? null : { message: 'This kind of video cannot be played.', reason: 'unsupported' };
}

export class Stage {
  /**
   * @param {HTMLElement} box  @param {object} events the adapters' events (see Html5Player);
   *   onMediaInfo(info, key) also names the media the info belongs to; instead of
   *   onFailure, onUnplayable({key, message, reason}) says the box now shows why the media
   *   `key` cannot be played here (its player, if it had one, is gone)
   * @param {object} [o]
   * @param {string} [o.labelledBy] ids of the elements that name the player (`aria-labelledby`)
   */
  constructor(box, events, { labelledBy = '' } = {}) {
    this.box = box;
    this.labelledBy = labelledBy;
    this.onUnplayable = events.onUnplayable ?? (() => {});
    this.events = {
      ...events,
      onMediaInfo: (info) => events.onMediaInfo?.(info, this.key),
      // Only the current player reports: one replaced says nothing more.
      onFailure: (message, reason) => this.unplayable(this.key, { message, reason }),
    };
    this.player = null;
    this.key = undefined; // what the box shows: a media key, or the key of a message
    this.awaiting = false; // the box waits for an item the playlist held does not have yet
  }

  /**
   * Shows `{key, kind, source}` unless it already does. Returns the player (null when this
   * browser cannot play it; the box then says why).
   */
  show({ key, kind, source }) {
    if (key === this.key) return this.player;
    this.key = key;
    const why = unplayable(kind, source);
    if (why) {
      // Told once the caller has taken the (absent) player, as a failure of its player would be.
      queueMicrotask(() => { if (this.key === key) this.unplayable(key, why); });
      return this.message(key, why.message);
    }
    if (HTML5_KINDS.has(kind) && this.player instanceof Html5Player) {
      this.player.load({ kind, source });
      return this.player;
    }
    this.player?.destroy();
    if (kind === 'youtube') {
      this.player = new YouTubePlayer(this.box, source, this.events);
    } else {
      this.player = new Html5Player(this.box, { kind, source }, this.events, { element: this.served(kind, source) });
      this.dress(this.player.video);
    }
    return this.player;
  }

  /**
   * Shows what a playlist party's state names (`media`): its item, or why there is none.
   * True when the box changed (its player then needs following afresh).
   */
  showItem(playlist, media) {
    const item = currentItem(playlist, media);
    if (media === this.key && !(this.awaiting && item)) return false;
    this.awaiting = false;
    if (media === '') {
      this.message('', EMPTY_PLAYLIST);
    } else if (!item) {
      // An item added a moment ago may be named before the playlist carrying it arrives.
      this.message(media, ITEM_LOADING);
      this.awaiting = true;
    } else {
      this.key = null; // whatever the box showed, it was not this item
      this.show({ key: media, kind: item.kind, source: item.source });
    }
    return true;
  }

  /** The media `key` cannot be played here: the box says why, and the page is told. */
  unplayable(key, { message, reason }) {
    if (key !== this.key) return;
    this.message(key, message);
    this.onUnplayable({ key, message, reason: reason ?? 'player_error' });
  }

  /**
   * What the page asks of its <video>: to fetch only the metadata (duration, size, where the
   * frames lie) until it first plays, so opening a party costs a slow line little more than the
   * page; from then on to buffer ahead as far as the browser likes, so a seek within the
   * party's media lands as fast as before; and an accessible name. The element's source was
   * set a moment ago, and the browser reads `preload` only once this task ends and it starts
   * loading.
   */
  dress(video) {
    video.preload = 'metadata';
    video.addEventListener('play', () => { video.preload = 'auto'; }, { once: true });
    if (this.labelledBy) video.setAttribute('aria-labelledby', this.labelledBy);
  }

  /**
   * The <video> served with the page for `{kind, source}`, if the box still holds it (its
   * source may start where the party was: `#t=`, a media fragment).
   */
  served(kind, source) {
    const video = this.box.querySelector(':scope > video[data-served]');
    const src = video?.getAttribute('src') ?? '';
    return kind === 'file' && (src === source || src.startsWith(`${source}#t=`)) ? video : null;
  }

  /** Replaces the player with `text`; `key` is what the message stands for. Returns null. */
  message(key, text) {
    this.key = key;
    this.player?.destroy();
    this.player = null;
    const p = this.box.ownerDocument.createElement('p');
    p.className = 'player-message';
    p.textContent = text;
    this.box.replaceChildren(p);
    return null;
  }
}
