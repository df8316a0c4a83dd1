// What the sync harness puts into every viewer's page before the page's own scripts run
// (an init script of the viewer's browser context):
//
// 1. The machine's real clock, captured first: `performance.now` and `performance.timeOrigin`
//    as the browser made them, kept under a non-enumerable symbol
//    (Symbol.for('wewatch.sync.realClock')). The harness reads time only through it.
// 2. Optionally a skewed page clock, as on a computer whose clock is off by `skewMs`:
//    `Date.now()`, `new Date()` and `Date()` read real + skew; `performance.timeOrigin +
//    performance.now()` reads real + skew as well. `performance.now()` is shifted by
//    skew + SKEW_NOW_LEAD_MS and `timeOrigin` back by SKEW_NOW_LEAD_MS, so that
//    `performance.now()` never reads below zero (a real page's never does) while pages still
//    differ from one another by their skews. The app must not care: it only uses
//    `performance.now()` differences and its own estimate of server time.
//    Not skewed: event time stamps, requestAnimationFrame / video frame callback time stamps
//    and workers (the app uses none of them for sync).
// 3. A sampler: every `intervalMs` it reads the real clock and then, at once, the player's
//    `currentTime`, paused, playbackRate, seeking and readyState, the media time of the last
//    frame presented (requestVideoFrameCallback), and the page's own view of things
//    (`window.wewatch.serverNow()` and `error_ms()`), for diagnosis. The harness drains the
//    samples every second or so.
// 4. Milestones of the page's start, each stamped once on the real clock when it first
//    happens (see MILESTONES): what a late joiner's time to sync is spent on.

export const REAL_CLOCK_KEY = 'wewatch.sync.realClock';
export const SAMPLES_KEY = 'wewatch.sync.samples';
export const SKEW_NOW_LEAD_MS = 3000;

/**
 * The sample tuple's fields, in order. `frameMs` is the media time of the frame on screen;
 * `appNow` and `appError` are what the page believes (its server-time estimate and error).
 */
export const SAMPLE_FIELDS = ['t', 'pos', 'paused', 'rate', 'seeking', 'readyState', 'frameMs', 'appNow', 'appError'];

/**
 * The milestones of a page's start, in the order they usually come: the page's HTML received
 * (`html`, from the navigation's timing), the document parsed (`dcl`), the page's party
 * socket created (`socket`: its scripts run), open (`open`) and welcomed (`welcome`), the
 * page's clock done with its first quick samples (`clock`: the page's
 * `window.wewatch.clock_settled()` says so after a pong), the player's `loadedmetadata`,
 * `canplay`, first `seeked` and first `playing`.
 */
export const MILESTONES = ['html', 'dcl', 'socket', 'open', 'welcome', 'clock', 'metadata', 'canplay', 'seeked', 'playing'];

