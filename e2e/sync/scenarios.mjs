// The sync scenarios: steady play (on loopback, or behind delaying proxies with skewed
// clocks), commands from random viewers, and late joiners. Each returns a plain result
// object (report.mjs prints it, writes it as JSON and draws it).

import { sleep, waitFor } from '../harness.mjs';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import {
  clockModel, convergence, gridTimes, onGrid, percentile, runningMedian, spreads, stalls, stateAt,
  stddev, summary, viewerErrors,
} from './analysis.mjs';
import { machineNow } from './observer.mjs';
import { Party, rng } from './party.mjs';
import { MILESTONES } from './probe.mjs';

/** Sync target of the issue: one frame at 30 fps. */
export const FRAME_MS = 33;
const STEP_MS = 50;
/** A viewer counts as converged once within tolerance for this long. */
const HOLD_MS = 250;
/** Paused viewers are compared once this long has passed since the pause took effect. */
const PAUSE_SETTLE_MS = 700;
const SKEW_RANGE_MS = 3000;

function cpuTimes() {
  try {
    const xs = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return { idle: xs[3] + (xs[4] || 0), total: xs.reduce((a, b) => a + b, 0) };
  } catch {
    return null;
  }
}

/**
 * Starts measuring how busy the machine is; the function returned says how busy it was
 * since: every process counts, this run's and anyone else's (a busy machine makes players
 * stall, whatever the sync code does).
 */
export function loadMeter() {
  const a = cpuTimes();
  const load = os.loadavg()[0];
  return () => {
    const b = cpuTimes();
    return {
      cores: os.cpus().length,
      cpuBusyPct: a && b && b.total > a.total ? 100 * (1 - (b.idle - a.idle) / (b.total - a.total)) : null,
      loadAvgStart: load,
      loadAvgEnd: os.loadavg()[0],
    };
  };
}

