// The party's WebSocket client: says hello, keeps the clock samples coming, hands server
// messages to the page, and reconnects with back-off when the connection drops. It knows
// the protocol (docs/protocol.md), not the player.

export const PROTOCOL_VERSION = 1;

/** Close codes after which reconnecting cannot help; the text is used when the server sent none. */
export const FINAL_CLOSE_CODES = Object.freeze({
  4001: 'This invite link no longer works: the owner replaced it. Ask for the new link.',
  4002: 'This page is out of date. Reload it to rejoin the party.',
  4004: 'This party is not available: the link is invalid or the video was deleted.',
});

const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 10_000;
/**
 * A ping unanswered this long means the connection is dead even if the socket has not noticed
 * (a dropped network closes nothing): the page says it is reconnecting and connects afresh.
 * Pings go out every second, so a dead socket is found within about this long.
 */
export const PONG_TIMEOUT_MS = 3_000;
/** Messages that change playback: each carries a `cmd_id`, and is sent again after a reconnect
 * until the server says it is `done` (it applies one id once). */
export const COMMAND_TYPES = Object.freeze(new Set(['play', 'pause', 'seek', 'rate', 'skip', 'jump']));
/** A command not answered within this long is not sent again: the party has moved on. */
export const RETRY_WITHIN_MS = 10_000;
/** Commands waiting for `done`, at most (the oldest are forgotten first). */
const MAX_PENDING = 16;

/**
 * Delay before reconnect attempt number `attempt` (0-based): 0.5 s doubling up to 10 s,
 * drawn from the upper half of that so a crowd dropped at once does not return at once.
 */
export function backoffDelay(attempt, random = Math.random) {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt);
  return ceiling / 2 + random() * (ceiling / 2);
}

/** The WebSocket URL for a path on the page's own origin (http → ws, https → wss). */
export function socketUrl(origin, path) {
  return origin.replace(/^http/, 'ws') + path;
}

export class PartyConnection {
  /**
   * @param {object} o
   * @param {string} o.url WebSocket URL
   * @param {import('./clock.js').ClockSync} o.clock receives the ping samples
   * @param {object} o.handlers onStatus(status, info), onWelcome(msg), onState(state),
   *   onViewers(list), onVideo(video), onPlaylist(playlist), onPermissions(permissions),
   *   onChat(message), onError(err), onStore(available), onStopped({code, reason, message})
   */
  constructor({ url, clock, handlers = {}, WebSocketImpl = globalThis.WebSocket,
    timers = globalThis, random = Math.random }) {
    Object.assign(this, { url, clock, handlers, WebSocketImpl, timers, random });
    this.status = 'idle'; // idle → connecting → connected ⇄ reconnecting; stopped is final
    this.ws = null;
    this.welcomed = false;
    this.attempt = 0;
    this.heldSeq = -Infinity;
    this.pings = new Map(); // ping id → local send time
    this.nextPingId = 1;
    this.pingTimer = null;
    this.deadTimer = null; // fires when the oldest unanswered ping has waited PONG_TIMEOUT_MS
    this.retryTimer = null;
    this.closedNotice = null; // the `closed` message that precedes a deliberate close
    this.pending = new Map(); // cmd_id → { message, sentAt } of commands not yet `done`
    this.commandPrefix = Math.floor(random() * 2 ** 40).toString(36);
    this.nextCommand = 1;
  }

  start() {
    if (this.status === 'idle') this.open();
  }

  /**
   * Sends a message; false when the connection is not ready for it (nothing is queued). A
   * command is given a `cmd_id` and kept until the server says it is done, so one sent just
   * before the connection dropped is sent again after the reconnect (applied once).
   */
  send(type, fields = {}) {
    if (!this.welcomed || this.ws?.readyState !== 1) return false;
    const message = { type, ...fields };
    if (COMMAND_TYPES.has(type)) {
      message.cmd_id = `${this.commandPrefix}-${this.nextCommand++}`;
      this.pending.set(message.cmd_id, { message, sentAt: this.clock.now() });
      if (this.pending.size > MAX_PENDING) this.pending.delete(this.pending.keys().next().value);
    }
    this.ws.send(JSON.stringify(message));
    return true;
  }

  /** After a reconnect: sends again the recent commands the server has not said are done. */
  resend() {
    const now = this.clock.now();
    for (const [id, { message, sentAt }] of this.pending) {
      if (now - sentAt > RETRY_WITHIN_MS) this.pending.delete(id);
      else this.ws.send(JSON.stringify(message));
    }
  }

  /**
   * Connects afresh to `url`, whatever the connection's state: the party moved there (its
   * owner made a new invite link, and the old address closed this connection for good).
   */
  moveTo(url) {
    this.teardown();
    this.url = url;
    this.attempt = 0;
    this.open();
  }

