// A minimal WebSocket client (RFC 6455) for the sync harness: text frames only, which is
// all the party protocol uses. Node 20 has no global WebSocket, and the harness needs no
// more than this, so no package is added for it.

import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * Opens `url` (ws://host:port/path). Resolves with an emitter of 'message' (text),
 * 'close' (code) and 'error', with `send(text)` and `close()`; `headers` are added to the
 * upgrade request (an Origin, say).
 */
export function connectWebSocket(url, { headers = {}, timeoutMs = 10_000 } = {}) {
  const target = new URL(url);
  const key = randomBytes(16).toString('base64');
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: target.hostname,
      port: target.port,
      path: target.pathname + target.search,
      agent: false,
      timeout: timeoutMs,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': key,
        ...headers,
      },
    });
    req.on('timeout', () => req.destroy(new Error(`no WebSocket upgrade from ${url} in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.on('response', (res) => {
      res.resume();
      reject(new Error(`WebSocket upgrade of ${url} answered HTTP ${res.statusCode}`));
    });
    req.on('upgrade', (res, socket, head) => {
      const accept = createHash('sha1').update(key + GUID).digest('base64');
      if (res.headers['sec-websocket-accept'] !== accept) {
        socket.destroy();
        reject(new Error('bad Sec-WebSocket-Accept'));
        return;
      }
      socket.setNoDelay(true);
      resolve(new Connection(socket, head));
    });
    req.end();
  });
}

class Connection extends EventEmitter {
  constructor(socket, head) {
    super();
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    this.fragments = [];
    this.closed = false;
    socket.on('data', (d) => this.receive(d));
    socket.on('close', () => this.finish(1006));
    socket.on('error', (err) => this.emit('error', err));
    if (head && head.length) this.receive(head);
  }

  send(text) {
    if (this.closed) return false;
    this.socket.write(frame(0x1, Buffer.from(text, 'utf8')));
    return true;
  }

  close(code = 1000) {
    if (this.closed) return;
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(code);
    this.socket.write(frame(0x8, payload));
    this.socket.end();
    this.finish(code);
  }

  finish(code) {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.emit('close', code);
  }

  receive(data) {
    this.buffer = Buffer.concat([this.buffer, data]);
    for (;;) {
      const parsed = parseFrame(this.buffer);
      if (!parsed) return;
      this.buffer = this.buffer.subarray(parsed.length);
      const { fin, opcode, payload } = parsed;
      if (opcode === 0x8) {
        this.finish(payload.length >= 2 ? payload.readUInt16BE(0) : 1005);
        return;
      }
      if (opcode === 0x9) {
        if (!this.closed) this.socket.write(frame(0xA, payload));
        continue;
      }
      if (opcode === 0xA) continue;
      if (opcode === 0x1 || opcode === 0x2 || opcode === 0x0) {
        this.fragments.push(payload);
        if (fin) {
          const text = Buffer.concat(this.fragments).toString('utf8');
          this.fragments = [];
          this.emit('message', text);
        }
      }
    }
  }
}

/** A masked client frame. */
function frame(opcode, payload) {
  const mask = randomBytes(4);
  const len = payload.length;
  let header;
  if (len < 126) {
    header = Buffer.from([0x80 | opcode, 0x80 | len]);
  } else if (len < 65536) {
    header = Buffer.alloc(4);
    header[0] = 0x80 | opcode;
    header[1] = 0x80 | 126;
    header.writeUInt16BE(len, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x80 | opcode;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = payload[i] ^ mask[i & 3];
  return Buffer.concat([header, mask, masked]);
}

/** One server frame from the front of `buf`, or null when it is not complete yet. */
function parseFrame(buf) {
  if (buf.length < 2) return null;
  const fin = (buf[0] & 0x80) !== 0;
  const opcode = buf[0] & 0x0f;
  const masked = (buf[1] & 0x80) !== 0;
  let len = buf[1] & 0x7f;
  let offset = 2;
  if (len === 126) {
    if (buf.length < 4) return null;
    len = buf.readUInt16BE(2);
    offset = 4;
  } else if (len === 127) {
    if (buf.length < 10) return null;
    len = Number(buf.readBigUInt64BE(2));
    offset = 10;
  }
  let mask = null;
  if (masked) {
    if (buf.length < offset + 4) return null;
    mask = buf.subarray(offset, offset + 4);
    offset += 4;
  }
  if (buf.length < offset + len) return null;
  let payload = buf.subarray(offset, offset + len);
  if (mask) payload = Buffer.from(payload.map((b, i) => b ^ mask[i & 3]));
  return { fin, opcode, payload, length: offset + len };
}
