// The chat: times as m:ss, which times can be clicked, text kept as text, the draft kept on refusal.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatPanel, cleanChatText, formatPosition, isNearBottom, seekTarget } from '../../static/js/chat.js';
import { FakeDocument } from './fakes.mjs';

test('positions read as m:ss, and as h:mm:ss from an hour on', () => {
  const table = [
    [0, '0:00'], [999, '0:00'], [1000, '0:01'], [59_999, '0:59'], [60_000, '1:00'], [723_000, '12:03'],
    [3_599_000, '59:59'], [3_600_000, '1:00:00'], [3_723_000, '1:02:03'], [36_000_000, '10:00:00'],
    [-500, '0:00'], [NaN, '0:00'],
  ];
  for (const [ms, text] of table) assert.equal(formatPosition(ms), text, `${ms} ms`);
});

test("a message's time seeks only for those who may control, and only during its media", () => {
  const message = { media: 'item:3', position_ms: 42_000.4 };
  assert.equal(seekTarget(message, { canControl: true, media: 'item:3' }), 42_000);
  assert.equal(seekTarget(message, { canControl: false, media: 'item:3' }), null);
  assert.equal(seekTarget(message, { canControl: true, media: 'item:4' }), null, 'written during another item');
  assert.equal(seekTarget(message, { canControl: true, media: null }), null);
  assert.equal(seekTarget({ media: '', position_ms: 0 }, { canControl: true, media: '' }), null, 'nothing played');
  assert.equal(seekTarget({ media: 'video:1', position_ms: NaN }, { canControl: true, media: 'video:1' }), null);
});

test('text is compared as the server stores it', () => {
  assert.equal(cleanChatText('  hi\nthere\t '), 'hi there');
  assert.equal(cleanChatText('<b>x</b>'), '<b>x</b>');
});

test('a list counts as at the bottom when its last line shows', () => {
  assert.equal(isNearBottom({ scrollTop: 400, clientHeight: 100, scrollHeight: 500 }), true);
  assert.equal(isNearBottom({ scrollTop: 390, clientHeight: 100, scrollHeight: 500 }), true);
  assert.equal(isNearBottom({ scrollTop: 200, clientHeight: 100, scrollHeight: 500 }), false);
});

function panel({ connected = true } = {}) {
  const doc = new FakeDocument();
  const el = (tag) => doc.createElement(tag);
  const parts = { list: el('ol'), form: el('form'), input: el('input'), error: el('div') };
  const sent = [];
  const seeks = [];
  const chat = new ChatPanel({
    ...parts,
    send: (type, fields) => { if (connected) sent.push({ type, ...fields }); return connected; },
    onSeek: (ms) => seeks.push(ms),
  });
  chat.setSelf(7);
  const submit = (text) => { parts.input.value = text; return parts.form.dispatch('submit'); };
  return { chat, sent, seeks, submit, ...parts };
}

let nextId = 1;
const message = (fields) => ({ id: nextId++, kind: 'user', user_id: 8, name: 'Bo', text: 'hi', position_ms: 61_000, media: 'video:1', at_ms: 0, ...fields });

test('markup typed by someone shows as its characters', () => {
  const { chat, list } = panel();
  chat.add(message({ name: '<i>Bo</i>', text: '<img src=x onerror=alert(1)>' }));
  const [li] = list.children;
  assert.ok(li.matches('li.chat-message'));
  assert.equal(li.querySelectorAll('span.chat-text')[0].textContent, '<img src=x onerror=alert(1)>');
  assert.equal(li.querySelectorAll('span.chat-name')[0].textContent, '<i>Bo</i>');
  assert.equal(li.querySelectorAll('img').length, 0);
});

test('a message both in the history and live is shown once', () => {
  const { chat, list } = panel();
  chat.history([message({ id: 40, text: 'earlier' }), message({ id: 41, text: 'while joining' })]);
  chat.add(message({ id: 41, text: 'while joining' }));
  chat.add(message({ id: 42, text: 'after' }));
  assert.deepEqual(list.children.map((li) => li.textContent.includes('while joining')), [false, true, false]);
  assert.equal(list.children.length, 3);
});

test('system lines are set apart and carry no time button', () => {
  const { chat, list } = panel();
  chat.add(message({ kind: 'system', user_id: 0, name: '', text: 'Ana paused at 1:01' }));
  const [li] = list.children;
  assert.ok(li.matches('li.chat-system'));
  assert.equal(li.matches('li.chat-message'), false);
  assert.equal(li.querySelectorAll('button.chat-time').length, 0);
});

const system = (text) => message({ kind: 'system', user_id: 0, name: '', text });
const shownLines = (list) => list.children
  .filter((li) => !li.classList.contains('chat-folded'))
  .map((li) => li.querySelectorAll('span.chat-text')[0].textContent);
const foldButton = (list) => list.querySelectorAll('button.chat-fold')[0] ?? null;

