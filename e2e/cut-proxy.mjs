// A TCP relay in front of the server whose line can be cut the way a dropped network cuts it:
// nothing is closed and nothing arrives any more, in either direction. Connections made while
// the line is cut are accepted and then hear nothing. A page loaded through the relay talks
// to the server only through it (its WebSocket follows the page's origin). No test runs here.

import net from 'node:net';

/** Starts a relay on a free port of 127.0.0.1 to `targetPort`; resolves with its controls. */
export async function startCutProxy(targetPort) {
  let cut = false;
  const sockets = new Set();
  const keep = (socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  };
  const server = net.createServer((client) => {
    keep(client);
    if (cut) return; // accepted, and never answered
    const upstream = net.connect(targetPort, '127.0.0.1');
    keep(upstream);
    // While the line is cut, bytes are lost and ends go unnoticed, as on a dead network.
    const relay = (from, to) => {
      from.on('data', (chunk) => { if (!cut) to.write(chunk); });
      from.on('end', () => { if (!cut) to.end(); });
      from.on('close', () => { if (!cut) to.destroy(); });
    };
    relay(client, upstream);
    relay(upstream, client);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: server.address().port,
    /** Cuts the line: from now on nothing passes, and nothing is closed. */
    cut: () => { cut = true; },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
