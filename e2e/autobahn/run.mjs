// Autobahn|Testsuite against the party WebSocket (`make autobahn`; docs/autobahn.md).
//
//   node e2e/autobahn/run.mjs [--cases 1.*,2.*] [--no-build] [--out e2e/results/autobahn]
//
// Builds the debug server, starts a private redis-server (unix socket in a temp dir) and the
// server on a free port with its rate and connection limits lifted (a copy of server.toml via
// WEWATCH_CONFIG), creates a video through the JSON API, points the fuzzing client at
// /ws/watch/{invite_key} and prints a summary per case group. Exits 1 when a case that does not
// depend on an echo fails or closes badly.
//
// The fuzzing client (`wstest`, PyPI `autobahntestsuite`) is Python 2.7 code; it is installed
// into .venv/autobahn with `python2.7 -m pip install --target` from e2e/autobahn/requirements.txt.
// AUTOBAHN_PYTHON names the interpreter when `python2.7` is not on PATH.

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Child, GiveUp, REPO_ROOT, overrideSettings, waitFor } from '../harness.mjs';

const USAGE = `usage: node e2e/autobahn/run.mjs [flags]
  --cases LIST   comma-separated case ids or patterns of the spec (default *: every case)
  --no-build     use target/debug/wewatch as it is
  --out DIR      where the reports go (default e2e/results/autobahn; index.html is the overview)
  --keep         keep the temporary directory (Redis, settings copy, server logs)
  --summary      only print the summary of the reports already in --out`;

const REDIS_BIN = 'redis-server';
const VENV = path.join(REPO_ROOT, '.venv', 'autobahn');
const REQUIREMENTS = path.join(REPO_ROOT, 'e2e', 'autobahn', 'requirements.txt');
/** Written into VENV after a successful install: a copy of the requirements it was made from. */
const STAMP = path.join(VENV, '.requirements.txt');

/** Everything the fuzzer could trip over, lifted: it opens ~500 connections and floods some. */
const LIFTED = {
  realtime: {
    messages_per_second: 1_000_000,
    message_burst: 1_000_000,
    commands_per_second: 1_000_000,
    command_burst: 1_000_000,
    max_connections_per_address: 100_000,
    max_connections_per_user: 100_000,
  },
  identity: { guests_per_address_per_minute: 1_000_000 },
};

const GROUPS = {
  1: 'Framing', 2: 'Pings/Pongs', 3: 'Reserved bits', 4: 'Opcodes', 5: 'Fragmentation',
  6: 'UTF-8 handling', 7: 'Close handling', 9: 'Limits/performance', 10: 'Misc',
  12: 'Compression (payloads)', 13: 'Compression (parameters)',
};

function parse(argv) {
  const o = { cases: ['*'], build: true, out: path.join(REPO_ROOT, 'e2e', 'results', 'autobahn'), keep: false, summary: false };
  for (let i = 0; i < argv.length; i++) {
    switch (argv[i]) {
      case '--cases': o.cases = argv[++i].split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--no-build': o.build = false; break;
      case '--out': o.out = path.resolve(argv[++i]); break;
      case '--keep': o.keep = true; break;
      case '--summary': o.summary = true; break;
      case '--help': case '-h': console.log(USAGE); process.exit(0); break;
      default: throw new Error(`unknown flag ${argv[i]}\n${USAGE}`);
    }
  }
  return o;
}

const say = (line) => console.log(`[autobahn] ${line}`);

