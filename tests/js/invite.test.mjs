// The invite link after the owner replaces it: asked of the owner's API, used only when sound.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { currentInvite, invitePaths } from '../../static/js/invite.js';

const answer = (status, body) => async () => ({ ok: status < 300, status, json: async () => body });

test("the new invite key comes from the owner's API", async () => {
  const asked = [];
  const fetchImpl = async (url, options) => {
    asked.push(url);
    return answer(200, { invite_key: 'Ab_9-x', watch_url: 'http://host/watch/Ab_9-x' })(url, options);
  };
  assert.deepEqual(await currentInvite('/api/v1/videos/3', fetchImpl), { key: 'Ab_9-x', watchUrl: 'http://host/watch/Ab_9-x' });
  assert.deepEqual(asked, ['/api/v1/videos/3']);
  assert.deepEqual(invitePaths('Ab_9-x'), { page: '/watch/Ab_9-x', socket: '/ws/watch/Ab_9-x' });
});

test('without an answer that makes sense there is no new invite link', async () => {
  const table = [
    ['not the owner', answer(404, { error: 'not_found' })],
    ['no key', answer(200, {})],
    ['a key that is no key', answer(200, { invite_key: '../../admin' })],
    ['a key with markup', answer(200, { invite_key: '<b>' })],
    ['the network failed', async () => { throw new TypeError('Failed to fetch'); }],
  ];
  for (const [what, fetchImpl] of table) assert.equal(await currentInvite('/api/v1/videos/3', fetchImpl), null, what);
  assert.equal(await currentInvite('', answer(200, { invite_key: 'abc' })), null, 'not the owner: nothing to ask');
});
