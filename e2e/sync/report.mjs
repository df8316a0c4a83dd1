// Turns a scenario's result into a printed table, a JSON file (target/bench/sync-NAME.json)
// and a PNG chart of every viewer's error over time (an SVG drawn in a headless page and
// screenshotted, so no image library is needed).

import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { rounded } from './analysis.mjs';

const f = (x, digits = 1) => (x == null || !Number.isFinite(x) ? '—' : x.toFixed(digits));
const pad = (s, n) => String(s).padStart(n);
const padEnd = (s, n) => String(s).padEnd(n);

function spreadLine(label, s) {
  return `  ${padEnd(label, 26)}${pad(f(s.p50), 8)}${pad(f(s.p95), 8)}${pad(f(s.p99), 8)}${pad(f(s.max), 8)}`;
}

function spreadBlock(r, targets) {
  const lines = [];
  lines.push(`  ${padEnd('spread (ms)', 26)}${pad('p50', 8)}${pad('p95', 8)}${pad('p99', 8)}${pad('max', 8)}   instants`);
  lines.push(`${spreadLine('viewers (currentTime)', r.spread)}   ${r.spread.n}`);
  lines.push(`${spreadLine(`  outside ${r.stallEvents} stalls (+3 s)`, r.spreadOutsideStalls)}   ${r.spreadOutsideStalls.n}`);
  lines.push(spreadLine('  smoothed over ±200 ms', r.spreadSmoothed));
  lines.push(spreadLine('  as the pages believe', r.spreadBelieved));
  lines.push(spreadLine('  of their clock estimates', r.spreadClock));
  if (targets) lines.push(`  target: p95 ≤ ${targets.p95} ms, p99 ≤ ${targets.p99} ms → ${verdict(r.spread.p95 <= targets.p95 && r.spread.p99 <= targets.p99)}`);
  lines.push(`  ${padEnd('viewer', 10)}${pad('skew', 7)}${pad('mean', 8)}${pad('sd', 7)}${pad('|e|p95', 8)}${pad('noise', 7)}${pad('clock', 8)}${pad('clk sd', 8)}${pad('nudged', 8)}${pad('seeks', 7)}${pad('stalls', 8)}${pad('lost', 7)}`);
  for (const v of r.viewers) {
    lines.push(`  ${padEnd(v.name, 10)}${pad(v.skewMs, 7)}${pad(f(v.errMeanMs), 8)}${pad(f(v.errSdMs), 7)}${pad(f(v.absErrP95Ms), 8)}` +
      `${pad(f(v.noiseSdMs), 7)}${pad(f(v.clockErrMeanMs), 8)}${pad(f(v.clockErrSdMs), 8)}${pad(`${f(100 * (v.nudgedFraction ?? NaN), 0)}%`, 8)}${pad(v.seeks, 7)}` +
      `${pad(v.stalls, 8)}${pad(f(v.stalledLostMs, 0), 7)}`);
  }
  const c = r.clock;
  lines.push(`  (errors in ms; noise = sd around the running median; clock = page's server-time estimate − true; ` +
    `harness clock: ${c.samples} pings, best RTT ${f(c.rttMinMs, 2)} ms, drift ${f(c.driftPpm, 1)} ppm, residual ${f(c.residualMaxMs, 2)} ms)`);
  return lines;
}

function machineLine(m) {
  if (!m) return null;
  return `  machine: ${m.cores} cores, CPU busy ${f(m.cpuBusyPct, 0)} % (every process), load average ${f(m.loadAvgStart, 1)} → ${f(m.loadAvgEnd, 1)}`;
}

function verdict(ok) {
  return ok ? 'met' : 'NOT met';
}

