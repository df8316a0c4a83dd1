// HLS streams (.m3u8) in a native <video> element. Where the browser has Media Source
// Extensions (Chromium, Firefox, Edge, Safari) the stream is played through hls.js, so every
// browser seeks and reports it the same way; where only the browser itself plays HLS (older
// iPhones) the element gets the link. hls.js is loaded only by a page that plays a stream.

const HLS_JS_URL = '/static/vendor/hls.js/hls.light.min.mjs';
const HLS_TYPE = 'application/vnd.apple.mpegurl';
// What hls.js needs of Media Source Extensions (the check hls.js makes itself).
const MSE_PROBE = 'video/mp4; codecs="avc1.42E01E,mp4a.40.2"';
// hls.js moves the playhead by itself over a hole in the buffer or to shake off a stall;
// these are its reports of doing so (non-fatal errors), right after the move.
const OWN_MOVES = new Set(['bufferSeekOverHole', 'bufferNudgeOnStall']);
// A fatal media error is retried this often before the stream counts as unplayable.
const MEDIA_RECOVERIES = 1;

/**
 * How a browser with `support` ({mediaSource, native}) plays HLS: 'hls.js', 'native', or
 * null when it cannot. Pure.
 */
export function hlsRoute({ mediaSource, native }) {
  if (mediaSource) return 'hls.js';
  return native ? 'native' : null;
}

/** What this browser offers HLS, for hlsRoute. */
export function hlsSupport(win = globalThis) {
  const Source = win.ManagedMediaSource ?? win.MediaSource;
  const video = win.document?.createElement('video');
  return {
    mediaSource: Boolean(Source?.isTypeSupported?.(MSE_PROBE)),
    native: Boolean(video?.canPlayType?.(HLS_TYPE)),
  };
}

/**
 * What a fatal hls.js error means: 'recover' (try the media once more) or 'fail', with the
 * viewer's words and the reason the page reports (`unplayable`, docs/protocol.md).
 * `recoveries` counts the media recoveries tried so far. Pure.
 */
export function fatalOutcome({ type, details }, recoveries) {
  if (type === 'mediaError' && recoveries < MEDIA_RECOVERIES) return { action: 'recover' };
  if (type === 'networkError') {
    const message = details === 'manifestLoadError' || details === 'manifestLoadTimeOut'
      ? 'This stream could not be loaded: its playlist (.m3u8) did not answer.'
      : 'This stream could not be loaded: the network failed while fetching it.';
    return { action: 'fail', message, reason: 'unreachable' };
  }
  if (type === 'mediaError') {
    return { action: 'fail', message: 'This stream could not be decoded in this browser.', reason: 'unsupported' };
  }
  return { action: 'fail', message: 'This stream could not be played.', reason: 'player_error' };
}

let library = null;

/** hls.js, loaded on first use. */
function loadHlsJs() {
  library ??= import(HLS_JS_URL).then((module) => module.default);
  return library;
}

/**
 * Plays the stream at `url` in `video` through hls.js. Resolves with the stream, whose
 * `destroy()` detaches it; rejects when hls.js cannot be loaded.
 * @param {object} events onOwnMove() right after hls.js moved the playhead by itself,
 *   onFailure(message, reason) when the stream cannot be played (see fatalOutcome)
 */
export async function attachHls(video, url, { onOwnMove, onFailure }) {
  const Hls = await loadHlsJs();
  // No worker: it would need a blob: script, which the page's policy does not allow, and a
  // stream of fMP4 segments needs no transmuxing.
  const hls = new Hls({ enableWorker: false });
  let recoveries = 0;
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (!data.fatal) {
      if (OWN_MOVES.has(data.details)) onOwnMove();
      return;
    }
    const outcome = fatalOutcome(data, recoveries);
    if (outcome.action === 'recover') {
      recoveries += 1;
      hls.recoverMediaError();
      return;
    }
    hls.destroy();
    onFailure(outcome.message, outcome.reason);
  });
  hls.loadSource(url);
  hls.attachMedia(video);
  return hls;
}
