// The sync benchmark (`make bench-sync`): real Chromium viewers of one party each, measured
// against the server's timeline on the machine clock. See docs/sync.md.
//
//   node e2e/sync/bench.mjs [--scenario steady,proxied,commands,late-join] [--viewers 6]
//     [--seconds 60] [--commands 24] [--joins 20] [--latency-ms 80] [--jitter-ms 30]
//     [--distribution uniform|normal] [--seed 1] [--out target/bench]
//
// Uses target/release/wewatch and target/release/wewatch-delay-proxy unless WEWATCH_BIN and
// WEWATCH_PROXY_BIN say otherwise.

import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, startHarness } from '../harness.mjs';
import { commands, lateJoin, steady } from './scenarios.mjs';
import { formatResult, writeOutputs } from './report.mjs';
import { proxyBinary } from './proxy.mjs';

const USAGE = `usage: node e2e/sync/bench.mjs [flags]
  --scenario LIST      steady, proxied, commands, late-join or all (default all)
  --viewers N          viewers per party (default 6; late-join uses N − 1 plus the joiner)
  --seconds N          measured seconds of steady play (default 60)
  --warmup N           seconds of play before steady play is measured (default 10)
  --commands N         commands in the commands scenario (default 24)
  --gap-ms N           time between commands (default 3500)
  --joins N            late joiners (default 20)
  --latency-ms N       proxied: delay each way (default 80)
  --jitter-ms N        proxied: ± jitter (default 30)
  --distribution D     proxied: uniform or normal (default uniform)
  --seed N             seed of every random choice (default 1)
  --out DIR            where the JSON and PNG files go (default target/bench)
  --client-dir DIR     serve the pages' browser modules from DIR instead of static/js where
                       DIR has the file (to measure a client change side by side)`;

/** The targets of issue 3; the late joiners' (p95) of "The party as viewers feel it". */
export const TARGETS = {
  steady: { p95: 16, p99: 33 },
  proxied: { p95: 25, p99: 50 },
  convergence: 1000,
  lateJoin: 2000,
};

function parse(argv) {
  const o = {
    scenarios: ['steady', 'proxied', 'commands', 'late-join'],
    viewers: 6, seconds: 60, warmup: 10, commands: 24, gapMs: 3500, joins: 20,
    latencyMs: 80, jitterMs: 30, distribution: 'uniform', seed: 1, out: 'target/bench', clientDir: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[++i];
    const num = () => {
      const n = Number(value);
      if (!Number.isFinite(n) || n < 0) throw new Error(`${flag} needs a number, got ${value}`);
      return n;
    };
    switch (flag) {
      case '--scenario': o.scenarios = value === 'all' ? o.scenarios : value.split(','); break;
      case '--viewers': o.viewers = num(); break;
      case '--seconds': o.seconds = num(); break;
      case '--warmup': o.warmup = num(); break;
      case '--commands': o.commands = num(); break;
      case '--gap-ms': o.gapMs = num(); break;
      case '--joins': o.joins = num(); break;
      case '--latency-ms': o.latencyMs = num(); break;
      case '--jitter-ms': o.jitterMs = num(); break;
      case '--distribution': o.distribution = value; break;
      case '--seed': o.seed = num(); break;
      case '--out': o.out = value; break;
      case '--client-dir': o.clientDir = path.resolve(value); break;
      case '--help': case '-h': console.log(USAGE); process.exit(0); break;
      default: throw new Error(`unknown flag ${flag}\n${USAGE}`);
    }
  }
  for (const s of o.scenarios) {
    if (!['steady', 'proxied', 'commands', 'late-join'].includes(s)) throw new Error(`unknown scenario ${s}`);
  }
  return o;
}

const f = (x, d = 1) => (x == null || !Number.isFinite(x) ? '—' : x.toFixed(d));

