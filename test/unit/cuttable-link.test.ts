import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { cuttableLink } from '../integration/cuttable-link';

/** A connection through `address`, and what came back on it so far. */
async function connect(address: string): Promise<{ socket: net.Socket; received: () => string }> {
  const [host, port] = address.split(':');
  const socket = net.connect(Number(port), host);
  let text = '';
  socket.on('data', (chunk) => { text += chunk.toString(); });
  await new Promise((resolve) => socket.once('connect', resolve));
  return { socket, received: () => text };
}

test('a cuttable link passes bytes both ways; while cut, bytes and new connections wait, and pass in order once it heals', async () => {
  const echo = net.createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const link = await cuttableLink(`127.0.0.1:${(echo.address() as net.AddressInfo).port}`);
  try {
    const first = await connect(link.address);
    first.socket.write('a');
    await sleep(100);
    assert.equal(first.received(), 'a');

    link.cut();
    first.socket.write('b');
    first.socket.write('c');
    const second = await connect(link.address);
    second.socket.write('x');
    await sleep(200);
    assert.equal(first.received(), 'a', 'nothing passes while cut');
    assert.equal(second.received(), '', 'a connection made while cut reaches nothing');

    link.heal();
    await sleep(200);
    assert.equal(first.received(), 'abc');
    assert.equal(second.received(), 'x');
    first.socket.destroy();
    second.socket.destroy();
  } finally {
    await link.close();
    await new Promise((resolve) => echo.close(resolve));
  }
});

test('a reset drops every open connection with a TCP reset on both sides; a new connection passes at once', async () => {
  const serverErrors: string[] = [];
  const echo = net.createServer((socket) => {
    socket.on('error', (error: NodeJS.ErrnoException) => serverErrors.push(error.code ?? error.message));
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const link = await cuttableLink(`127.0.0.1:${(echo.address() as net.AddressInfo).port}`);
  try {
    const open = await Promise.all([connect(link.address), connect(link.address)]);
    for (const { socket } of open) socket.write('a');
    await sleep(100);
    const clientErrors = open.map(({ socket }) => new Promise<string | undefined>((resolve) => {
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code));
      socket.once('close', () => resolve(undefined));
    }));
    assert.equal(link.reset(), 2);
    assert.deepEqual(await Promise.all(clientErrors), ['ECONNRESET', 'ECONNRESET'], 'each client sees a reset, not an orderly close');
    await sleep(100);
    assert.deepEqual(serverErrors, ['ECONNRESET', 'ECONNRESET'], 'so does the server, for each');
    const next = await connect(link.address);
    next.socket.write('b');
    await sleep(100);
    assert.equal(next.received(), 'b');
    next.socket.destroy();
  } finally {
    await link.close();
    await new Promise((resolve) => echo.close(resolve));
  }
});