test('consecutive system lines fold into the newest, what people write stays apart', () => {
  const { chat, list } = panel();
  chat.add(system('Ana jumped to 0:10'));
  assert.equal(foldButton(list), null, 'a lone line has nothing to fold');
  chat.add(system('Ana jumped to 0:20'));
  chat.add(system('Ana jumped to 0:30'));
  assert.deepEqual(shownLines(list), ['Ana jumped to 0:30']);
  assert.equal(foldButton(list).textContent, 'show 2 more');
  assert.equal(list.querySelectorAll('button.chat-fold').length, 1, 'one button per run');
  chat.add(message({ text: 'stop it' }));
  chat.add(system('Bo paused at 0:31'));
  assert.deepEqual(shownLines(list), ['Ana jumped to 0:30', 'stop it', 'Bo paused at 0:31'], 'a message ends a run');
  assert.equal(list.children.length, 5, 'every line is kept');
});

test('the fold button shows the run and hides it again, and new lines keep it open', () => {
  const { chat, list } = panel();
  for (const t of ['Ana joined', 'Ana played from 0:00', 'Ana paused at 0:05']) chat.add(system(t));
  foldButton(list).click();
  assert.deepEqual(shownLines(list), ['Ana joined', 'Ana played from 0:00', 'Ana paused at 0:05']);
  assert.equal(foldButton(list).getAttribute('aria-expanded'), 'true');
  chat.add(system('Ana played from 0:05'));
  assert.equal(shownLines(list).length, 4, 'an open run stays open');
  foldButton(list).click();
  assert.deepEqual(shownLines(list), ['Ana played from 0:05']);
  assert.equal(foldButton(list).textContent, 'show 3 more');
});

test('the history folds its runs as live lines do', () => {
  const { chat, list } = panel();
  chat.history([system('Ana joined'), system('Bo joined'), message({ text: 'hi' }), system('Ana played from 0:00')]);
  assert.deepEqual(shownLines(list), ['Bo joined', 'hi', 'Ana played from 0:00']);
});

test('clicking a time seeks there when allowed, and does nothing when not', () => {
  const { chat, list, seeks } = panel();
  chat.setSeekContext({ canControl: true, media: 'video:1' });
  chat.add(message({ position_ms: 61_000 }));
  const [button] = list.querySelectorAll('button.chat-time');
  assert.equal(button.textContent, '1:01');
  button.click();
  assert.deepEqual(seeks, [61_000]);
  chat.setSeekContext({ canControl: false, media: 'video:1' });
  assert.equal(button.disabled, true);
  button.click();
  assert.deepEqual(seeks, [61_000]);
});

test('a message is sent as typed and the field is emptied only once it comes back', () => {
  const { chat, sent, submit, input } = panel();
  const ev = submit('  hello  ');
  assert.equal(ev.defaultPrevented, true, 'the form is not posted');
  assert.deepEqual(sent, [{ type: 'chat', text: '  hello  ' }]);
  assert.equal(input.value, '  hello  ');
  chat.add(message({ user_id: 7, text: 'hello' }));
  assert.equal(input.value, '');
});

test('the next message being typed is not wiped when the previous one comes back', () => {
  const { chat, submit, input } = panel();
  submit('first');
  input.value = 'second, half-typ';
  chat.add(message({ user_id: 7, text: 'first' }));
  assert.equal(input.value, 'second, half-typ');
});

test('a refused message keeps its text and says why beside the form', () => {
  const { chat, submit, input, error } = panel();
  submit('one too many');
  assert.equal(chat.refused('chat_rate_limited', 'Wait 4 s, then try again.'), true);
  assert.equal(input.value, 'one too many');
  assert.equal(error.textContent, 'Wait 4 s, then try again.');
  assert.equal(error.classList.contains('d-none'), false);
  assert.equal(chat.refused('forbidden', 'no'), false, 'not a chat error: left to the page');
  submit('one too many');
  assert.equal(error.classList.contains('d-none'), true, 'a new attempt clears the old error');
});

test('while disconnected nothing is lost: the text stays and the form says so', () => {
  const { submit, input, error } = panel({ connected: false });
  submit('hello?');
  assert.equal(input.value, 'hello?');
  assert.match(error.textContent, /Not connected/);
});

test('the list follows new lines when at the bottom, and stays put when scrolled up', () => {
  const { chat, list } = panel();
  chat.history(Array.from({ length: 20 }, (_, i) => message({ id: i })));
  assert.equal(list.scrollTop, list.scrollHeight, 'history opens at the newest line');
  chat.add(message({ id: 21 }));
  assert.equal(list.scrollTop, list.scrollHeight);
  list.scrollTop = 0; // the viewer reads back
  chat.add(message({ id: 22 }));
  assert.equal(list.scrollTop, 0);
  chat.add(message({ id: 23, user_id: 7 }));
  assert.equal(list.scrollTop, list.scrollHeight, 'their own message brings them back down');
});