  /** Closes for good (the page is going away). */
  stop() {
    this.setStatus('stopped');
    this.teardown();
  }

  open() {
    this.setStatus(this.status === 'idle' ? 'connecting' : 'reconnecting');
    const ws = new this.WebSocketImpl(this.url);
    this.ws = ws;
    this.welcomed = false;
    this.closedNotice = null;
    ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION }));
    ws.onmessage = (ev) => this.receive(ev.data);
    ws.onclose = (ev) => this.closedBy(ev.code);
  }

  receive(data) {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return; // the server only sends JSON; a garbled frame is not worth dropping the party for
    }
    const h = this.handlers;
    switch (msg?.type) {
      case 'welcome':
        this.welcomed = true;
        this.attempt = 0;
        // welcome is a full resync: its state replaces whatever was held, even an older seq
        this.heldSeq = msg.state?.seq ?? -Infinity;
        if (!this.clock.measured()) this.clock.recordOneWay(msg.server_ms);
        this.clock.restartFast();
        this.setStatus('connected');
        h.onWelcome?.(msg);
        this.resend();
        this.ping();
        break;
      case 'state':
        if (!(msg.state?.seq > this.heldSeq)) return; // stale or repeated: already applied
        this.heldSeq = msg.state.seq;
        h.onState?.(msg.state);
        // a control action's system line travels with the state it made
        if (msg.chat) h.onChat?.(msg.chat);
        break;
      case 'pong': {
        const sentAt = this.pings.get(msg.id);
        if (sentAt === undefined) return; // from an earlier connection
        this.pings.delete(msg.id);
        this.clock.record(sentAt, msg.server_ms, this.clock.now());
        this.watchPings();
        break;
      }
      case 'viewers': h.onViewers?.(msg.viewers ?? []); break;
      case 'video': h.onVideo?.(msg.video); break;
      case 'playlist': h.onPlaylist?.(msg.playlist); break;
      case 'permissions': h.onPermissions?.(msg.permissions); break;
      case 'chat': h.onChat?.(msg.message); break;
      case 'error': h.onError?.({ code: msg.code, message: msg.message }); break;
      case 'done': this.pending.delete(msg.cmd_id); break;
      case 'store': h.onStore?.(msg.available === true); break;
      case 'closed': this.closedNotice = { reason: msg.reason, message: msg.message }; break;
      default: break; // newer servers may add messages; ignoring them keeps old pages working
    }
  }

  ping() {
    this.timers.clearTimeout(this.pingTimer);
    const now = this.clock.now();
    for (const sentAt of this.pings.values()) {
      if (now - sentAt > PONG_TIMEOUT_MS) return this.closedBy(null);
    }
    const id = this.nextPingId++;
    if (this.send('ping', { id })) this.pings.set(id, now);
    if (this.deadTimer === null) this.watchPings();
    this.pingTimer = this.timers.setTimeout(() => this.ping(), this.clock.nextPingDelay());
  }

  /** Times the oldest unanswered ping: the connection is dead when it outlives PONG_TIMEOUT_MS. */
  watchPings() {
    this.timers.clearTimeout(this.deadTimer);
    this.deadTimer = null;
    const oldest = this.pings.values().next();
    if (oldest.done) return;
    const dueMs = Math.max(0, oldest.value + PONG_TIMEOUT_MS - this.clock.now());
    this.deadTimer = this.timers.setTimeout(() => this.closedBy(null), dueMs);
  }

  /** The socket closed (code from the server) or was found dead (code null). */
  closedBy(code) {
    const notice = this.closedNotice;
    this.teardown();
    if (this.status === 'stopped') return;
    if (code in FINAL_CLOSE_CODES) {
      this.setStatus('stopped');
      const message = notice?.message || FINAL_CLOSE_CODES[code];
      this.handlers.onStopped?.({ code, reason: notice?.reason ?? null, message });
      return;
    }
    const delayMs = backoffDelay(this.attempt++, this.random);
    this.setStatus('reconnecting', { delayMs, notice });
    this.retryTimer = this.timers.setTimeout(() => this.open(), delayMs);
  }

  teardown() {
    this.timers.clearTimeout(this.pingTimer);
    this.timers.clearTimeout(this.deadTimer);
    this.deadTimer = null;
    this.timers.clearTimeout(this.retryTimer);
    this.pings.clear();
    this.welcomed = false;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      if (ws.readyState < 2) ws.close();
    }
  }

  setStatus(status, info = {}) {
    this.status = status;
    this.handlers.onStatus?.(status, info);
  }
}
