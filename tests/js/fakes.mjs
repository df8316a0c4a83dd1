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

/**
 * Just enough of the DOM for the modules that build lists: elements with classes, data
 * attributes, text, children, events and simple `tag.class` selectors. It parses no markup,
 * so whatever a module shows must have been set as text.
 */
export class FakeElement {
  constructor(tagName, ownerDocument) {
    this.tagName = tagName.toUpperCase();
    this.ownerDocument = ownerDocument;
    this.children = [];
    this.parentElement = null;
    this.dataset = {};
    this.attributes = {};
    this.ownText = '';
    this.listeners = {};
    this.disabled = false;
    this.value = '';
    this.scrollTop = 0;
    this.clientHeight = 100;
    this.lineHeight = 20; // each child adds this much to scrollHeight
    const classes = new Set();
    this.classList = {
      add: (...names) => names.forEach((n) => classes.add(n)),
      remove: (...names) => names.forEach((n) => classes.delete(n)),
      contains: (n) => classes.has(n),
      toggle: (n, on = !classes.has(n)) => { if (on) classes.add(n); else classes.delete(n); return on; },
    };
    Object.defineProperty(this, 'className', {
      get: () => [...classes].join(' '),
      set: (v) => { classes.clear(); String(v).split(/\s+/).filter(Boolean).forEach((n) => classes.add(n)); },
    });
  }

  get textContent() { return this.ownText + this.children.map((c) => c.textContent).join(''); }
  set textContent(v) { this.children = []; this.ownText = String(v); }
  get childElementCount() { return this.children.length; }
  get firstElementChild() { return this.children[0] ?? null; }
  get scrollHeight() { return Math.max(this.clientHeight, this.children.length * this.lineHeight); }

  append(...nodes) { for (const n of nodes) { n.parentElement = this; this.children.push(n); } }
  replaceChildren(...nodes) { this.children = []; this.ownText = ''; this.append(...nodes); }
  remove() {
    const siblings = this.parentElement?.children;
    if (siblings) siblings.splice(siblings.indexOf(this), 1);
    this.parentElement = null;
  }
  setAttribute(name, value) { this.attributes[name] = String(value); }
  getAttribute(name) { return this.attributes[name] ?? null; }

  matches(selector) {
    const [tag, ...classes] = selector.split('.');
    return (!tag || this.tagName === tag.toUpperCase()) && classes.every((c) => this.classList.contains(c));
  }
  closest(selector) {
    for (let el = this; el; el = el.parentElement) if (el.matches(selector)) return el;
    return null;
  }
  querySelectorAll(selector) {
    const found = [];
    const walk = (el) => el.children.forEach((c) => { if (c.matches(selector)) found.push(c); walk(c); });
    walk(this);
    return found;
  }

  addEventListener(type, fn) { (this.listeners[type] ??= []).push(fn); }
  /** Dispatches a bubbling event with `target` this element; returns the event. */
  dispatch(type, fields = {}) {
    const ev = { type, target: this, defaultPrevented: false, preventDefault() { this.defaultPrevented = true; }, ...fields };
    for (let el = this; el; el = el.parentElement) for (const fn of el.listeners[type] ?? []) fn(ev);
    return ev;
  }
  click() { return this.dispatch('click'); }
}

export class FakeDocument {
  constructor() { this.activeElement = null; }
  createElement(tagName) { return new FakeElement(tagName, this); }
}
