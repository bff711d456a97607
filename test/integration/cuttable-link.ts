// A TCP link to a server that a test can cut and heal, to partition one worker process from the
// Temporal server while it still reaches S3, or from S3 while it still reaches Temporal: a network
// split, where a process stopped (SIGSTOP) or killed is a node hung or lost. While cut nothing passes
// either way: bytes, new connections and closes wait, as packets on a split network wait for TCP to
// send them again once it heals. Reset drops every connection at once with a TCP reset, both ways, as a
// load balancer, a NAT that forgot them or a flapping link does, while new connections pass.
import net from 'node:net';

export interface CuttableLink {
  /** host:port to connect to instead of the server. */
  address: string;
  cut(): void;
  heal(): void;
  /** Resets every connection open through the link (the client and the server each get a TCP RST); returns how many. */
  reset(): number;
  close(): Promise<void>;
}

/** A link to the server at `upstream` (host:port, as TEMPORAL_ADDRESS names it, or S3_ENDPOINT's host). */
export async function cuttableLink(upstream: string): Promise<CuttableLink> {
  const [host, port] = upstream.split(':');
  let cut = false;
  let held: Array<() => void> = [];
  // Each connection through the link, its client's socket and its socket to the server, until both have closed.
  const connections = new Set<[net.Socket, net.Socket]>();
  // Everything that crosses the link, in the order it came, held while cut.
  const pass = (action: () => void) => { if (cut) held.push(action); else action(); };
  const listener = net.createServer((client) => {
    const toServer = new net.Socket();
    const connection: [net.Socket, net.Socket] = [client, toServer];
    connections.add(connection);
    for (const socket of connection) {
      socket.on('error', () => { /* its close follows */ });
      socket.on('close', () => {
        if (connection.every((side) => side.destroyed)) connections.delete(connection);
        pass(() => { client.destroy(); toServer.destroy(); });
      });
    }
    client.on('data', (chunk) => pass(() => toServer.write(chunk)));
    toServer.on('data', (chunk) => pass(() => client.write(chunk)));
    client.on('end', () => pass(() => toServer.end()));
    toServer.on('end', () => pass(() => client.end()));
    // Written before it connects, bytes wait in the socket.
    pass(() => toServer.connect(Number(port), host));
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(0, '127.0.0.1', resolve);
  });
  return {
    address: `127.0.0.1:${(listener.address() as net.AddressInfo).port}`,
    cut: () => { cut = true; },
    heal: () => {
      cut = false;
      const actions = held;
      held = [];
      for (const action of actions) action();
    },
    reset: () => {
      const open = [...connections];
      // A side not yet connected (the link cut as it was made) cannot send a reset: it is destroyed.
      for (const pair of open) for (const socket of pair) if (socket.readyState === 'open') socket.resetAndDestroy(); else socket.destroy();
      return open.length;
    },
    close: async () => {
      for (const pair of connections) for (const socket of pair) socket.destroy();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
}
