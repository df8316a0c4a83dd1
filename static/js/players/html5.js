// Player adapter over a native <video controls> element: media files, and HLS streams
// (through hls.js, see hls-stream.js, or the browser's own HLS). The viewer's actions on the
// element's own controls become commands; the page's own changes are recognised by EchoGuard
// and not sent back.

import { EchoGuard } from './echo.js';
import { NativeControls } from './native-controls.js';
import { attachHls, hlsRoute, hlsSupport } from './hls-stream.js';

// HTMLMediaElement.HAVE_FUTURE_DATA: data for the current position and a little beyond;
// HAVE_METADATA: the duration and dimensions; HAVE_NOTHING: not even the metadata.
const HAVE_FUTURE_DATA = 3;
const HAVE_METADATA = 1;
const HAVE_NOTHING = 0;
// Why the element failed (MediaError codes), as the page reports it (`unplayable`): a network
// failure, a file it cannot decode, or one it cannot even open (a wrong link answers so too).
const MEDIA_ERROR_REASONS = { 2: 'unreachable', 3: 'player_error', 4: 'unsupported' };

export class Html5Player {
  /**
   * @param {HTMLElement} box the element the <video> is created in
   * @param {{kind: string, source: string}} media `file` or `hls`, and its URL
   * @param {object} events onUserPlay(), onUserPause(ms), onUserSeeking(), onUserSeek(ms),
   *   onUserRate(rate), onBuffering(), onReady(), onMediaInfo({duration_ms}),
   *   onFailure(message, reason): the media cannot be played here (reason: see `unplayable`
   *   in docs/protocol.md), onTrouble(message): something went wrong, the player stays
   * @param {object} [o]
   * @param {HTMLVideoElement} [o.element] a <video> already in the box, loading `media` since
   *   the page came (watch.html), to take over instead of making one
   */
  constructor(box, media, events, { element = null } = {}) {
    this.events = events;
    this.guard = new EchoGuard();
    // What the viewer means by what the element reports (a click on the timeline is one seek).
    this.controls = new NativeControls({
      pause: (ms) => events.onUserPause?.(ms),
      seeking: () => events.onUserSeeking?.(),
      seek: (ms) => events.onUserSeek?.(ms),
      play: () => events.onUserPlay?.(),
    }, { position: () => this.positionMs() });
    this.listening = new AbortController(); // aborted on destroy: a player gone says nothing more
    this.stream = null; // the hls.js stream playing in the element, if any
    this.loads = 0; // counts loads, so a stream attached after the next load began is dropped
    const video = element ?? document.createElement('video');
    video.controls = true;
    video.playsInline = true;
    this.video = video;
    this.listen();
    if (element) {
      this.adopt();
    } else {
      video.preload = 'auto';
      box.replaceChildren(video);
      this.load(media);
    }
  }

  /**
   * Takes over a <video> that has been loading its media since the page came: ready at once
   * when its metadata is in, and what it reported before anyone listened is told now (once the
   * caller has taken the player).
   */
  adopt() {
    const video = this.video;
    if (video.readyState >= HAVE_METADATA) {
      this.loaded = Promise.resolve();
      queueMicrotask(() => this.metadataLoaded());
    } else {
      this.loaded = new Promise((resolve) => {
        video.addEventListener('loadedmetadata', () => resolve(), { once: true, signal: this.listening.signal });
      });
    }
    if (video.error) queueMicrotask(() => this.failed());
  }

  /**
   * Plays other media in the same element (a playlist's next item): the element stays, so
   * does the viewer's fullscreen, volume and permission to play. Not ready until its metadata is.
   */
  load({ kind, source }) {
    const video = this.video;
    this.controls.reset();
    this.detachStream();
    // Loading stops playback and resets the rate: the page's doing, not the viewer's.
    this.guard.willLoad(video.defaultPlaybackRate);
    if (kind === 'hls' && hlsRoute(hlsSupport()) === 'hls.js') this.attachStream(source);
    else video.src = source;
    this.loaded = new Promise((resolve) => {
      video.addEventListener('loadedmetadata', () => resolve(), { once: true, signal: this.listening.signal });
    });
  }

  /** Plays the HLS stream at `source` through hls.js, which is loaded first. */
  attachStream(source) {
    const load = this.loads;
    const events = {
      // hls.js moved the playhead over a hole or a stall: that seek is not the viewer's.
      onOwnMove: () => this.guard.willSeek(this.positionMs()),
      onFailure: (message, reason) => { if (load === this.loads) this.events.onFailure?.(message, reason); },
    };
    this.video.removeAttribute('src');
    attachHls(this.video, source, events).then((stream) => {
      if (load === this.loads) this.stream = stream;
      else stream.destroy(); // other media, or none, came meanwhile
    }, () => events.onFailure('The HLS player could not be loaded. Reload the page to try again.', 'player_error'));
  }