/** Runs a command in the foreground, its output passed through; throws when it fails. */
function run(command, args, options = {}) {
  const r = spawnSync(command, args, { stdio: 'inherit', cwd: REPO_ROOT, ...options });
  if (r.error) throw new Error(`${command} could not start: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
}

/** A Python 2.7 interpreter: AUTOBAHN_PYTHON, python2.7 / python2 on PATH, or one of pyenv's. */
function findPython2() {
  const candidates = [process.env.AUTOBAHN_PYTHON, 'python2.7', 'python2', '/usr/bin/python2.7', '/usr/local/bin/python2.7'];
  const pyenv = path.join(process.env.PYENV_ROOT || path.join(os.homedir(), '.pyenv'), 'versions');
  if (existsSync(pyenv)) {
    for (const v of readdirSync(pyenv).filter((d) => d.startsWith('2.7')).sort().reverse()) {
      candidates.push(path.join(pyenv, v, 'bin', 'python2.7'));
    }
  }
  for (const c of candidates.filter(Boolean)) {
    const r = spawnSync(c, ['-c', 'import sys; sys.exit(0 if sys.version_info[:2] == (2, 7) else 1)'], { stdio: 'ignore' });
    if (r.status === 0) return c;
  }
  throw new Error(
    'no Python 2.7 interpreter found. The Autobahn fuzzing client (PyPI autobahntestsuite, every\n' +
      'release up to 25.10.1) is Python 2 code and does not import on Python 3; Debian 12 packages no\n' +
      'python2.7. Install one (for example `pyenv install 2.7.18`) and set AUTOBAHN_PYTHON to it.',
  );
}

/** Installs the pinned fuzzer into .venv/autobahn unless the same requirements are there already. */
async function ensureFuzzer(python) {
  const wanted = await readFile(REQUIREMENTS, 'utf8');
  if (existsSync(STAMP) && (await readFile(STAMP, 'utf8')) === wanted) return;
  say(`installing the fuzzing client into ${path.relative(REPO_ROOT, VENV)} (${python})`);
  await rm(VENV, { recursive: true, force: true });
  run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-warn-script-location',
    '--quiet', '--target', VENV, '-r', REQUIREMENTS]);
  await writeFile(STAMP, wanted);
}

/** PING over the unix socket; true on +PONG. */
function redisPing(socketPath) {
  return new Promise((resolve) => {
    const sock = net.connect({ path: socketPath });
    let buf = '';
    const done = (ok) => { sock.destroy(); resolve(ok); };
    sock.setTimeout(1_000, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => { buf += d; if (buf.includes('\r\n')) done(buf.startsWith('+PONG')); });
  });
}

/** A fresh guest's cookie, then a video of that guest; returns its invite key. */
async function createVideo(baseUrl) {
  const first = await fetch(`${baseUrl}/api/v1/videos`);
  if (!first.ok) throw new Error(`GET /api/v1/videos answered ${first.status}: ${await first.text()}`);
  const cookie = first.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  if (!cookie) throw new Error('GET /api/v1/videos set no identity cookie');
  const res = await fetch(`${baseUrl}/api/v1/videos`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie },
    body: JSON.stringify({ url: 'https://example.com/autobahn.mp4', title: 'Autobahn' }),
  });
  const body = await res.text();
  if (res.status !== 201) throw new Error(`POST /api/v1/videos answered ${res.status}: ${body}`);
  return JSON.parse(body).invite_key;
}

/**
 * Whether a case's verdict depends on the server echoing what it was sent: some outcome the
 * case accepts expects a message back, or it is one of the limits/performance cases (9.x),
 * which time round trips and check each echo in their own code (case/case9_*.py) and leave
 * `expected` empty. The party socket answers text with JSON errors instead.
 */
const needsEcho = (id, report) => id.startsWith('9.') ||
  Object.values(report.expected || {}).some((events) => events.some((e) => e[0] === 'message'));

/** Autobahn's verdict of a case (its behaviour), as its overview names it. */
const VERDICT = { OK: 'passed', 'NON-STRICT': 'non-strict', INFORMATIONAL: 'informational', UNIMPLEMENTED: 'unimplemented' };
const verdict = (behavior) => VERDICT[behavior] || 'failed';
/** Closing behaviours that are not a pass: the close code, who closed, or how cleanly. */
const closeProblem = (behaviorClose) => !['OK', 'INFORMATIONAL'].includes(behaviorClose);

const caseKey = (id) => id.split('.').map(Number);
const byCaseId = (a, b) => {
  const x = caseKey(a);
  const y = caseKey(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? -1) !== (y[i] ?? -1)) return (x[i] ?? -1) - (y[i] ?? -1);
  return 0;
};

/** Prints the table and the problems of cases that need no echo; returns how many there are. */
async function summarize(outDir) {
  const index = JSON.parse(await readFile(path.join(outDir, 'index.json'), 'utf8'));
  const [agent] = Object.keys(index);
  const cases = [];
  for (const id of Object.keys(index[agent]).sort(byCaseId)) {
    const r = index[agent][id];
    const report = JSON.parse(await readFile(path.join(outDir, r.reportfile), 'utf8'));
    cases.push({
      id, ...r, echo: needsEcho(id, report), verdict: verdict(r.behavior),
      closeProblem: r.behavior !== 'UNIMPLEMENTED' && closeProblem(r.behaviorClose),
      description: report.description, result: report.result, resultClose: report.resultClose,
    });
  }

  const cols = ['passed', 'non-strict', 'informational', 'failed', 'unimplemented'];
  const problem = (c) => !c.echo && (c.verdict === 'failed' || c.closeProblem);
  const rows = [];
  for (const group of [...new Set(cases.map((c) => c.id.split('.')[0]))]) {
    const inGroup = cases.filter((c) => c.id.split('.')[0] === group);
    rows.push([`${group} ${GROUPS[group] || ''}`.trim(), inGroup.length,
      ...cols.map((v) => inGroup.filter((c) => c.verdict === v).length),
      inGroup.filter((c) => c.verdict === 'failed' && c.echo).length,
      inGroup.filter((c) => c.closeProblem).length,
      inGroup.filter(problem).length]);
  }
  const total = ['total', ...rows.reduce((acc, r) => acc.map((x, i) => x + r[i + 1]), Array(rows[0].length - 1).fill(0))];
  const header = ['group', 'cases', ...cols, 'failed: echo', 'close not OK', 'not echo, not OK'];
  const table = [header, ...rows, total];
  const widths = header.map((_, i) => Math.max(...table.map((r) => String(r[i]).length)));
  console.log('');
  console.log('Autobahn|Testsuite summary: the verdict per case as Autobahn gives it; "close not OK" counts');
  console.log('cases whose closing behaviour was not a pass; "failed: echo" failed because nothing echoes.');
  for (const r of table) console.log(r.map((x, i) => (i === 0 ? String(x).padEnd(widths[i]) : String(x).padStart(widths[i]))).join('  '));

  // Cases that need no echo and did not pass, gathered by what went wrong.
  const problems = cases.filter(problem);
  console.log('');
  if (problems.length === 0) {
    console.log('Every case that needs no echo passed (or was non-strict or informational), closing included.');
  } else {
    console.log(`${problems.length} case(s) that need no echo did not pass:`);
    const kinds = new Map();
    for (const c of problems) {
      const key = `${c.behavior} / close ${c.behaviorClose}: ${c.verdict === 'failed' ? c.result : c.resultClose}`;
      if (!kinds.has(key)) kinds.set(key, []);
      kinds.get(key).push(c);
    }
    for (const [key, cs] of kinds) {
      const codes = [...new Set(cs.map((c) => c.remoteCloseCode))].join(', ');
      console.log(`  ${key} (server's close code ${codes})`);
      console.log(`    ${cs.map((c) => c.id).join(', ')}`);
    }
  }
  const overview = path.join(outDir, 'index.html');
  const near = path.relative(process.cwd(), overview);
  console.log(`Reports: ${near.startsWith('..') ? overview : near}`);
  return problems.length;
}

