// The party's chat: the stored history and live messages, a form to write, and each message's
// video time as a button that seeks there. Consecutive system lines (joins, leaves, control
// actions) fold into their newest, with a button to show the rest, so a burst of seeks does
// not push what people wrote out of sight. Messages come from other people, so every part of
// them is set as text, never as markup. No socket: `send` and `onSeek` are injected.

// The server keeps the last 500 messages; a long evening's live ones are trimmed beyond this.
const MAX_SHOWN_MESSAGES = 1000;
// Within this many pixels of the bottom the list counts as "at the bottom" and follows new lines.
const BOTTOM_SLACK_PX = 24;
/** Refusals of a chat message, shown beside the form; the connection lives on. */
export const CHAT_ERRORS = new Set(['chat_too_long', 'chat_empty', 'chat_rate_limited']);

/** A video position as `m:ss`, or `h:mm:ss` from an hour on (as in the chat's system lines). */
export function formatPosition(ms) {
  const total = Number.isFinite(ms) && ms > 0 ? Math.floor(ms / 1000) : 0;
  const h = Math.floor(total / 3600);
  const m = Math.floor(total / 60) % 60;
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/**
 * Where clicking the message's time seeks to, or null when it cannot: only viewers who may
 * control can seek, and only while the media the message was written during is still playing.
 */
export function seekTarget(message, { canControl, media }) {
  if (!canControl || !media || message?.media !== media) return null;
  const ms = Number(message.position_ms);
  return Number.isFinite(ms) && ms >= 0 ? Math.round(ms) : null;
}

/** The text as the server stores it: trimmed, control characters (newlines too) as spaces. */
export function cleanChatText(text) {
  return String(text ?? '').trim().replace(/\p{Cc}/gu, ' ').trim();
}

/** True when a scrolled list shows its last line (so it should keep following new ones). */
export function isNearBottom({ scrollTop, clientHeight, scrollHeight }, slackPx = BOTTOM_SLACK_PX) {
  return scrollHeight - (scrollTop + clientHeight) <= slackPx;
}

export class ChatPanel {
  /**
   * @param {object} o
   * @param {HTMLOListElement} o.list  @param {HTMLFormElement} o.form
   * @param {HTMLInputElement} o.input  @param {HTMLElement} o.error
   * @param {(type: string, fields: object) => boolean} o.send
   * @param {(positionMs: number) => void} o.onSeek
   */
  constructor({ list, form, input, error, send, onSeek }) {
    Object.assign(this, { list, form, input, error, send, onSeek });
    this.selfId = null;
    this.context = { canControl: false, media: null };
    this.draft = null; // {raw, text} of the message sent and not yet seen back
    this.lastId = 0; // the newest message shown
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.submit();
    });
    list.addEventListener('click', (ev) => {
      const fold = ev.target.closest?.('button.chat-fold');
      if (fold) return this.toggleRun(fold);
      const button = ev.target.closest?.('button.chat-time');
      if (!button || button.disabled) return;
      this.onSeek(Number(button.dataset.positionMs));
    });
  }

  setSelf(userId) { this.selfId = userId; }

  submit() {
    const raw = this.input.value;
    this.showError('');
    this.draft = { raw, text: cleanChatText(raw) };
    // The text stays in the field until the message comes back, so nothing is lost on a refusal.
    if (!this.send('chat', { text: raw })) {
      this.draft = null;
      this.showError('Not connected: your message was not sent.');
    }
  }

  /** The stored history, oldest first (on every welcome: it replaces what was shown). */
  history(messages) {
    this.lastId = messages.reduce((last, m) => Math.max(last, Number(m.id) || 0), 0);
    this.list.replaceChildren(...messages.map((m) => this.entry(m)));
    const lines = Array.from(this.list.children);
    lines.forEach((li, i) => {
      if (isSystemLine(li) && !isSystemLine(lines[i + 1])) this.fold(i);
    });
    this.list.scrollTop = this.list.scrollHeight;
  }

  /** One live message. */
  add(message) {
    // A message written while this viewer joined can come both in the history and live.
    if (Number(message.id) <= this.lastId) return;
    this.lastId = Math.max(this.lastId, Number(message.id) || 0);
    const own = message.kind !== 'system' && String(message.user_id) === String(this.selfId);
    const follow = own || isNearBottom(this.list);
    this.list.append(this.entry(message));
    while (this.list.childElementCount > MAX_SHOWN_MESSAGES) this.list.firstElementChild.remove();
    if (message.kind === 'system') this.fold(this.list.childElementCount - 1);
    if (follow) this.list.scrollTop = this.list.scrollHeight;
    if (own && this.draft && cleanChatText(message.text) === this.draft.text) {
      // Only clear what was sent: the viewer may already be typing the next message.
      if (this.input.value === this.draft.raw) this.input.value = '';
      this.draft = null;
    }
  }

  /** A refused chat message: says why beside the form and keeps the text. True when it was one. */
  refused(code, message) {
    if (!CHAT_ERRORS.has(code)) return false;
    this.draft = null;
    this.showError(message || 'Your message was not sent.');
    return true;
  }

  /** Who may seek and what plays now decide which message times can be clicked. */
  setSeekContext(context) {
    this.context = context;
    for (const button of this.list.querySelectorAll('button.chat-time')) this.updateTime(button);
  }

  showError(text) {
    this.error.textContent = text;
    this.error.classList.toggle('d-none', !text);
    this.input.classList.toggle('is-invalid', Boolean(text));
  }

  entry(message) {
    const doc = this.list.ownerDocument;
    const li = doc.createElement('li');
    li.dataset.messageId = String(message.id);
    const text = doc.createElement('span');
    text.className = 'chat-text';
    text.textContent = String(message.text ?? '');
    if (message.kind === 'system') {
      li.className = 'chat-system';
      li.append(text);
      return li;
    }
    li.className = 'chat-message';
    if (String(message.user_id) === String(this.selfId)) li.classList.add('chat-own');
    const time = doc.createElement('button');
    time.type = 'button';
    time.className = 'chat-time';
    time.textContent = formatPosition(message.position_ms);
    time.dataset.positionMs = String(message.position_ms);
    time.dataset.media = String(message.media ?? '');
    this.updateTime(time);
    const name = doc.createElement('span');
    name.className = 'chat-name';
    name.textContent = String(message.name ?? '');
    li.append(time, name, text);
    return li;
  }

  /**
   * Folds the run of system lines that ends at index `end` into its newest line: the older
   * ones are hidden behind a button on it. A run that was unfolded stays unfolded.
   */
  fold(end) {
    const lines = Array.from(this.list.children);
    let start = end;
    while (start > 0 && isSystemLine(lines[start - 1])) start -= 1;
    const older = lines.slice(start, end);
    const previous = older.at(-1)?.querySelectorAll('button.chat-fold')[0];
    const open = previous?.getAttribute('aria-expanded') === 'true';
    for (const li of older) {
      for (const button of li.querySelectorAll('button.chat-fold')) button.remove();
      li.classList.toggle('chat-folded', !open);
    }
    if (older.length === 0) return;
    const button = this.list.ownerDocument.createElement('button');
    button.type = 'button';
    button.className = 'chat-fold';
    button.dataset.folded = String(older.length);
    lines[end].append(button);
    showFold(button, open);
  }

  /** The fold button of a run was clicked: shows or hides the run's older lines. */
  toggleRun(button) {
    const lines = Array.from(this.list.children);
    const end = lines.indexOf(button.closest('li'));
    const open = button.getAttribute('aria-expanded') !== 'true';
    for (let i = end - 1; i >= 0 && isSystemLine(lines[i]); i--) lines[i].classList.toggle('chat-folded', !open);
    showFold(button, open);
  }

  updateTime(button) {
    const target = seekTarget({ media: button.dataset.media, position_ms: Number(button.dataset.positionMs) }, this.context);
    button.disabled = target === null;
    if (target !== null) button.title = `Jump to ${button.textContent}`;
    else if (!this.context.canControl) button.title = 'Written at this time; only those who control playback can jump there';
    else button.title = 'Written during another video';
  }
}

function isSystemLine(li) {
  return Boolean(li?.classList.contains('chat-system'));
}

function showFold(button, open) {
  button.setAttribute('aria-expanded', String(open));
  button.textContent = open ? 'show fewer' : `show ${button.dataset.folded} more`;
}
