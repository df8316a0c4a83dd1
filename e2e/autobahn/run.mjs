// Autobahn|Testsuite against the party WebSocket (`make autobahn`; docs/autobahn.md).
//
//   node e2e/autobahn/run.mjs [--cases 1.*,2.*] [--no-build] [--out e2e/results/autobahn]
//
// Builds the debug server, starts a private redis-server (unix socket in a temp dir) and the
// server on a free port with its rate and connection limits lifted (a copy of server.toml via
// WEWATCH_CONFIG), creates a video through the JSON API, points the fuzzing client at
// /ws/watch/{invite_key} and prints a summary per case group. Exits non-zero when a case that
// does not depend on an echo fails.
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
  --keep         keep the temporary directory (Redis, settings copy, server logs)`;

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
  const o = { cases: ['*'], build: true, out: path.join(REPO_ROOT, 'e2e', 'results', 'autobahn'), keep: false };
  for (let i = 0; i < argv.length; i++) {
    switch (argv[i]) {
      case '--cases': o.cases = argv[++i].split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--no-build': o.build = false; break;
      case '--out': o.out = path.resolve(argv[++i]); break;
      case '--keep': o.keep = true; break;
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
 * Whether a case's verdict depends on the server echoing messages: some outcome the case
 * accepts expects a message back. The party socket answers text with JSON errors instead.
 */
const needsEcho = (report) => Object.values(report.expected || {}).some((events) => events.some((e) => e[0] === 'message'));

/**
 * One verdict per case, as Autobahn's overview colours it: the behaviour (Pass, Non-Strict,
 * Info, Fail, Unimplemented), made worse by the closing behaviour: a wrong close code or a
 * TCP close left to the client makes it non-strict, an unclean or failed close a failure.
 */
function verdict({ behavior, behaviorClose }) {
  if (behavior === 'UNIMPLEMENTED') return 'unimplemented';
  const rank = ['passed', 'informational', 'non-strict', 'failed'];
  const of = { OK: 'passed', INFORMATIONAL: 'informational', 'NON-STRICT': 'non-strict', 'NO CLOSE': 'non-strict' };
  const b = of[behavior] || 'failed';
  const closeOf = { OK: 'passed', INFORMATIONAL: 'informational', 'WRONG CODE': 'non-strict', 'FAILED BY CLIENT': 'non-strict' };
  const c = closeOf[behaviorClose] || 'failed';
  return rank[Math.max(rank.indexOf(b), rank.indexOf(c))];
}

const caseKey = (id) => id.split('.').map(Number);
const byCaseId = (a, b) => {
  const x = caseKey(a);
  const y = caseKey(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? -1) !== (y[i] ?? -1)) return (x[i] ?? -1) - (y[i] ?? -1);
  return 0;
};

async function summarize(outDir) {
  const index = JSON.parse(await readFile(path.join(outDir, 'index.json'), 'utf8'));
  const [agent] = Object.keys(index);
  const cases = [];
  for (const id of Object.keys(index[agent]).sort(byCaseId)) {
    const r = index[agent][id];
    const report = JSON.parse(await readFile(path.join(outDir, r.reportfile), 'utf8'));
    cases.push({ id, ...r, echo: needsEcho(report), verdict: verdict(r), description: report.description, result: report.result, resultClose: report.resultClose });
  }

  const cols = ['passed', 'non-strict', 'informational', 'failed', 'unimplemented'];
  const rows = [];
  for (const group of [...new Set(cases.map((c) => c.id.split('.')[0]))]) {
    const inGroup = cases.filter((c) => c.id.split('.')[0] === group);
    const count = (v, echo) => inGroup.filter((c) => c.verdict === v && (echo === undefined || c.echo === echo)).length;
    rows.push([`${group} ${GROUPS[group] || ''}`.trim(), inGroup.length, ...cols.map((v) => count(v)),
      count('failed', true), count('failed', false)]);
  }
  const total = ['total', cases.length, ...rows.reduce((acc, r) => acc.map((x, i) => x + r[i + 2]), Array(cols.length + 2).fill(0))];
  const header = ['group', 'cases', ...cols, 'failed: echo', 'failed: other'];
  const table = [header, ...rows, total];
  const widths = header.map((_, i) => Math.max(...table.map((r) => String(r[i]).length)));
  console.log('');
  console.log('Autobahn|Testsuite summary (verdict = behaviour, worsened by the closing behaviour)');
  for (const r of table) console.log(r.map((x, i) => (i === 0 ? String(x).padEnd(widths[i]) : String(x).padStart(widths[i]))).join('  '));

  const others = cases.filter((c) => c.verdict === 'failed' && !c.echo);
  console.log('');
  if (others.length === 0) {
    console.log('Every failing case expects its message echoed back (the party socket is not an echo server).');
  } else {
    console.log(`${others.length} failing case(s) that do not depend on an echo:`);
    for (const c of others) {
      console.log(`  ${c.id}  ${c.behavior} / close ${c.behaviorClose} (remote close code ${c.remoteCloseCode})`);
      console.log(`        ${c.description.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim()}`);
      console.log(`        ${c.result} ${c.resultClose}`);
    }
  }
  const nonStrict = cases.filter((c) => c.verdict === 'non-strict' && !c.echo).map((c) => c.id);
  if (nonStrict.length) console.log(`Non-strict without an echo: ${nonStrict.join(', ')}`);
  console.log(`Reports: ${path.relative(process.cwd(), path.join(outDir, 'index.html'))}`);
  return others.length;
}

async function main() {
  const o = parse(process.argv.slice(2));
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
