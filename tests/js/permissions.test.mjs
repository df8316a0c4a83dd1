// Who may control: the same reading of the permissions as the server's, ids of either type.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mayControl, promotion } from '../../static/js/permissions.js';

const OWNER = 1;
const PROMOTED = 2;
const OTHER = 3;
const perms = (mode) => ({ mode, owner_id: OWNER, controllers: [PROMOTED] });

test('who may control, in each mode', () => {
  const table = [
    // mode, viewer, may control
    ['everyone', OWNER, true],
    ['everyone', PROMOTED, true],
    ['everyone', OTHER, true],
    ['promoted', OWNER, true],
    ['promoted', PROMOTED, true],
    ['promoted', OTHER, false],
  ];
  for (const [mode, viewer, expected] of table) {
    assert.equal(mayControl(perms(mode), viewer), expected, `${mode}, viewer ${viewer}`);
  }
});

test('an id read from the page (a string) counts the same as one from the server', () => {
  assert.equal(mayControl(perms('promoted'), '2'), true);
  assert.equal(mayControl(perms('promoted'), '1'), true);
  assert.equal(mayControl(perms('promoted'), '3'), false);
});

test('without permissions, or without knowing who is asking, nobody is let in by "promoted"', () => {
  assert.equal(mayControl(null, OWNER), false);
  assert.equal(mayControl(perms('promoted'), null), false);
  assert.equal(mayControl({ mode: 'promoted', owner_id: OWNER, controllers: [] }, OTHER), false);
});

test('only the owner promotes and demotes, never themself', () => {
  assert.equal(promotion(perms('promoted'), OWNER, OTHER), 'promote');
  assert.equal(promotion(perms('promoted'), OWNER, PROMOTED), 'demote');
  assert.equal(promotion(perms('everyone'), OWNER, PROMOTED), 'demote', 'promotions are kept in "everyone" mode');
  assert.equal(promotion(perms('promoted'), OWNER, OWNER), null);
  assert.equal(promotion(perms('promoted'), PROMOTED, OTHER), null, 'a promoted viewer cannot promote');
  assert.equal(promotion(perms('promoted'), OTHER, PROMOTED), null);
});
