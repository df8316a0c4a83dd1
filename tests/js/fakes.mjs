// Test doubles shared by the browser-module tests: a simulated clock with timers, and a
// scriptable WebSocket. No real time passes in any test.

/** A manual clock: timers fire only when the test advances time. */
export class FakeTime {
  constructor(start = 1000) {
    this.t = start;
    this.timers = new Map();
    this.nextId = 1;
    this.now = () => this.t;
    this.setTimeout = (fn, ms = 0) => {
      const id = this.nextId++;
      this.timers.set(id, { fn, at: this.t + Math.max(0, ms) });
      return id;
    };
    this.clearTimeout = (id) => { this.timers.delete(id); };
  }

  /** Moves time forward, firing due timers in order (including ones they schedule). */
  advance(ms) {
    const end = this.t + ms;
    for (;;) {
      let next = null;
      for (const [id, timer] of this.timers) {
        if (timer.at <= end && (next === null || timer.at < next[1].at)) next = [id, timer];
      }
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }

  pending() { return this.timers.size; }
}

/** A WebSocket whose server side the test plays. */
export class FakeSocket {
  static instances = [];

  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.closedByClient = false;
    FakeSocket.instances.push(this);
  }

  static latest() { return FakeSocket.instances.at(-1); }
  static reset() { FakeSocket.instances = []; }

  send(data) { this.sent.push(JSON.parse(data)); }
  close() { this.closedByClient = true; this.readyState = 3; }

  // Server-side actions.
  serverOpen() { this.readyState = 1; this.onopen?.(); }
  serverSend(msg) { this.onmessage?.({ data: JSON.stringify(msg) }); }
  serverClose(code) { this.readyState = 3; this.onclose?.({ code }); }
  sentOfType(type) { return this.sent.filter((m) => m.type === type); }
}
