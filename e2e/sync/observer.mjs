// The harness's own connection to the party, straight to the server on loopback (never
// through a delaying proxy): it records every state the server sends, stamped with the
// machine clock when it arrived, and ping/pong samples from which server time is mapped onto
// the machine clock afterwards (analysis.mjs, clockModel). It joins as one more guest
// viewer, never sends a command and never reports buffering, so it changes nothing.

import { connectWebSocket } from './ws.mjs';

export const machineNow = () => performance.timeOrigin + performance.now();

const FAST_PINGS = 20;
const FAST_PING_MS = 100;
const SLOW_PING_MS = 400;

/** Connects to `wsUrl` (ws://127.0.0.1:PORT/ws/watch/KEY) and starts recording. */
export async function observeParty(wsUrl) {
  const origin = new URL(wsUrl.replace(/^ws/, 'http')).origin;
  const ws = await connectWebSocket(wsUrl, { headers: { Origin: origin } });
  const rec = {
    states: [], // {at, state} in order of arrival; `at` is machine time
    pongs: [], // {t0, t1, serverMs}
    welcome: null,
    errors: [],
    closed: null,
  };
  const sent = new Map();
  let nextId = 1;
  let heldSeq = -Infinity;
  let timer = null;
  let stopped = false;
  let welcomed;
  const welcome = new Promise((resolve) => { welcomed = resolve; });

  const ping = () => {
    if (stopped) return;
    const id = nextId++;
    sent.set(id, machineNow());
    ws.send(JSON.stringify({ type: 'ping', id }));
    timer = setTimeout(ping, id < FAST_PINGS ? FAST_PING_MS : SLOW_PING_MS);
  };

  ws.on('message', (text) => {
    const at = machineNow();
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (msg.type === 'pong') {
      const t0 = sent.get(msg.id);
      if (t0 !== undefined) {
        sent.delete(msg.id);
        rec.pongs.push({ t0, t1: at, serverMs: msg.server_ms });
      }
    } else if (msg.type === 'welcome') {
      rec.welcome = { at, server_ms: msg.server_ms, you: msg.you };
      heldSeq = msg.state.seq;
      rec.states.push({ at, state: msg.state });
      welcomed();
      ping();
    } else if (msg.type === 'state') {
      if (msg.state.seq > heldSeq) {
        heldSeq = msg.state.seq;
        rec.states.push({ at, state: msg.state });
      }
    } else if (msg.type === 'error') {
      rec.errors.push({ at, code: msg.code, message: msg.message });
    }
  });
  ws.on('close', (code) => {
    rec.closed = { at: machineNow(), code };
    clearTimeout(timer);
  });
  ws.on('error', (err) => rec.errors.push({ at: machineNow(), code: 'socket', message: err.message }));
  ws.send(JSON.stringify({ type: 'hello', protocol: 1 }));

  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('no welcome from the party within 10 s')), 10_000).unref());
  await Promise.race([welcome, timeout]);

  return {
    rec,
    /** The latest state received, or null. */
    latest: () => rec.states.at(-1) ?? null,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
      ws.close();
    },
  };
}