function summaryTable(results) {
  const rows = [];
  const row = (scenario, figure, measured, target, ok) => rows.push([scenario, figure, measured, target, ok == null ? '' : ok ? 'met' : 'NOT met']);
  for (const r of results) {
    if (r.scenario === 'steady' || r.scenario === 'proxied') {
      const t = TARGETS[r.scenario];
      row(r.scenario, 'spread p50 / p95 / p99 / max (ms)', `${f(r.spread.p50)} / ${f(r.spread.p95)} / ${f(r.spread.p99)} / ${f(r.spread.max)}`,
        `p95 ≤ ${t.p95}, p99 ≤ ${t.p99}`, r.spread.p95 <= t.p95 && r.spread.p99 <= t.p99);
    } else if (r.scenario === 'commands') {
      row('commands', `all ≤ 33 ms after action, p50 / p95 (ms, n=${r.commands.length})`,
        `${f(r.convergence.p50, 0)} / ${f(r.convergenceP95IncludingMisses, 0)}`, `p95 ≤ ${TARGETS.convergence}`,
        r.convergenceP95IncludingMisses <= TARGETS.convergence);
      row('commands', 'paused: same frame on every screen', `${r.paused.periods.filter((p) => p.sameFrame).length} of ${r.paused.periods.length} pauses`,
        'all', r.paused.allOnSameFrame);
      row('commands', 'spread p50 / p95 / p99 (ms, whole run)', `${f(r.spread.p50)} / ${f(r.spread.p95)} / ${f(r.spread.p99)}`, '', null);
    } else if (r.scenario === 'late-join') {
      const p95 = r.withinFrameP95IncludingMisses;
      row('late-join', `≤ 33 ms of the others, p50 / p95 / max (ms, n=${r.joins.length})`,
        `${f(r.withinFrame.p50, 0)} / ${p95 === Infinity ? 'never' : f(p95, 0)} / ${r.notConverged ? 'never' : f(r.withinFrame.max, 0)}`,
        `p95 ≤ ${TARGETS.lateJoin}`, p95 <= TARGETS.lateJoin);
    }
  }
  const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...rows.map((r) => r[i].length), 8));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

async function main() {
  const o = parse(process.argv.slice(2));
  process.env.WEWATCH_BIN ??= 'target/release/wewatch';
  if (o.scenarios.includes('proxied')) proxyBinary(); // fail early when it is not built
  const out = path.resolve(REPO_ROOT, o.out);
  const started = performance.now();
  const log = (line) => console.log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
  const h = await startHarness();
  const stopOnSignal = async () => {
    await h.stop();
    process.exit(130);
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  const results = [];
  try {
    log(`server ${h.baseUrl} (${process.env.WEWATCH_BIN}); ${os.cpus().length} cores; node ${process.version}`);
    const proxy = { latencyMs: o.latencyMs, jitterMs: o.jitterMs, distribution: o.distribution };
    if (o.clientDir) log(`browser modules from ${o.clientDir} where it has them`);
    const clientDir = o.clientDir;
    for (const name of o.scenarios) {
      let r;
      if (name === 'steady') {
        r = await steady(h, { name, viewers: o.viewers, warmupMs: o.warmup * 1000, measureMs: o.seconds * 1000, seed: o.seed, clientDir, log });
      } else if (name === 'proxied') {
        r = await steady(h, { name, viewers: o.viewers, proxy, skew: true, warmupMs: o.warmup * 1000, measureMs: o.seconds * 1000, seed: o.seed + 1, clientDir, log });
      } else if (name === 'commands') {
        r = await commands(h, { name, viewers: o.viewers, count: o.commands, gapMs: o.gapMs, seed: o.seed + 2, clientDir, log });
      } else {
        r = await lateJoin(h, { name, viewers: Math.max(1, o.viewers - 1), joins: o.joins, seed: o.seed + 3, clientDir, log });
      }
      results.push(r);
      const files = await writeOutputs(h, r, out);
      console.log(`\n${formatResult(r, { spread: TARGETS[name], convergence: TARGETS.convergence, lateJoin: TARGETS.lateJoin })}`);
      console.log(`  → ${path.relative(REPO_ROOT, files.json)}, ${path.relative(REPO_ROOT, files.png)}\n`);
    }
    const table = summaryTable(results);
    console.log(`== summary (against the targets)\n${table}`);
    await writeFile(path.join(out, 'sync-summary.txt'), `${table}\n`);
    log('done');
  } finally {
    await h.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
