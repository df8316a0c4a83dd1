// Player adapter over the YouTube IFrame API, with the same interface as Html5Player.
// The embedded player reports no seeks and no user intent, so the viewer's actions are
// read from state changes and from jumps between sampled positions; the decisions
// themselves live in youtube-policy.js and echo.js.

import { EchoGuard } from './echo.js';
import {
  YT_STATE, canPlayFrom, detectJump, playAttemptOutcome, snapRate, youtubeDriftPolicy, youtubeFailure,
} from './youtube-policy.js';

const API_URL = 'https://www.youtube.com/iframe_api';
// YouTube unreachable without a word (a network that drops what it blocks): the IFrame API
// that has not loaded by then, or a player that has not said it is ready, counts as unreachable.
const API_TIMEOUT_MS = 15_000;
const PLAYER_TIMEOUT_MS = 20_000;
const POLL_MS = 250;
const USER_SEEK_SETTLE_MS = 300;
// playVideo() gives no promise; a start that neither happens nor is refused by then is a refusal.
const PLAY_CONFIRM_MS = 2500;

let apiLoading = null;

/**
 * Loads the IFrame API once per page; resolves with the YT namespace. A failed load is
 * forgotten, so the next YouTube video tries again.
 */
function loadApi() {
  if (window.YT?.Player) return Promise.resolve(window.YT);
  apiLoading ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    const fail = () => {
      clearTimeout(timer);
      script.remove();
      apiLoading = null;
      reject(new Error('The YouTube IFrame API could not be loaded.'));
    };
    const timer = setTimeout(fail, API_TIMEOUT_MS);
    const previous = window.onYouTubeIframeAPIReady;
    window.onYouTubeIframeAPIReady = () => {
      clearTimeout(timer);
      previous?.();
      resolve(window.YT);
    };
    script.src = API_URL;
    script.async = true;
    script.onerror = fail;
    document.head.append(script);
  });
  return apiLoading;
}

export class YouTubePlayer {
  /** @param {HTMLElement} box  @param {string} videoId  @param {object} events see Html5Player */
  constructor(box, videoId, events) {
    this.events = events;
    this.guard = new EchoGuard();
    this.yt = null;
    this.playAttempt = null; // {resolve, reject, timer} while a programmatic start is unconfirmed
    this.lastSample = null; // {posMs, at, playing} for jump detection
    this.seekSettle = null;
    this.seekStartsPlayback = false; // a seek on a cued player starts it, which nobody asked for
    this.infoReported = false;
    this.failed = false; // the page was told this video cannot be played here
    this.destroyed = false;
    this.readyTimer = null;
    const mount = document.createElement('div');
    box.replaceChildren(mount);
    this.loaded = loadApi().then((YT) => new Promise((resolve, reject) => {
      // Replaced while the API was loading (a playlist moved on): build nothing.
      if (this.destroyed) return reject(new Error('The player was replaced.'));
      // The embedded player's own page may be kept out even when the API came through.
      this.readyTimer = setTimeout(() => {
        this.fail('unreachable');
        reject(new Error('The YouTube player did not get ready.'));
      }, PLAYER_TIMEOUT_MS);
      this.yt = new YT.Player(mount, {
        videoId,
        width: '100%',
        height: '100%',
        playerVars: { playsinline: 1, rel: 0, origin: location.origin },
        events: {
          onReady: () => {
            clearTimeout(this.readyTimer);
            if (this.destroyed) return;
            this.afterReady();
            resolve();
          },
          onStateChange: (ev) => this.stateChanged(ev.data),
          onPlaybackRateChange: (ev) => {
            if (this.guard.observeRate(ev.data) === 'user') this.events.onUserRate?.(ev.data);
          },
          onError: (ev) => {
            clearTimeout(this.readyTimer);
            this.fail(ev?.data);
          },
        },
      });
    }), (err) => {
      this.fail('unreachable');
      throw err;
    });
  }

  /** Tells the page this video cannot be played here, and why (see youtubeFailure); once. */
  fail(code) {
    if (this.destroyed || this.failed) return;
    this.failed = true;
    const { reason, message } = youtubeFailure(code);
    this.events.onFailure?.(message, reason);
  }

  ready() { return this.loaded; }

  positionMs() { return (this.yt?.getCurrentTime?.() ?? 0) * 1000; }
  state() { return this.yt?.getPlayerState?.() ?? YT_STATE.UNSTARTED; }
  paused() { return this.state() !== YT_STATE.PLAYING && this.state() !== YT_STATE.BUFFERING; }
  ended() { return this.state() === YT_STATE.ENDED; }
  /**
   * True while the page's seek is under way or the viewer's seek is settling. Sampling here
   * too means a viewer's jump is seen before the sync loop would take it for drift and undo it.
   */
  seeking() {
    this.poll();
    return this.guard.seekPending() || this.seekSettle !== null;
  }
  rate() { return this.yt?.getPlaybackRate?.() ?? 1; }
  /** Could play on from here without waiting: playing, or paused with data loaded ahead. */
  canPlay() {
    return canPlayFrom({
      state: this.state(),
      positionMs: this.positionMs(),
      durationMs: (this.yt?.getDuration?.() ?? 0) * 1000,
      loadedFraction: this.yt?.getVideoLoadedFraction?.() ?? 0,
    });
  }
  availableRates() { return this.yt?.getAvailablePlaybackRates?.() ?? [1]; }