async function main() {
  const o = parse(process.argv.slice(2));
  if (o.summary) {
    process.exitCode = (await summarize(o.out)) ? 1 : 0;
    return;
  }
  const python = findPython2();
  await ensureFuzzer(python);
  if (o.build) {
    // --all-targets builds the server with the features `cargo test` and `make e2e` use, so a
    // build for one of them is reused here.
    say('building the debug server');
    run(process.env.CARGO || 'cargo', ['build', '--all-targets']);
  }
  const bin = path.join(REPO_ROOT, 'target', 'debug', 'wewatch');
  if (!existsSync(bin)) throw new Error(`${bin} not found; build it (cargo build) or drop --no-build`);

  const tmp = await mkdtemp(path.join(os.tmpdir(), 'wewatch-autobahn-'));
  const socketPath = path.join(tmp, 'redis.sock');
  let redis = null;
  let server = null;
  const children = () => [server, redis].filter(Boolean);
  const killAll = () => { for (const c of children()) if (c.running) c.proc.kill('SIGKILL'); };
  process.once('exit', killAll);
  try {
    redis = new Child('redis-server', REDIS_BIN, ['--port', '0', '--unixsocket', socketPath, '--unixsocketperm', '700',
      '--dir', tmp, '--save', '', '--appendonly', 'no'], { cwd: tmp });
    await waitFor('redis-server on its unix socket', async () => {
      if (!redis.running) throw new GiveUp(`redis-server exited: ${redis.tail()}`);
      return existsSync(socketPath) && redisPing(socketPath);
    }, { timeout: 10_000, interval: 50 });

    const config = path.join(tmp, 'server.toml');
    await writeFile(config, overrideSettings(await readFile(path.join(REPO_ROOT, 'server.toml'), 'utf8'), LIFTED));
    await mkdir(path.join(tmp, 'logs'));
    server = new Child('wewatch', bin, [], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        PORT: '0',
        REDIS_URL: `redis+unix://${socketPath}`,
        WEWATCH_CONFIG: config,
        WEWATCH_SECRET_KEY: randomBytes(32).toString('hex'),
        WEWATCH_LOG_DIR: path.join(tmp, 'logs'),
        WEWATCH_KEY_PREFIX: `autobahn${randomBytes(4).toString('hex')}:`,
      },
    });
    const { value: baseUrl } = await waitFor('the server to say where it listens', () => {
      if (!server.running) throw new GiveUp(`the server exited: ${server.tail()}`);
      const m = server.output.match(/listening on (https?:\/\/[^\s"'\\,]+)/);
      return m && m[1].replace(/\/+$/, '').replace('://0.0.0.0:', '://127.0.0.1:');
    }, { timeout: 60_000, interval: 50 });

    const inviteKey = await createVideo(baseUrl);
    const url = `${baseUrl.replace(/^http/, 'ws')}/ws/watch/${inviteKey}`;
    say(`server ${baseUrl}, party socket ${url.replace(inviteKey, '{invite_key}')}`);

    await rm(o.out, { recursive: true, force: true });
    await mkdir(o.out, { recursive: true });
    const spec = path.join(tmp, 'fuzzingclient.json');
    await writeFile(spec, JSON.stringify({
      options: {},
      outdir: o.out,
      servers: [{ agent: 'WeWatch', url }],
      cases: o.cases,
      'exclude-cases': [],
      'exclude-agent-cases': {},
    }, null, 2));

    // wstest with the install directory as a site directory (its .pth files make zope a package).
    const launcher = 'import site, sys; site.addsitedir(sys.argv.pop(1)); sys.argv[0] = "wstest"; '
      + 'from autobahntestsuite.wstest import run; run()';
    const started = Date.now();
    const log = [];
    let ran = 0;
    let group = null;
    const code = await new Promise((resolve, reject) => {
      const p = spawn(python, ['-u', '-c', launcher, VENV, '-m', 'fuzzingclient', '-s', spec], { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
      let partial = '';
      const onData = (chunk) => {
        partial += chunk;
        const lines = partial.split('\n');
        partial = lines.pop();
        for (const line of lines) {
          log.push(line);
          const m = /Running test case ID (\S+)/.exec(line);
          if (!m) continue;
          ran++;
          const g = m[1].split('.')[0];
          if (g !== group) {
            group = g;
            say(`cases ${g}.x (${GROUPS[g] || ''}) from case ${ran}, ${Math.round((Date.now() - started) / 1000)} s in`);
          }
        }
      };
      p.stdout.on('data', onData);
      p.stderr.on('data', onData);
      p.on('error', reject);
      p.on('exit', (c, signal) => resolve(c ?? signal));
    });
    await writeFile(path.join(o.out, 'wstest.log'), log.join('\n'));
    say(`the fuzzer ran ${ran} cases in ${Math.round((Date.now() - started) / 1000)} s (exit ${code})`);
    if (!existsSync(path.join(o.out, 'index.json'))) {
      throw new Error(`the fuzzer wrote no report; its output:\n${log.slice(-40).join('\n')}`);
    }
    if (!server.running) throw new Error(`the server died during the run:\n${server.tail()}`);
    const failures = await summarize(o.out);
    await writeFile(path.join(o.out, 'server.log'), server.output);
    process.exitCode = failures ? 1 : 0;
  } finally {
    for (const c of children()) await c.stop();
    process.removeListener('exit', killAll);
    if (o.keep) say(`kept ${tmp}`);
    else await rm(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`[autobahn] ${err.message}`);
  process.exit(2);
});