  /** Ends the hls.js stream, if any, and any still being attached. */
  detachStream() {
    this.loads += 1;
    this.stream?.destroy();
    this.stream = null;
  }

  /** Resolves once the media's metadata is known and the element can be positioned. */
  ready() { return this.loaded; }

  positionMs() { return this.video.currentTime * 1000; }
  paused() { return this.video.paused; }
  ended() { return this.video.ended; }
  /** A seek is under way, or the viewer's hand is on the controls (the page leaves it be). */
  seeking() { return this.guard.seekPending() || this.video.seeking || this.controls.active(); }
  rate() { return this.video.playbackRate; }
  /** Has data to play from here (what `canplay` announces), and is not seeking. */
  canPlay() { return !this.video.seeking && this.video.readyState >= HAVE_FUTURE_DATA; }

  /** Starts playback; rejects (NotAllowedError) when the browser's autoplay policy refuses. */
  play() {
    // A paused element reports the start it is asked for, unless it refuses to start at all.
    const reported = this.video.paused;
    this.guard.willPlay({ reported });
    return this.video.play().catch((err) => {
      const refused = err?.name === 'NotAllowedError' || err?.name === 'NotSupportedError';
      if (refused) this.guard.playRefused({ reported }); // it never started
      else if (this.video.paused) this.guard.willPause(); // interrupted: it stopped again
      throw err;
    });
  }

  pause() {
    this.guard.willPause({ reported: !this.video.paused });
    this.video.pause();
  }

  seek(ms) {
    // The element clamps to its duration; aim there, so the seek is recognised as ours.
    const durationMs = this.video.duration * 1000;
    const target = Number.isFinite(durationMs) ? Math.min(ms, durationMs) : ms;
    // A seek under way is aborted by this one and never completes: it is not awaited.
    if (this.video.seeking) this.controls.seekAborted();
    this.guard.willSeek(target);
    this.video.currentTime = target / 1000;
  }

  setRate(rate) {
    if (Math.abs(this.video.playbackRate - rate) < 0.0005) return;
    this.guard.willSetRate(rate);
    this.video.playbackRate = rate;
  }

  /**
   * The page is about to play from where it moves the player next: fetch ahead from there,
   * as the element does once it plays (stage.js holds it to the metadata until then).
   */
  fetchAhead() { this.video.preload = 'auto'; }

  /** Whether the element holds the media at `ms` already (a seek there fetches nothing). */
  holds(ms) {
    const b = this.video.buffered;
    for (let i = 0; i < b.length; i++) if (b.start(i) * 1000 <= ms && ms <= b.end(i) * 1000) return true;
    return false;
  }

  /** Any rate is possible, so the default drift policy applies. */
  driftPolicy() { return {}; }
  snapRate(rate) { return rate; }

  listen() {
    const v = this.video;
    const e = this.events;
    const on = (type, fn) => v.addEventListener(type, fn, { signal: this.listening.signal });
    on('play', () => {
      if (this.guard.observePlay() === 'user') this.controls.played();
    });
    on('pause', () => {
      // Reaching the end pauses the element; so may a browser hiding the page. Neither is a choice.
      const natural = v.ended || document.visibilityState === 'hidden';
      if (this.guard.observePause({ natural }) === 'user') this.controls.paused();
    });
    on('seeking', () => {
      if (this.guard.observeSeeking(this.positionMs()) === 'user') this.controls.seeking();
    });
    on('seeked', () => {
      if (this.controls.trailingSeeked()) return;
      if (this.guard.observeSeeked(this.positionMs()) !== 'echo') this.controls.seeked();
    });
    on('ratechange', () => {
      if (this.guard.observeRate(v.playbackRate) === 'user') e.onUserRate?.(v.playbackRate);
    });
    on('waiting', () => { if (!v.paused) e.onBuffering?.(); });
    on('playing', () => e.onReady?.());
    on('canplay', () => e.onReady?.());
    on('loadedmetadata', () => this.metadataLoaded());
    on('error', () => this.failed());
  }

  metadataLoaded() {
    const v = this.video;
    if (Number.isFinite(v.duration)) this.events.onMediaInfo?.({ duration_ms: Math.round(v.duration * 1000) });
  }

  failed() {
    // Media that never loaded cannot be played here; one that failed later may play on from
    // what it has (and the viewer may reload).
    const v = this.video;
    if (v.readyState === HAVE_NOTHING) {
      this.events.onFailure?.('This video could not be loaded.', MEDIA_ERROR_REASONS[v.error?.code] ?? 'player_error');
    } else {
      this.events.onTrouble?.('This video stopped loading. Reload the page if it does not play on.');
    }
  }

  destroy() {
    this.listening.abort();
    this.controls.reset();
    this.detachStream();
    this.guard.willPause();
    this.video.removeAttribute('src');
    this.video.load();
  }
}

