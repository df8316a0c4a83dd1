// The sync harness's arithmetic, pure and unit-tested (analysis.test.mjs): server time on
// the machine clock, the timeline reconstructed from the server's states, each viewer's error,
// errors on a common time grid, spread, convergence and percentiles.
//
// Every time here is machine time (ms since the epoch, `performance.timeOrigin +
// performance.now()` of an unskewed clock) unless it says server time.

/** The p-th percentile (0–100) of `values`, interpolated between closest ranks; null when empty. */
export function percentile(values, p) {
  const xs = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const rank = (p / 100) * (xs.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return xs[lo] + (xs[hi] - xs[lo]) * (rank - lo);
}

/** {n, p50, p95, p99, max, mean} of `values` (non-finite ones are left out). */
export function summary(values) {
  const xs = values.filter(Number.isFinite);
  const mean = xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
  return {
    n: xs.length,
    p50: percentile(xs, 50),
    p95: percentile(xs, 95),
    p99: percentile(xs, 99),
    max: xs.length ? Math.max(...xs) : null,
    mean,
  };
}

export function stddev(values) {
  const xs = values.filter(Number.isFinite);
  if (xs.length < 2) return null;
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

function median(values) {
  return percentile(values, 50);
}

/**
 * Server time on the machine clock, from ping/pong samples {t0, t1, serverMs} taken on
 * loopback: each sample says offset = serverMs − (t0 + t1)/2, within ±rtt/2. Per window of
 * `windowMs`, the median offset of the `bestOf` lowest-RTT samples is kept; a straight line
 * through those (least squares) absorbs any rate difference between the two clocks.
 * Returns offsetAt(t) (server − machine, ms) and how good it is.
 */
export function clockModel(pongs, { windowMs = 10_000, bestOf = 3 } = {}) {
  const samples = pongs
    .map((p) => ({ at: (p.t0 + p.t1) / 2, rtt: p.t1 - p.t0, offset: p.serverMs - (p.t0 + p.t1) / 2 }))
    .filter((s) => Number.isFinite(s.offset) && s.rtt >= 0)
    .sort((a, b) => a.at - b.at);
  if (samples.length === 0) throw new Error('clockModel: no ping/pong samples');
  const windows = [];
  let start = 0;
  while (start < samples.length) {
    let end = start;
    while (end < samples.length && samples[end].at < samples[start].at + windowMs) end++;
    const best = samples.slice(start, end).sort((a, b) => a.rtt - b.rtt).slice(0, bestOf);
    windows.push({
      at: median(best.map((s) => s.at)),
      offset: median(best.map((s) => s.offset)),
      rtt: Math.max(...best.map((s) => s.rtt)),
    });
    start = end;
  }
  let a = windows[0].offset;
  let b = 0;
  const t0 = windows[0].at;
  if (windows.length >= 2) {
    const xs = windows.map((w) => w.at - t0);
    const ys = windows.map((w) => w.offset);
    const mx = xs.reduce((s, x) => s + x, 0) / xs.length;
    const my = ys.reduce((s, y) => s + y, 0) / ys.length;
    const sxx = xs.reduce((s, x) => s + (x - mx) ** 2, 0);
    b = sxx > 0 ? xs.reduce((s, x, i) => s + (x - mx) * (ys[i] - my), 0) / sxx : 0;
    a = my - b * mx;
  }
  const offsetAt = (t) => a + b * (t - t0);
  const residuals = windows.map((w) => w.offset - offsetAt(w.at));
  const rtts = samples.map((s) => s.rtt);
  return {
    offsetAt,
    stats: {
      samples: samples.length,
      rttMinMs: Math.min(...rtts),
      rttP50Ms: percentile(rtts, 50),
      windowBestRttMaxMs: Math.max(...windows.map((w) => w.rtt)),
      driftPpm: b * 1e6,
      residualMaxMs: Math.max(...residuals.map(Math.abs)),
      windows: windows.length,
    },
  };
}

/** The protocol's expected(t): where the media should be at server time `serverMs`. */
export function expectedMs(state, serverMs) {
  const elapsed = state.paused ? 0 : Math.max(0, serverMs - state.anchor_ms);
  const position = state.position_ms + elapsed * state.rate;
  const upper = state.duration_ms == null ? Infinity : state.duration_ms;
  return Math.min(Math.max(position, 0), upper);
}

/** Index of the last element of sorted `xs` with key(x) ≤ t, or −1. */
function lastAtOrBefore(xs, t, key) {
  let lo = 0;
  let hi = xs.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (key(xs[mid]) <= t) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/** The state in effect at machine time `t` (the latest received by then), or null. */
export function stateAt(states, t) {
  const i = lastAtOrBefore(states, t, (s) => s.at);
  return i < 0 ? null : states[i].state;
}

/**
 * One viewer's samples turned into errors against the timeline:
 * err = currentTime − expected(server time at the sample's instant);
 * clockErr = the page's estimate of server time − the true one (positive: the page thinks
 * it is later); appErr = the error the page itself believed it had.
 */
export function viewerErrors(samples, states, offsetAt) {
  const out = [];
  for (const s of samples) {
    const st = stateAt(states, s.t);
    if (!st || !Number.isFinite(s.pos)) continue;
    const serverNow = s.t + offsetAt(s.t);
    const expected = expectedMs(st, serverNow);
    out.push({
      t: s.t,
      err: s.pos - expected,
      seq: st.seq,
      tlPaused: st.paused,
      tlRate: st.rate,
      paused: s.paused === 1,
      rate: s.rate,
      seeking: s.seeking === 1,
      pos: s.pos,
      frameMs: s.frameMs,
      expected,
      clockErr: Number.isFinite(s.appNow) ? s.appNow - serverNow : null,
      appErr: Number.isFinite(s.appError) ? s.appError : null,
    });
  }
  return out;
}

/**
 * `field` of each viewer's error rows at the instants `times`: linear between the samples
 * either side when both lie within `maxGapMs` of each other and belong to the same state,
 * else the nearer one if it lies within `maxGapMs / 2`, else null.
 */
export function onGrid(rows, times, field = 'err', { maxGapMs = 200 } = {}) {
  const out = new Array(times.length).fill(null);
  let j = 0;
  for (let k = 0; k < times.length; k++) {
    const g = times[k];
    while (j + 1 < rows.length && rows[j + 1].t <= g) j++;
    const prev = rows[j] && rows[j].t <= g ? rows[j] : null;
    const next = prev ? rows[j + 1] : rows[j];
    const pv = prev?.[field];
    const nv = next?.[field];
    if (prev && next && next.t - prev.t <= maxGapMs && prev.seq === next.seq && pv != null && nv != null) {
      const f = next.t === prev.t ? 0 : (g - prev.t) / (next.t - prev.t);
      out[k] = pv + (nv - pv) * f;
      continue;
    }
    const near = [prev, next]
      .filter((r) => r && r[field] != null && Math.abs(r.t - g) <= maxGapMs / 2)
      .sort((a, b) => Math.abs(a.t - g) - Math.abs(b.t - g))[0];
    out[k] = near ? near[field] : null;
  }
  return out;
}

/** Instants from `t0` to `t1` every `stepMs`. */
export function gridTimes(t0, t1, stepMs) {
  const times = [];
  for (let t = t0; t <= t1; t += stepMs) times.push(t);
  return times;
}

/** At each instant, max − min over the viewers (null unless every viewer has a value). */
export function spreads(columns) {
  const n = columns[0]?.length ?? 0;
  const out = new Array(n).fill(null);
  for (let k = 0; k < n; k++) {
    let lo = Infinity;
    let hi = -Infinity;
    let complete = true;
    for (const col of columns) {
      const v = col[k];
      if (v == null) {
        complete = false;
        break;
      }
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (complete) out[k] = hi - lo;
  }
  return out;
}

/** A running median of `values` over `half` neighbours either side (nulls skipped). */
export function runningMedian(values, half) {
  return values.map((_, i) => {
    const w = values.slice(Math.max(0, i - half), i + half + 1).filter((v) => v != null);
    return w.length ? median(w) : null;
  });
}

/**
 * How long after `from` every viewer is within `toleranceMs` of the timeline and stays so for
 * `holdMs`, counting only instants whose timeline is state `seq` or later and before `until`.
 * `columns` are the viewers' errors on `times`, `seqs` the timeline's seq there.
 * Returns ms, or null when that never happens.
 */
export function convergence({ times, columns, seqs }, { from, seq, until = Infinity, toleranceMs = 33, holdMs = 250 }) {
  const ok = (k) => columns.every((col) => col[k] != null && Math.abs(col[k]) <= toleranceMs);
  for (let k = 0; k < times.length; k++) {
    const t = times[k];
    if (t < from || seqs[k] < seq) continue;
    if (t + holdMs > until) return null;
    if (!ok(k)) continue;
    let held = true;
    for (let m = k + 1; m < times.length && times[m] <= t + holdMs; m++) {
      if (!ok(m)) {
        held = false;
        break;
      }
    }
    if (held) return t - from;
  }
  return null;
}

/** Rounds every number in a (nested) value to `digits` decimals, for compact JSON. */
export function rounded(value, digits = 2) {
  const f = 10 ** digits;
  if (typeof value === 'number') return Number.isFinite(value) ? Math.round(value * f) / f : null;
  if (Array.isArray(value)) return value.map((v) => rounded(v, digits));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rounded(v, digits)]));
  }
  return value;
}

/**
 * Stalls of one viewer's player: runs of consecutive samples (same state, playing, not
 * seeking) in which its position advanced clearly less than its rate says. Each is
 * {t, endT, lostMs}: when it began and ended, and how much media time it lost. Runs losing
 * less than `minLostMs` are not reported.
 */
export function stalls(rows, { minLostMs = 20, maxGapMs = 250 } = {}) {
  const out = [];
  let run = null;
  for (let i = 1; i < rows.length; i++) {
    const a = rows[i - 1];
    const b = rows[i];
    const comparable = a.seq === b.seq && !a.paused && !b.paused && !a.seeking && !b.seeking &&
      !a.tlPaused && b.t - a.t <= maxGapMs;
    const expected = (b.t - a.t) * a.rate;
    const lost = comparable ? expected - (b.pos - a.pos) : 0;
    if (comparable && lost > Math.max(5, 0.3 * expected)) {
      run ??= { t: a.t, endT: b.t, lostMs: 0 };
      run.endT = b.t;
      run.lostMs += lost;
    } else if (run) {
      if (run.lostMs >= minLostMs) out.push(run);
      run = null;
    }
  }
  if (run && run.lostMs >= minLostMs) out.push(run);
  return out;
}
