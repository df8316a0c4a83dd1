// The owner's tools and the hint for viewers who may not control.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ControlPanel } from '../../static/js/controls.js';
import { renderViewers } from '../../static/js/presence.js';
import { FakeDocument } from './fakes.mjs';

function panel({ connected = true, owner = true } = {}) {
  const doc = new FakeDocument();
  const el = (tag) => doc.createElement(tag);
  const parts = { watchHint: el('p'), controlHint: el('p'), mode: owner ? el('select') : null, viewers: el('ul') };
  const sent = [];
  const notices = [];
  const controls = new ControlPanel({
    ...parts,
    send: (type, fields) => { if (connected) sent.push({ type, ...fields }); return connected; },
    onNotice: (text) => notices.push(text),
  });
  return { controls, sent, notices, ...parts };
}

const perms = (mode) => ({ mode, owner_id: 1, controllers: [] });
const viewers = [1, 2].map((id) => ({ user_id: id, name: `V${id}`, connections: 1, status: 'watching' }));

test('a viewer who may not control sees why, instead of the usual hint', () => {
  const { controls, watchHint, controlHint } = panel({ owner: false });
  controls.show(perms('promoted'), 2, false);
  assert.deepEqual([watchHint.classList.contains('d-none'), controlHint.classList.contains('d-none')], [true, false]);
  controls.show(perms('everyone'), 2, true);
  assert.deepEqual([watchHint.classList.contains('d-none'), controlHint.classList.contains('d-none')], [false, true]);
});

test('the control mode shows what the server says and sends what the owner picks', () => {
  const { controls, mode, sent } = panel();
  controls.show(perms('everyone'), 1, true);
  assert.equal(mode.value, 'everyone');
  assert.equal(mode.classList.contains('d-none'), false);
  mode.value = 'promoted';
  mode.dispatch('change');
  assert.deepEqual(sent, [{ type: 'control_mode', mode: 'promoted' }]);
});

test('while disconnected the mode falls back to what the server last said', () => {
  const { controls, mode, notices } = panel({ connected: false });
  controls.show(perms('everyone'), 1, true);
  mode.value = 'promoted';
  mode.dispatch('change');
  assert.equal(mode.value, 'everyone');
  assert.match(notices[0], /Not connected/);
});

test("a viewer's Promote button sends promote with their id", () => {
  const { viewers: list, sent } = panel();
  renderViewers(list, viewers, 1, perms('promoted'));
  list.querySelectorAll('button.promote')[0].click();
  assert.deepEqual(sent, [{ type: 'promote', user_id: 2 }]);
  renderViewers(list, viewers, 1, { ...perms('promoted'), controllers: [2] });
  list.querySelectorAll('button.promote')[0].click();
  assert.deepEqual(sent.at(-1), { type: 'demote', user_id: 2 });
});

function waitPanel({ connected = true } = {}) {
  const doc = new FakeDocument();
  const el = (tag) => doc.createElement(tag);
  const parts = { watchHint: el('p'), controlHint: el('p'), mode: null, viewers: el('ul'), wait: el('input'), waitSetting: el('div') };
  parts.waitSetting.classList.add('d-none');
  const sent = [];
  const notices = [];
  const controls = new ControlPanel({
    ...parts,
    send: (type, fields) => { if (connected) sent.push({ type, ...fields }); return connected; },
    onNotice: (text) => notices.push(text),
  });
  return { controls, sent, notices, ...parts };
}

const waitPerms = (wait) => ({ ...perms('everyone'), wait_for_everyone: wait });

test('"wait for everyone" shows what the server says, and the owner’s change is sent', () => {
  const { controls, wait, waitSetting, sent } = waitPanel();
  assert.equal(waitSetting.classList.contains('d-none'), true, 'unknown until the permissions arrive');
  controls.show(waitPerms(true), 1, true);
  assert.deepEqual([waitSetting.classList.contains('d-none'), wait.checked, wait.disabled], [false, true, false]);
  wait.checked = false;
  wait.dispatch('change');
  assert.deepEqual(sent, [{ type: 'set_wait', enabled: false }]);
  controls.show(waitPerms(false), 1, true);
  assert.equal(wait.checked, false);
});

test('others see "wait for everyone" as set, and cannot change it', () => {
  const { controls, wait, waitSetting, sent } = waitPanel();
  controls.show(waitPerms(false), 2, true);
  assert.deepEqual([waitSetting.classList.contains('d-none'), wait.checked, wait.disabled], [false, false, true]);
  wait.checked = true;
  wait.dispatch('change');
  assert.deepEqual(sent, []);
  assert.equal(wait.checked, false);
});

test('while disconnected "wait for everyone" falls back to what the server last said', () => {
  const { controls, wait, notices } = waitPanel({ connected: false });
  controls.show(waitPerms(true), 1, true);
  wait.checked = false;
  wait.dispatch('change');
  assert.equal(wait.checked, true);
  assert.match(notices[0], /Not connected/);
});