/** Runs in the page (serialised by Playwright): installs the real clock, the skew, the sampler and the milestones. */
function installProbe({ skewMs, intervalMs, selector, realKey, samplesKey, lead }) {
  const REAL = Symbol.for(realKey);
  if (window[REAL]) return;
  const perf = performance;
  const realNowFn = Performance.prototype.now;
  const realOrigin = perf.timeOrigin;
  const realNow = () => realNowFn.call(perf);
  const machineNow = () => realOrigin + realNowFn.call(perf);
  Object.defineProperty(window, REAL, {
    value: Object.freeze({ now: realNow, timeOrigin: realOrigin, machineNow, skewMs }),
    enumerable: false,
  });

  if (skewMs) {
    Object.defineProperty(perf, 'now', {
      value: function now() { return realNowFn.call(perf) + skewMs + lead; },
      configurable: true,
      writable: true,
    });
    Object.defineProperty(perf, 'timeOrigin', { get: () => realOrigin - lead, configurable: true });
    const RealDate = Date;
    const skewedNow = () => RealDate.now() + skewMs;
    function SkewedDate(...args) {
      if (!new.target) return new RealDate(skewedNow()).toString();
      return Reflect.construct(RealDate, args.length ? args : [skewedNow()], new.target);
    }
    SkewedDate.prototype = RealDate.prototype;
    SkewedDate.now = skewedNow;
    SkewedDate.parse = RealDate.parse;
    SkewedDate.UTC = RealDate.UTC;
    Object.defineProperty(window, 'Date', { value: SkewedDate, configurable: true, writable: true });
  }

  const samples = [];
  let watched = null;
  let frameMs = null;
  const watchFrames = (video) => {
    if (typeof video.requestVideoFrameCallback !== 'function') return;
    const onFrame = (_now, meta) => {
      if (watched !== video) return;
      frameMs = meta.mediaTime * 1000;
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  };
  const call = (name) => {
    try {
      const w = window.wewatch;
      const x = w && typeof w[name] === 'function' ? w[name]() : null;
      return Number.isFinite(x) ? x : null;
    } catch {
      return null;
    }
  };
  setInterval(() => {
    const t = machineNow();
    const v = document.querySelector(selector);
    if (!v) return;
    if (v !== watched) {
      watched = v;
      frameMs = null;
      watchFrames(v);
    }
    samples.push([t, v.currentTime * 1000, v.paused ? 1 : 0, v.playbackRate, v.seeking ? 1 : 0,
      v.readyState, frameMs, call('serverNow'), call('error_ms')]);
    if (samples.length > 20_000) samples.splice(0, samples.length - 20_000);
  }, intervalMs);

  const marks = {};
  const seekedAt = [];
  const mark = (name) => { if (!(name in marks)) marks[name] = machineNow(); };
  document.addEventListener('DOMContentLoaded', () => {
    mark('dcl');
    const nav = performance.getEntriesByType('navigation')[0];
    if (nav?.responseEnd > 0) marks.html = realOrigin + nav.responseEnd;
  }, { once: true });
  // Media events do not bubble, but they pass the window on their way down (capture).
  const media = { loadedmetadata: 'metadata', canplay: 'canplay', seeked: 'seeked', playing: 'playing' };
  for (const [type, name] of Object.entries(media)) {
    window.addEventListener(type, (ev) => {
      if (!ev.target?.matches?.(selector)) return;
      mark(name);
      if (type === 'seeked') seekedAt.push(machineNow());
    }, true);
  }
  const NativeWebSocket = window.WebSocket;
  class ObservedWebSocket extends NativeWebSocket {
    constructor(...args) {
      super(...args);
      mark('socket');
      this.addEventListener('open', () => mark('open'));
      this.addEventListener('message', (ev) => {
        let type;
        try {
          type = JSON.parse(ev.data)?.type;
        } catch {
          return;
        }
        if (type === 'welcome') mark('welcome');
        // Read once the page's own handler has taken the pong.
        if (type === 'pong') setTimeout(() => { if (window.wewatch?.clock_settled?.()) mark('clock'); }, 0);
      });
    }
  }
  Object.defineProperty(window, 'WebSocket', { value: ObservedWebSocket, configurable: true, writable: true });

  Object.defineProperty(window, Symbol.for(samplesKey), {
    value: Object.freeze({ drain: () => samples.splice(0), marks: () => ({ first: { ...marks }, seekedAt: [...seekedAt] }) }),
    enumerable: false,
  });
}

/** Adds the probe to a browser context: every page it opens from now on carries it. */
export function addProbe(context, { skewMs = 0, intervalMs = 50, selector }) {
  return context.addInitScript(installProbe, {
    skewMs, intervalMs, selector, realKey: REAL_CLOCK_KEY, samplesKey: SAMPLES_KEY, lead: SKEW_NOW_LEAD_MS,
  });
}

/** The samples a page took since the last drain, as objects; [] when it has none (yet). */
export async function drainSamples(page) {
  const rows = await page.evaluate((key) => {
    const s = window[Symbol.for(key)];
    return s ? s.drain() : [];
  }, SAMPLES_KEY);
  return rows.map((r) => Object.fromEntries(SAMPLE_FIELDS.map((f, i) => [f, r[i]])));
}

/**
 * The milestones the page has passed so far: `first` ({name: machine time}, see MILESTONES)
 * and `seekedAt` (the machine time of every `seeked` of its player).
 */
export function readMarks(page) {
  return page.evaluate((key) => window[Symbol.for(key)]?.marks() ?? { first: {}, seekedAt: [] }, SAMPLES_KEY);
}

/** The machine's real time in the page (ms since the epoch), read through the stashed clock. */
export function pageMachineNow(page) {
  return page.evaluate((key) => {
    const real = window[Symbol.for(key)];
    return real ? real.machineNow() : performance.timeOrigin + performance.now();
  }, REAL_CLOCK_KEY);
}

/**
 * Runs `action` (a native-control action on the page's <video>) in the page and returns the
 * real machine time just before it, so commands are timed on the same clock as the samples.
 * `action` is one of: play, pause, seek (arg: seconds), rate (arg: playbackRate).
 */
export function nativeAction(page, selector, action, arg) {
  return page.evaluate(({ key, selector, action, arg }) => {
    const real = window[Symbol.for(key)];
    const at = real ? real.machineNow() : performance.timeOrigin + performance.now();
    const v = document.querySelector(selector);
    if (action === 'play') {
      const p = v.play();
      if (p) p.catch(() => {});
    } else if (action === 'pause') {
      v.pause();
    } else if (action === 'seek') {
      v.currentTime = arg;
    } else if (action === 'rate') {
      v.playbackRate = arg;
    } else {
      throw new Error(`unknown action ${action}`);
    }
    return at;
  }, { key: REAL_CLOCK_KEY, selector, action, arg });
}
