// lib/content-id.ts: ids from a canonical JSON rendering; a part rendered once gives the same ids.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RenderedJson, canonicalJson, contentId } from '../../lib/content-id';

test('key order does not matter; undefined fields are left out', () => {
  assert.equal(contentId({ b: 1, a: [2, { d: 'x', c: undefined }] }), contentId({ a: [2, { d: 'x' }], b: 1 }));
  assert.notEqual(contentId({ a: 1 }), contentId({ a: 2 }));
});

test('a part rendered once (RenderedJson) gives the ids the part itself gives: feature set ids stay what they were', () => {
  const samples = Array.from({ length: 1000 }, (_, i) => [`sha-${i % 700}`, i % 3, i % 4]);
  const rendered = new RenderedJson(canonicalJson(samples));
  for (const view of ['eval', { index: 2, augmentation: { enabled: true, rotationDeg: 30 }, seed: 7 }]) {
    const id = (part: unknown) => contentId({ backbone: 'b', image: { size: 224, resize: 256 }, norm: [[0.5], [0.2]], view, samples: part });
    assert.equal(id(rendered), id(samples));
  }
});