  play() {
    if (!this.paused()) return Promise.resolve();
    this.seekStartsPlayback = false;
    this.guard.willPlay();
    this.settlePlayAttempt('superseded');
    return new Promise((resolve, reject) => {
      this.playAttempt = { resolve, reject, timer: null };
      this.armPlayConfirm();
      this.yt.playVideo();
    });
  }

  pause() {
    this.guard.willPause();
    this.settlePlayAttempt('superseded');
    this.yt.pauseVideo();
  }

  seek(ms) {
    const durationMs = (this.yt.getDuration?.() ?? 0) * 1000;
    const target = durationMs > 0 ? Math.min(ms, durationMs) : ms;
    const s = this.state();
    // seekTo keeps a paused player paused but starts one that is cued, unstarted or ended.
    if (this.guard.expectPaused && s !== YT_STATE.PAUSED && s !== YT_STATE.PLAYING && s !== YT_STATE.BUFFERING) {
      this.seekStartsPlayback = true;
    }
    this.guard.willSeek(target);
    this.yt.seekTo(target / 1000, true);
  }

  setRate(rate) {
    // The player rounds to a rate it offers; setting that rate keeps the echo check exact.
    const snapped = snapRate(rate, this.availableRates());
    if (Math.abs(this.rate() - snapped) < 0.0005) return;
    this.guard.willSetRate(snapped);
    this.yt.setPlaybackRate(snapped);
  }

  driftPolicy(baseRate) { return youtubeDriftPolicy(this.availableRates(), baseRate); }
  snapRate(rate) { return snapRate(rate, this.availableRates()); }

  afterReady() {
    this.reportInfo();
    this.poller = setInterval(() => this.poll(), POLL_MS);
  }

  /** Reports duration and title once the player knows them (often only after loading starts). */
  reportInfo() {
    if (this.infoReported) return;
    const duration = this.yt.getDuration?.();
    if (!(duration > 0)) return;
    this.infoReported = true;
    const title = this.yt.getVideoData?.()?.title;
    this.events.onMediaInfo?.({ duration_ms: Math.round(duration * 1000), ...(title ? { title } : {}) });
  }

  stateChanged(s) {
    this.reportInfo();
    if (s === YT_STATE.PLAYING && this.seekStartsPlayback && this.guard.expectPaused) {
      this.seekStartsPlayback = false;
      this.yt.pauseVideo(); // the page's seek started it; it should stay paused
      return undefined;
    }
    if (this.playAttempt) {
      const outcome = playAttemptOutcome(s);
      if (outcome !== 'pending') return this.settlePlayAttempt(outcome);
    }
    const natural = s === YT_STATE.ENDED || document.visibilityState === 'hidden';
    if (s === YT_STATE.PLAYING) {
      if (this.guard.observePlay() === 'user') this.events.onUserPlay?.();
      this.events.onReady?.();
    } else if (s === YT_STATE.PAUSED || s === YT_STATE.ENDED) {
      if (this.guard.observePause({ natural }) === 'user') this.events.onUserPause?.(this.positionMs());
    } else if (s === YT_STATE.BUFFERING && !this.guard.expectPaused) {
      this.events.onBuffering?.();
    }
  }

  armPlayConfirm() {
    this.playAttempt.timer = setTimeout(() => {
      // Still loading is not a refusal: a slow network deserves more time.
      if (this.state() === YT_STATE.BUFFERING) this.armPlayConfirm();
      else this.settlePlayAttempt('refused');
    }, PLAY_CONFIRM_MS);
  }

  settlePlayAttempt(outcome) {
    const attempt = this.playAttempt;
    if (!attempt) return;
    this.playAttempt = null;
    clearTimeout(attempt.timer);
    if (outcome === 'started') {
      this.events.onReady?.();
      return attempt.resolve();
    }
    if (outcome === 'refused') this.guard.playRefused();
    const err = new Error(outcome === 'refused' ? 'Playback was not allowed to start.' : 'Playback start was superseded.');
    err.name = outcome === 'refused' ? 'NotAllowedError' : 'AbortError';
    attempt.reject(err);
  }

  /** Samples the position: completes the page's own seeks and spots the viewer's. */
  poll() {
    if (!this.yt?.getCurrentTime) return;
    const at = performance.now();
    const posMs = this.positionMs();
    const playing = this.state() === YT_STATE.PLAYING;
    const prev = this.lastSample;
    this.lastSample = { posMs, at, playing };
    if (this.guard.seekPending()) {
      // Completion is noticed up to one poll late, by which time playback has moved on.
      const aheadMs = playing ? (at - this.guard.pendingSeek.at) * this.rate() : 0;
      this.guard.observeSeeked(posMs, { aheadMs });
      return;
    }
    if (!prev || document.visibilityState === 'hidden') return;
    const rate = this.rate();
    if (!detectJump({ prevMs: prev.posMs, prevAt: prev.at, posMs, at, playing: prev.playing, rate })) return;
    this.events.onUserSeeking?.();
    clearTimeout(this.seekSettle);
    this.seekSettle = setTimeout(() => {
      this.seekSettle = null;
      this.events.onUserSeek?.(this.positionMs());
    }, USER_SEEK_SETTLE_MS);
  }

  destroy() {
    this.destroyed = true;
    this.events = {}; // a player gone says nothing more
    clearTimeout(this.readyTimer);
    clearInterval(this.poller);
    clearTimeout(this.seekSettle);
    this.settlePlayAttempt('superseded');
    this.yt?.destroy?.();
  }
}
