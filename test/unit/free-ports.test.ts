import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { ephemeralRangeStart, freePorts } from '../integration/free-ports';

test('free ports are distinct, below the ephemeral range (never an outgoing connection\'s) and bindable', async () => {
  const ports = await freePorts(8);
  assert.equal(new Set(ports).size, 8);
  for (const port of ports) {
    assert.ok(port >= 10_000 && port < ephemeralRangeStart(), `port ${port}`);
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', resolve); });
    await new Promise((resolve) => server.close(resolve));
  }
});
