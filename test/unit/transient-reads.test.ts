// Reads whose failure may not happen again are marked TransientError, so the steps that fail at once on
// unknown errors (the export, the report: activities/failures.ts) retry them: an S3 answer whose body is
// cut (the S3 client marks only errors raised before it returns), and a model server's 5xx or cut
// connection. Against a local HTTP server that answers as a failing S3 or model host would.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ingestDataset } from '../../activities/ingest';
import { TransientError } from '../../lib/errors';
import { modelFileReader } from '../../model/model-io';
import { S3ObjectStore } from '../../platform/s3-store';

/** Answers `/cut...` with a 200 whose body stops after 10 of 100 bytes, `/<status>...` with that status. */
const server = http.createServer((request, response) => {
  const path = request.url ?? '';
  if (path.includes('cut')) {
    response.writeHead(200, { 'Content-Length': '100', 'Content-Type': 'application/octet-stream', ETag: '"e"' });
    response.write(Buffer.alloc(10));
    setTimeout(() => response.socket?.destroy(), 50);
    return;
  }
  response.writeHead(Number(/\/(\d{3})/.exec(path)?.[1] ?? 404)).end();
});
let base: string;

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  Object.assign(process.env, { S3_ENDPOINT: base, S3_FORCE_PATH_STYLE: 'true', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' });
});
after(() => { server.close(); server.closeAllConnections(); });

test('an S3 object whose body is cut while it is read fails as a TransientError naming the object', async () => {
  await assert.rejects(new S3ObjectStore().get('bucket', 'cut/result.json'), (error: unknown) =>
    error instanceof TransientError && /reading s3:\/\/bucket\/cut\/result\.json/.test(error.message));
});

test('a model file: a 5xx, 408 or 429 or a cut body is transient; a 404 or 403 is not', async () => {
  for (const name of ['503/model.json', '500/model.json', '429/model.json', '408/model.json', 'cut/model.json']) {
    await assert.rejects(modelFileReader(`${base}/${name}`).read('model.json'), (error: unknown) => error instanceof TransientError, name);
  }
  for (const name of ['404/model.json', '403/model.json']) {
    await assert.rejects(modelFileReader(`${base}/${name}`).read('model.json'), (error: unknown) => !(error instanceof TransientError) && /HTTP 40[34]/.test((error as Error).message), name);
  }
});

test('a model server that cannot be reached is transient', async () => {
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/model.json`;
  closed.close();
  await assert.rejects(modelFileReader(url).read('model.json'), (error: unknown) => error instanceof TransientError);
});

// fetch refuses these before any connection: a retry meets the same refusal, and they were retried for ever.
const unfetchable = (port: string) => [
  [`http://user:secret@127.0.0.1:${port}/model.json`, /Request cannot be constructed from a URL that includes credentials/],
  ['http://127.0.0.1:6000/model.json', /bad port/],
] as const;

test('a model URL fetch refuses (a password in it, a blocked port) is no transient failure: it names the URL\'s problem and the fix', async () => {
  for (const [url, why] of unfetchable(new URL(base).port)) {
    await assert.rejects(modelFileReader(url).read('model.json'), (error: unknown) => {
      assert.ok(!(error instanceof TransientError), `${url}: ${error}`);
      assert.match((error as Error).message, new RegExp(`^GET .*model\\.json cannot start: ${why.source}.*; give an http\\(s\\) URL with no user name or password in it`));
      return true;
    });
  }
});

test('a data.source URL fetch refuses fails the ingestion for good, naming the fix (it was retried every 30 s for ever); a server that cannot be reached is retried', async () => {
  for (const [url, why] of unfetchable(new URL(base).port)) {
    const source = url.replace('model.json', 'flowers.zip');
    await assert.rejects(new MockActivityEnvironment().run(ingestDataset, { source, maxBadFraction: 0 }), (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure && error.nonRetryable && error.type === 'SourceError', `${source}: ${error}`);
      assert.match(error.message, new RegExp(`^downloading data\\.source .*flowers\\.zip cannot start: ${why.source}.*; give an http\\(s\\) URL`));
      return true;
    });
  }
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const source = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/flowers.zip`;
  closed.close();
  await assert.rejects(new MockActivityEnvironment().run(ingestDataset, { source, maxBadFraction: 0 }), (error: unknown) => !(error instanceof ApplicationFailure) && /fetch failed/.test(String(error)));
});