/** `n` different clock skews spread evenly over ±3 s, in a seeded random order. */
export function skewsFor(n, random) {
  const xs = Array.from({ length: n }, (_, i) => Math.round(n === 1 ? SKEW_RANGE_MS / 2 : -SKEW_RANGE_MS + (2 * SKEW_RANGE_MS * i) / (n - 1)));
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

/** Opens `n` viewers at once, each with its own proxy (seeded) and skew when asked. */
async function openViewers(party, n, { proxy, skew, random, prefix = 'viewer' }) {
  const skews = skew ? skewsFor(n, random) : new Array(n).fill(0);
  const seeds = Array.from({ length: n }, () => Math.floor(random() * 2 ** 31));
  return Promise.all(Array.from({ length: n }, (_, i) => party.addViewer(`${prefix}${i + 1}`, {
    skewMs: skews[i],
    proxy: proxy ? { ...proxy, seed: seeds[i] } : null,
  })));
}

/** Everything measured about `viewers` between `from` and `to`, on a common grid. */
export function measure(party, viewers, { from, to }) {
  const { rec } = party.observer;
  const model = clockModel(rec.pongs);
  const states = rec.states;
  const rows = viewers.map((v) => viewerErrors(v.samples, states, model.offsetAt));
  const times = gridTimes(from, to, STEP_MS);
  const columns = rows.map((r) => onGrid(r, times, 'err'));
  const seqs = times.map((t) => stateAt(states, t)?.seq ?? -1);
  const smoothed = columns.map((c) => runningMedian(c, 4));
  const appColumns = rows.map((r) => onGrid(r, times, 'appErr'));
  const clockColumns = rows.map((r) => onGrid(r, times, 'clockErr'));
  return { model, states, rows, times, columns, seqs, smoothed, appColumns, clockColumns };
}

/** Per-viewer figures over the rows inside [from, to] where the timeline plays. */
function viewerStats(viewer, rows, { from, to }) {
  const inside = rows.filter((r) => r.t >= from && r.t <= to);
  const playing = inside.filter((r) => !r.tlPaused);
  const errs = playing.map((r) => r.err);
  const med = runningMedian(errs, 4);
  const noise = errs.map((e, i) => e - med[i]);
  let seeks = 0;
  for (let i = 1; i < inside.length; i++) if (inside[i].seeking && !inside[i - 1].seeking) seeks++;
  const clock = inside.map((r) => r.clockErr).filter(Number.isFinite);
  const stalled = stalls(inside);
  return {
    name: viewer.name,
    skewMs: viewer.skewMs,
    proxied: Boolean(viewer.proxy),
    samples: inside.length,
    errMeanMs: errs.length ? errs.reduce((a, b) => a + b, 0) / errs.length : null,
    errSdMs: stddev(errs),
    absErrP95Ms: percentile(errs.map(Math.abs), 95),
    noiseSdMs: stddev(noise),
    clockErrMeanMs: clock.length ? clock.reduce((a, b) => a + b, 0) / clock.length : null,
    clockErrSdMs: stddev(clock),
    clockErrMaxAbsMs: clock.length ? Math.max(...clock.map(Math.abs)) : null,
    appErrMeanMs: (() => {
      const a = playing.map((r) => r.appErr).filter(Number.isFinite);
      return a.length ? a.reduce((x, y) => x + y, 0) / a.length : null;
    })(),
    nudgedFraction: playing.length ? playing.filter((r) => Math.abs(r.rate - r.tlRate) > 0.0005).length / playing.length : null,
    seeks,
    stalls: stalled.length,
    stalledLostMs: stalled.reduce((a, x) => a + x.lostMs, 0),
  };
}

/** How long after a stall the spread is left out of the "outside stalls" figure. */
const STALL_RECOVERY_MS = 3_000;

/** Spread statistics and the chart series of a measured window. */
function spreadFigures(m, viewers, window) {
  const inWindow = (k) => m.times[k] >= window.from && m.times[k] <= window.to;
  const pick = (xs) => xs.filter((_, k) => inWindow(k));
  const stallEvents = m.rows.flatMap((rows) => stalls(rows.filter((r) => r.t >= window.from && r.t <= window.to)));
  const calm = (k) => !stallEvents.some((e) => m.times[k] >= e.t && m.times[k] <= e.endT + STALL_RECOVERY_MS);
  const all = spreads(m.columns);
  return {
    spread: summary(pick(all)),
    // Diagnosis: players that stall (their media clock stops for a moment: the machine was
    // busy) and the spread outside the stalls and the STALL_RECOVERY_MS after them.
    stallEvents: stallEvents.length,
    spreadOutsideStalls: summary(all.filter((_, k) => inWindow(k) && calm(k))),
    // Diagnosis: the spread of each viewer's error smoothed over ±200 ms (what remains
    // without sampling noise), of the errors the pages believed they had (what remains with
    // perfect clocks), and of their clock estimates' errors.
    spreadSmoothed: summary(pick(spreads(m.smoothed))),
    spreadBelieved: summary(pick(spreads(m.appColumns))),
    spreadClock: summary(pick(spreads(m.clockColumns))),
    viewers: viewers.map((v, i) => viewerStats(v, m.rows[i], window)),
    clock: m.model.stats,
  };
}

function series(m, viewers, t0, extra = {}) {
  return {
    t0,
    stepMs: STEP_MS,
    times: m.times.map((t) => t - t0),
    viewers: viewers.map((v, i) => ({ name: v.name, err: m.columns[i] })),
    ...extra,
  };
}

/** Every sample of every viewer, for diagnosis (written next to the result as *.samples.json). */
export const RAW_FIELDS = ['t', 'err', 'pos', 'rate', 'paused', 'seeking', 'seq', 'clockErr', 'appErr', 'frameMs'];
function raw(m, viewers, t0) {
  return {
    t0,
    fields: RAW_FIELDS,
    states: m.states.map((s) => ({ t: s.at - t0, ...s.state })),
    viewers: viewers.map((v, i) => ({
      name: v.name,
      skewMs: v.skewMs,
      rows: m.rows[i].map((r) => RAW_FIELDS.map((f) => {
        const x = f === 't' ? r.t - t0 : r[f];
        return typeof x === 'boolean' ? Number(x) : x;
      })),
    })),
  };
}

/**
 * Steady play: every viewer opens the party, one presses play, and after `warmupMs` the
 * spread is measured for `measureMs`. With `proxy` each viewer sits behind its own delaying
 * proxy; with `skew` each page's clock is off by a different amount within ±3 s.
 */
export async function steady(h, { name, viewers = 6, proxy = null, skew = false, warmupMs = 10_000, measureMs = 60_000, seed = 1, clientDir = null, log = () => {} }) {
  const random = rng(seed);
  const meter = loadMeter();
  const party = await Party.create(h, { log, clientDir });
  try {
    const vs = await openViewers(party, viewers, { proxy, skew, random });
    log(`${name}: ${viewers} viewers open${proxy ? ' (each behind its own proxy)' : ''}${skew ? ', clocks skewed' : ''}`);
    party.startCollecting();
    const play = await party.act(vs[0], 'play');
    await party.waitAllPlaying();
    await sleep(warmupMs);
    const from = machineNow();
    log(`${name}: measuring for ${Math.round(measureMs / 1000)} s`);
    await sleep(measureMs);
    const to = machineNow();
    await party.stopCollecting();

    const m = measure(party, vs, { from: play.at, to });
    const playName = await party.displayName(vs[0]);
    const playState = m.states.find((s) => s.at >= play.at && s.state.updated_by === playName);
    const start = playState
      ? convergence(m, { from: play.at, seq: playState.state.seq, toleranceMs: FRAME_MS, holdMs: HOLD_MS })
      : null;
    return {
      scenario: name,
      config: { viewers, proxy, skews: vs.map((v) => v.skewMs), warmupMs, measureMs, seed, sampleMs: party.sampleMs },
      startConvergenceMs: start,
      machine: meter(),
      ...spreadFigures(m, vs, { from, to }),
      observer: { states: m.states.length, errors: party.observer.rec.errors },
      series: series(m, vs, from, { window: [0, to - from], events: [{ t: play.at - from, label: 'play' }] }),
      raw: raw(m, vs, from),
    };
  } finally {
    await party.close();
  }
}

/** What the next command is, given the timeline now: always one that changes something. */
function chooseCommand(random, timeline, durationMs) {
  const s = timeline.state;
  const seekTarget = () => Math.round((5 + random() * 50) * 10) / 10;
  if (timeline.positionMs > durationMs - 20_000) return { kind: 'seek', arg: seekTarget() };
  const otherRate = () => {
    const rates = [0.75, 1.25, 1.5, 1].filter((r) => r !== s.rate);
    if (s.rate !== 1 && random() < 0.5) return 1;
    return rates[Math.floor(random() * rates.length)];
  };
  const x = random();
  if (s.paused) {
    if (x < 0.55) return { kind: 'play' };
    if (x < 0.8) return { kind: 'seek', arg: seekTarget() };
    return { kind: 'rate', arg: otherRate() };
  }
  if (x < 0.35) return { kind: 'pause' };
  if (x < 0.7) return { kind: 'seek', arg: seekTarget() };
  return { kind: 'rate', arg: otherRate() };
}

/**
 * Commands: `commands` native-control actions (play, pause, seek, rate) from random viewers,
 * `gapMs` apart. Per command: how long until every viewer is within a frame of the timeline
 * (measured from the viewer's action, so the player's own debounce counts), and while paused,
 * whether every viewer rests on the same frame.
 */
export async function commands(h, { name, viewers = 6, proxy = null, skew = false, count = 24, gapMs = 3_500, warmupMs = 3_000, seed = 3, clientDir = null, log = () => {} }) {
  const random = rng(seed);
  const meter = loadMeter();
  const party = await Party.create(h, { log, clientDir });
  try {
    const vs = await openViewers(party, viewers, { proxy, skew, random });
    party.startCollecting();
    await party.act(vs[0], 'play');
    await party.waitAllPlaying();
    await sleep(warmupMs);
    const durationMs = party.observer.latest().state.duration_ms ?? 90_000;
    const actions = [];
    log(`${name}: ${count} commands, ${gapMs} ms apart`);
    for (let i = 0; i < count; i++) {
      const actor = vs[Math.floor(random() * vs.length)];
      const { kind, arg } = chooseCommand(random, party.timelineNow(), durationMs);
      const action = await party.act(actor, kind, arg);
      action.actorName = await party.displayName(actor);
      actions.push(action);
      await sleep(gapMs);
    }
    const end = machineNow();
    await party.stopCollecting();

    const first = actions[0].at;
    const m = measure(party, vs, { from: first - 1_000, to: end });
    const results = actions.map((a, i) => {
      const until = actions[i + 1]?.at ?? end;
      const st = m.states.find((s) => s.at >= a.at && s.at < until && s.state.updated_by === a.actorName && !s.state.waiting);
      const conv = st ? convergence(m, { from: a.at, seq: st.state.seq, until, toleranceMs: FRAME_MS, holdMs: HOLD_MS }) : null;
      return {
        t: a.at - first,
        viewer: a.viewer,
        kind: a.kind,
        arg: a.arg ?? null,
        seq: st?.state.seq ?? null,
        stateAfterMs: st ? st.at - a.at : null,
        convergedAfterMs: conv,
      };
    });
    const paused = pausedAgreement(m, vs, end, actions.map((a) => a.at));
    const conv = results.map((r) => r.convergedAfterMs);
    const byKind = {};
    for (const r of results) (byKind[r.kind] ??= []).push(r.convergedAfterMs);
    return {
      scenario: name,
      config: { viewers, proxy, skews: vs.map((v) => v.skewMs), count, gapMs, seed, sampleMs: party.sampleMs },
      commands: results,
      machine: meter(),
      convergence: summary(conv.map((c) => c ?? Infinity).filter((c) => c !== Infinity)),
      convergenceP95IncludingMisses: percentile(conv.map((c) => (c == null ? Infinity : c)), 95),
      notConverged: conv.filter((c) => c == null).length,
      convergenceByKind: Object.fromEntries(Object.entries(byKind).map(([k, xs]) => [k, {
        n: xs.length, p50: percentile(xs.filter((x) => x != null), 50), max: Math.max(...xs.map((x) => x ?? Infinity)),
      }])),
      stateAfter: summary(results.map((r) => r.stateAfterMs)),
      paused,
      ...spreadFigures(m, vs, { from: first - 1_000, to: end }),
      observer: { states: m.states.length, errors: party.observer.rec.errors },
      series: series(m, vs, first, { events: results.map((r) => ({ t: r.t, label: r.kind })) }),
      raw: raw(m, vs, first),
    };
  } finally {
    await party.close();
  }
}

/**
 * Paused periods (paused by a viewer, not waiting for one): once settled, every viewer's
 * position and the media time of the frame on its screen. A period ends with the next state
 * or the next viewer action, whichever comes first (an action moves the actor's player at once).
 */
function pausedAgreement(m, viewers, end, actionTimes) {
  const periods = [];
  m.states.forEach((s, i) => {
    if (!s.state.paused || s.state.waiting || s.at < actionTimes[0]) return;
    const from = s.at + PAUSE_SETTLE_MS;
    const nextAction = actionTimes.find((t) => t > s.at) ?? Infinity;
    const to = Math.min(m.states[i + 1]?.at ?? end, nextAction, end);
    if (to - from < 200) return;
    const last = viewers.map((v, j) => {
      const inside = m.rows[j].filter((r) => r.t >= from && r.t <= to);
      return inside.at(-1) ?? null;
    });
    if (last.some((r) => r == null)) return;
    const positions = last.map((r) => r.pos);
    const frames = last.map((r) => r.frameMs);
    const spreadAll = Math.max(...viewers.map((_, j) => {
      const inside = m.rows[j].filter((r) => r.t >= from && r.t <= to);
      return Math.max(...inside.map((r) => Math.abs(r.err)));
    }));
    periods.push({
      seq: s.state.seq,
      positionMs: s.state.position_ms,
      positionSpreadMs: Math.max(...positions) - Math.min(...positions),
      maxAbsErrMs: spreadAll,
      sameFrame: frames.every((f) => f != null && Math.abs(f - frames[0]) < 1),
      framesMs: frames,
    });
  });
  return {
    periods,
    allOnSameFrame: periods.length > 0 && periods.every((p) => p.sameFrame),
    positionSpreadMaxMs: periods.length ? Math.max(...periods.map((p) => p.positionSpreadMs)) : null,
  };
}

/**
 * Late joiners: `viewers` watch; `joins` times a new viewer opens the party page, stays
 * `stayMs` and leaves. Per joiner: time from starting to open the page until it is within a
 * frame of the others (their median) and stays so for 250 ms, and when it passed each
 * milestone of its start (probe.mjs, MILESTONES), all from the same instant.
 */
export async function lateJoin(h, { name, viewers = 5, joins = 20, stayMs = 6_000, warmupMs = 3_000, seed = 4, clientDir = null, log = () => {} }) {
  const random = rng(seed);
  const meter = loadMeter();
  const party = await Party.create(h, { log, clientDir });
  try {
    const vs = await openViewers(party, viewers, { proxy: null, skew: false, random });
    party.startCollecting();
    await party.act(vs[0], 'play');
    await party.waitAllPlaying();
    await sleep(warmupMs);
    const joiners = [];
    log(`${name}: ${joins} late joiners`);
    for (let j = 0; j < joins; j++) {
      await rewindNearTheEnd(party, vs[0], { stayMs, warmupMs, log: (line) => log(`${name}: ${line}`) });
      const joiner = await party.addViewer(`late${j + 1}`);
      await sleep(Math.max(0, joiner.openedAt + stayMs - machineNow()));
      await party.removeViewer(joiner);
      joiners.push(joiner);
      await sleep(1_000);
    }
    const end = machineNow();
    await party.stopCollecting();

    const results = joiners.map((jv) => joinFigures(party, jv, vs));
    const m = measure(party, vs, { from: vs[0].readyAt, to: end });
    const within = results.map((r) => r.withinFrameOfOthersAfterMs);
    return {
      scenario: name,
      config: { viewers, joins, stayMs, seed, sampleMs: party.sampleMs },
      joins: results.map(({ rel, times, ...r }) => r),
      machine: meter(),
      withinFrame: summary(within.filter((x) => x != null)),
      withinFrameP95IncludingMisses: percentile(within.map((x) => (x == null ? Infinity : x)), 95),
      notConverged: within.filter((x) => x == null).length,
      milestones: Object.fromEntries(MILESTONES.map((k) => [k, summary(results.map((r) => r.milestones[k]))])),
      clock: m.model.stats,
      series: {
        t0: 0,
        stepMs: STEP_MS,
        times: null,
        viewers: results.map((r) => ({ name: r.viewer, times: r.times, err: r.rel })),
        note: 'each late joiner\'s error relative to the median of the others, from the moment it opened the page',
        yMax: 500,
      },
    };
  } finally {
    await party.close();
  }
}

/** Where the party is sent back to when a joiner would see the sample end, in seconds. */
const REWIND_TO_S = 5;
/** How far from the end a joiner's stay must stop, so its player never reaches the end. */
const END_MARGIN_MS = 5_000;

/**
 * Sends the party back to REWIND_TO_S (a seek by `actor`) when the next joiner's stay would
 * reach the end of the media, and waits until everyone plays again and has settled.
 */
async function rewindNearTheEnd(party, actor, { stayMs, warmupMs, log }) {
  const { state, positionMs } = party.timelineNow();
  const durationMs = state.duration_ms ?? 90_000;
  if (positionMs + stayMs + END_MARGIN_MS < durationMs) return;
  log(`back to ${REWIND_TO_S} s`);
  const seek = await party.act(actor, 'seek', REWIND_TO_S);
  await waitFor('the seek to reach the party', () => party.observer.rec.states.some((x) => x.at > seek.at
    && !x.state.paused && Math.abs(x.state.position_ms - REWIND_TO_S * 1000) < 1_000), { timeout: 10_000, interval: 50 });
  await party.waitAllPlaying();
  await sleep(warmupMs);
}

/**
 * One late joiner `jv` among `others`, from the instant it began to open the page: when it was
 * within a frame of the others' median (and of the timeline) for HOLD_MS, when it passed each
 * milestone, and how many seeks its player made before it was in sync.
 */
function joinFigures(party, jv, others) {
  const m = measure(party, [jv, ...others], { from: jv.openedAt, to: jv.closedAt });
  const rel = m.times.map((_, k) => {
    const mine = m.columns[0][k];
    const rest = m.columns.slice(1).map((c) => c[k]).filter((x) => x != null);
    return mine == null || rest.length === 0 ? null : mine - percentile(rest, 50);
  });
  const never = m.times.map(() => Infinity);
  const toOthers = convergence({ times: m.times, columns: [rel], seqs: never }, { from: jv.openedAt, seq: 0, toleranceMs: FRAME_MS, holdMs: HOLD_MS });
  const toTimeline = convergence({ times: m.times, columns: [m.columns[0]], seqs: never }, { from: jv.openedAt, seq: 0, toleranceMs: FRAME_MS, holdMs: HOLD_MS });
  const until = toOthers == null ? Infinity : jv.openedAt + toOthers;
  const milestones = Object.fromEntries(MILESTONES.map((k) => [k, jv.marks[k] == null ? null : jv.marks[k] - jv.openedAt]));
  return {
    viewer: jv.name,
    readyAfterMs: jv.readyAt - jv.openedAt,
    milestones,
    seeksBeforeSync: jv.seekedAt.filter((t) => t <= until).length,
    withinFrameOfOthersAfterMs: toOthers,
    withinFrameOfTimelineAfterMs: toTimeline,
    rel,
    times: m.times.map((t) => t - jv.openedAt),
  };
}
