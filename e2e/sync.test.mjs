// A short sync scenario with loose bounds, so a regression in the sync code fails CI: three
// viewers in their own browser contexts, their page clocks skewed by seconds, one party.
// Play, seek, pause and play again from different viewers; after each command every viewer
// must come within 100 ms of the server's timeline (generous time-out), and once together
// they must stay within 250 ms of each other. The real figures come from `make bench-sync`
// (docs/sync.md); nothing here depends on the machine being fast.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sleep, startHarness } from './harness.mjs';
import { describePage } from './pages.mjs';
import { Party } from './sync/party.mjs';
import { measure, waitConverged } from './sync/scenarios.mjs';
import { percentile, spreads } from './sync/analysis.mjs';
import { machineNow } from './sync/observer.mjs';

/** Loose bounds: a working client is within a few tens of milliseconds. */
const SPREAD_LIMIT_MS = 250;
const CONVERGED_MS = 100;
const CONVERGE_TIMEOUT_MS = 10_000;
const SKEWS_MS = [-2_000, 0, 2_500];

let h;
let party;

before(async () => {
  h = await startHarness();
});

after(async () => {
  await party?.close();
  await h?.stop();
});

test('three skewed viewers follow play, seek and pause together', async (t) => {
  party = await Party.create(h);
  const viewers = [];
  for (const [i, skewMs] of SKEWS_MS.entries()) viewers.push(await party.addViewer(`viewer${i + 1}`, { skewMs }));
  party.startCollecting();

  const describe = async () => (await Promise.all(viewers.map((v) => describePage(v.name, v.page)))).join('\n');
  const act = async (viewer, kind, arg) => {
    const action = await party.act(viewer, kind, arg);
    action.actorName = await party.displayName(viewer);
    return action;
  };
  const converge = async (action) => {
    try {
      const ms = await waitConverged(party, viewers, action, { toleranceMs: CONVERGED_MS, timeoutMs: CONVERGE_TIMEOUT_MS });
      t.diagnostic(`${action.kind} by ${action.viewer}: every viewer within ${CONVERGED_MS} ms after ${ms} ms`);
    } catch (err) {
      err.message += `\n${await describe()}\n--- browser log ---\n${h.browserLog()}`;
      throw err;
    }
  };
  const spreadOver = async (ms) => {
    const from = machineNow();
    await sleep(ms);
    await Promise.all(viewers.map((v) => party.drain(v)));
    const m = measure(party, viewers, { from, to: machineNow() });
    const s = spreads(m.columns).filter((x) => x != null);
    assert.ok(s.length > ms / 100, `too few common samples (${s.length}) to judge the spread`);
    const max = Math.max(...s);
    t.diagnostic(`spread over ${ms} ms: p50 ${percentile(s, 50).toFixed(1)} ms, max ${max.toFixed(1)} ms`);
    assert.ok(max < SPREAD_LIMIT_MS, `the viewers drifted ${max.toFixed(0)} ms apart (limit ${SPREAD_LIMIT_MS} ms)\n${await describe()}`);
  };

  await converge(await act(viewers[0], 'play'));
  await spreadOver(4_000);
  await converge(await act(viewers[1], 'seek', 30));
  await spreadOver(2_000);
  await converge(await act(viewers[2], 'pause'));
  await converge(await act(viewers[0], 'play'));
  await spreadOver(3_000);
});
