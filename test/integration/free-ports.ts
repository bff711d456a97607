// Ports for servers that a test starts in child processes (a private Temporal and MinIO, TensorBoard).
// listen(0) hands out ports from the kernel's ephemeral range, which every outgoing connection on the
// machine draws from as well: a port found free and released could be taken by a connection before the
// child bound it, and CI once saw Temporal's UI fail with "address already in use". Ports below that
// range are never given to outgoing connections, so only another listener can take one in between.
import fs from 'node:fs';
import net from 'node:net';

const LOWEST_PORT = 10_000;

/** The first port of the kernel's ephemeral range (Linux's default 32768 where it cannot be read). */
export function ephemeralRangeStart(): number {
  try {
    const first = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(first) && first > LOWEST_PORT) return first;
  } catch { /* not Linux */ }
  return 32_768;
}

/** `count` distinct ports below the ephemeral range, each free on 127.0.0.1 when returned. */
export async function freePorts(count: number): Promise<number[]> {
  const end = ephemeralRangeStart();
  const held: net.Server[] = [];
  try {
    // Each port stays bound until all are found, so one call never returns a port twice.
    for (let tries = 0; held.length < count; tries++) {
      if (tries >= 1000) throw new Error(`no ${count} free ports found in ${LOWEST_PORT}-${end - 1}`);
      const port = LOWEST_PORT + Math.floor(Math.random() * (end - LOWEST_PORT));
      const server = await bind(port);
      if (server) held.push(server);
    }
    return held.map((server) => (server.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

/** `count` consecutive ports below the ephemeral range, each free on 127.0.0.1 when returned (a worker's further processes take the ports after its own). */
export async function freeConsecutivePorts(count: number): Promise<number[]> {
  const end = ephemeralRangeStart();
  for (let tries = 0; tries < 1000; tries++) {
    const first = LOWEST_PORT + Math.floor(Math.random() * (end - LOWEST_PORT - count));
    const ports = Array.from({ length: count }, (_, i) => first + i);
    const held = await Promise.all(ports.map(bind));
    await Promise.all(held.map((server) => server && new Promise((resolve) => server.close(resolve))));
    if (held.every(Boolean)) return ports;
  }
  throw new Error(`no ${count} consecutive free ports found in ${LOWEST_PORT}-${end - 1}`);
}

function bind(port: number): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