/** The printed table of one scenario's result. */
export function formatResult(r, targets = {}) {
  const lines = [`== ${r.scenario}`];
  if (r.spread && !r.commands) {
    const cfg = r.config;
    lines.push(`  ${cfg.viewers} viewers, ${cfg.proxy ? `each behind a proxy (${cfg.proxy.latencyMs} ± ${cfg.proxy.jitterMs} ms, ${cfg.proxy.distribution})` : 'loopback'}` +
      `${cfg.skews.some((s) => s) ? `, clocks skewed by ${cfg.skews.join(', ')} ms` : ''}, measured ${Math.round(cfg.measureMs / 1000)} s after ${Math.round(cfg.warmupMs / 1000)} s of warm-up`);
    lines.push(...spreadBlock(r, targets.spread));
    lines.push(`  after the first play, every viewer within 33 ms after ${f(r.startConvergenceMs, 0)} ms`);
  }
  if (r.commands) {
    const cfg = r.config;
    lines.push(`  ${cfg.viewers} viewers, ${r.commands.length} commands from random viewers, ${cfg.gapMs} ms apart` +
      `${cfg.proxy ? `, behind proxies (${cfg.proxy.latencyMs} ± ${cfg.proxy.jitterMs} ms)` : ''}${cfg.skews.some((s) => s) ? ', clocks skewed' : ''}`);
    lines.push(`  ${pad('t s', 7)}  ${padEnd('viewer', 9)}${padEnd('command', 13)}${pad('state', 8)}${pad('all ≤33ms', 11)}`);
    for (const c of r.commands) {
      const what = c.kind + (c.arg != null ? ` ${c.arg}` : '');
      lines.push(`  ${pad(f(c.t / 1000, 1), 7)}  ${padEnd(c.viewer, 9)}${padEnd(what, 13)}${pad(f(c.stateAfterMs, 0), 8)}${pad(c.convergedAfterMs == null ? 'never' : f(c.convergedAfterMs, 0), 11)}`);
    }
    const cv = r.convergence;
    lines.push(`  every viewer within 33 ms after the action (ms): p50 ${f(cv.p50, 0)}, p95 ${f(r.convergenceP95IncludingMisses, 0)}, max ${f(cv.max, 0)}` +
      `${r.notConverged ? ` (${r.notConverged} never before the next command, counted as infinite in p95)` : ''}`);
    if (targets.convergence) lines.push(`  target: p95 ≤ ${targets.convergence} ms → ${verdict(r.convergenceP95IncludingMisses <= targets.convergence)}`);
    lines.push(`  by kind: ${Object.entries(r.convergenceByKind).map(([k, v]) => `${k} ×${v.n} p50 ${f(v.p50, 0)} max ${f(v.max, 0)}`).join('; ')}`);
    lines.push(`  action → the server's state arrives (ms): p50 ${f(r.stateAfter.p50, 0)}, max ${f(r.stateAfter.max, 0)}`);
    const p = r.paused;
    lines.push(`  paused: ${p.periods.length} periods; same frame on every screen in ${p.periods.filter((x) => x.sameFrame).length}; ` +
      `largest currentTime spread ${f(p.positionSpreadMaxMs, 2)} ms`);
    lines.push(`  the pages' clock estimates: spread p95 ${f(r.spreadClock.p95)} ms; harness clock: best RTT ${f(r.clock.rttMinMs, 2)} ms`);
  }
  if (r.joins) lines.push(...lateJoinBlock(r, targets.lateJoin));
  const machine = machineLine(r.machine);
  if (machine) lines.push(machine);
  return lines.join('\n');
}

/** Column heads of the late joiners' milestones (probe.mjs, MILESTONES). */
const MILESTONE_HEADS = {
  html: 'HTML', dcl: 'DCL', socket: 'socket', open: 'open', welcome: 'welcome', clock: 'clock', metadata: 'meta',
  canplay: 'canplay', seeked: 'seeked', playing: 'playing',
};

/** The late joiners' table: per joiner where the time went, then p50 / p95 of each step. */
function lateJoinBlock(r, target) {
  const lines = [];
  const names = Object.keys(MILESTONE_HEADS).filter((k) => k in r.milestones);
  const ms = (x) => (x == null ? 'never' : f(x, 0));
  lines.push(`  ${r.config.viewers} viewers playing; ${r.joins.length} late joiners, one after the other; ` +
    'ms from starting to open the page');
  lines.push(`  ${padEnd('joiner', 8)}${names.map((k) => pad(MILESTONE_HEADS[k], 8)).join('')}${pad('in sync', 9)}${pad('timeline', 10)}${pad('seeks', 7)}`);
  const row = (label, value, sync, timeline, seeks) =>
    `  ${padEnd(label, 8)}${names.map((k) => pad(value(k), 8)).join('')}${pad(sync, 9)}${pad(timeline, 10)}${pad(seeks, 7)}`;
  for (const j of r.joins) {
    lines.push(row(j.viewer, (k) => ms(j.milestones[k]), ms(j.withinFrameOfOthersAfterMs), ms(j.withinFrameOfTimelineAfterMs), j.seeksBeforeSync));
  }
  const w = r.withinFrame;
  lines.push(row('p50', (k) => ms(r.milestones[k].p50), ms(w.p50), '', ''));
  lines.push(row('p95', (k) => ms(r.milestones[k].p95), ms(r.withinFrameP95IncludingMisses), '', ''));
  lines.push('  (HTML: the page received; DCL: document parsed; socket: the page\'s scripts opened its party socket; ' +
    'open: it is open; welcome: the server\'s answer; ' +
    'clock: its quick clock samples done; meta, canplay, seeked, playing: the player\'s first such event; ' +
    'in sync: within 33 ms of the others\' median for 250 ms; timeline: of the server\'s timeline; seeks: before in sync)');
  lines.push(`  within 33 ms of the others after opening the page (ms): p50 ${f(w.p50, 0)}, p95 ${r.withinFrameP95IncludingMisses === Infinity ? 'never' : f(r.withinFrameP95IncludingMisses, 0)}, ` +
    `max ${r.notConverged ? 'never' : f(w.max, 0)}${r.notConverged ? ` (${r.notConverged} never, counted as infinite in p95)` : ''}`);
  if (target) lines.push(`  target: p95 ≤ ${target} ms → ${verdict(r.withinFrameP95IncludingMisses <= target)}`);
  return lines;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

/** An SVG chart of each viewer's error over time. */
export function chartSvg(r, { width = 1400, height = 560 } = {}) {
  const s = r.series;
  const margin = { left: 70, right: 160, top: 40, bottom: 50 };
  const w = width - margin.left - margin.right;
  const hgt = height - margin.top - margin.bottom;
  const lines = s.viewers.map((v) => ({ name: v.name, times: v.times ?? s.times, err: v.err }));
  const allT = lines.flatMap((l) => l.times);
  const tMin = Math.min(0, ...allT);
  const tMax = Math.max(...allT, 1);
  const abs = lines.flatMap((l) => l.err.filter((e) => e != null).map(Math.abs)).sort((a, b) => a - b);
  // Scaled to hold 95 % of the points: seeks' brief jumps of seconds would flatten the rest.
  const p95 = abs.length ? abs[Math.floor(abs.length * 0.95)] : 50;
  const yMax = s.yMax ?? [50, 100, 200, 500, 1000, 2000].find((y) => y >= p95 * 1.2) ?? 2000;
  const x = (t) => margin.left + ((t - tMin) / (tMax - tMin)) * w;
  const y = (e) => margin.top + hgt / 2 - (Math.max(-yMax, Math.min(yMax, e)) / yMax) * (hgt / 2);
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="13">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${margin.left}" y="24" font-size="16" font-weight="bold">${escapeXml(r.scenario)}: each viewer's error (currentTime − timeline), ms</text>`);
  for (const band of [33, 16]) {
    if (band >= yMax) continue;
    out.push(`<rect x="${margin.left}" y="${y(band)}" width="${w}" height="${y(-band) - y(band)}" fill="${band === 33 ? '#eef6ee' : '#dcefdc'}"/>`);
  }
  const yTicks = [-yMax, -yMax / 2, 0, yMax / 2, yMax];
  for (const t of yTicks) {
    out.push(`<line x1="${margin.left}" x2="${margin.left + w}" y1="${y(t)}" y2="${y(t)}" stroke="#ccc" stroke-width="${t === 0 ? 1.5 : 0.5}"/>`);
    out.push(`<text x="${margin.left - 8}" y="${y(t) + 4}" text-anchor="end">${t}</text>`);
  }
  const step = [1, 2, 5, 10, 20, 30, 60].find((st) => (tMax - tMin) / 1000 / st <= 15) ?? 120;
  for (let t = Math.ceil(tMin / 1000 / step) * step; t <= tMax / 1000; t += step) {
    out.push(`<line x1="${x(t * 1000)}" x2="${x(t * 1000)}" y1="${margin.top}" y2="${margin.top + hgt}" stroke="#eee"/>`);
    out.push(`<text x="${x(t * 1000)}" y="${margin.top + hgt + 18}" text-anchor="middle">${t}</text>`);
  }
  out.push(`<text x="${margin.left + w / 2}" y="${height - 10}" text-anchor="middle">seconds</text>`);
  for (const ev of s.events ?? []) {
    out.push(`<line x1="${x(ev.t)}" x2="${x(ev.t)}" y1="${margin.top}" y2="${margin.top + hgt}" stroke="#999" stroke-dasharray="3,3"/>`);
    out.push(`<text x="${x(ev.t) + 2}" y="${margin.top + 12}" font-size="10" fill="#666">${escapeXml(ev.label)}</text>`);
  }
  lines.forEach((l, i) => {
    const color = COLORS[i % COLORS.length];
    let d = '';
    let pen = false;
    l.err.forEach((e, k) => {
      if (e == null) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${x(l.times[k]).toFixed(1)},${y(e).toFixed(1)}`;
      pen = true;
    });
    out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.2" stroke-opacity="0.85"/>`);
    out.push(`<rect x="${width - margin.right + 15}" y="${margin.top + i * 20}" width="14" height="4" fill="${color}"/>`);
    out.push(`<text x="${width - margin.right + 35}" y="${margin.top + i * 20 + 6}">${escapeXml(l.name)}</text>`);
  });
  out.push(`<text x="${width - margin.right + 15}" y="${margin.top + lines.length * 20 + 20}" font-size="11" fill="#555">bands: ±16, ±33 ms</text>`);
  out.push(`<text x="${width - margin.right + 15}" y="${margin.top + lines.length * 20 + 36}" font-size="11" fill="#555">clipped at ±${yMax} ms</text>`);
  out.push('</svg>');
  return out.join('\n');
}

function escapeXml(s) {
  return String(s).replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]);
}

/**
 * Writes `sync-NAME.json` and `sync-NAME.png` into `dir`; the chart is drawn in a fresh page
 * of the harness's Chromium. Returns the two paths.
 */
export async function writeOutputs(h, r, dir) {
  await mkdir(dir, { recursive: true });
  const base = path.join(dir, `sync-${r.scenario}`);
  const { raw, ...result } = r;
  await writeFile(`${base}.json`, `${JSON.stringify(rounded(result, 2), null, 1)}\n`);
  if (raw) await writeFile(`${base}.samples.json`, `${JSON.stringify(rounded(raw, 2))}\n`);
  const svg = chartSvg(r);
  const { context, page } = await h.newViewer('chart');
  try {
    await page.setViewportSize({ width: 1400, height: 560 });
    await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
    await page.screenshot({ path: `${base}.png`, clip: { x: 0, y: 0, width: 1400, height: 560 } });
  } finally {
    await context.close().catch(() => {});
  }
  return { json: `${base}.json`, png: `${base}.png` };
}
