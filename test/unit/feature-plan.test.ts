import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backboneMismatch, featureShardRequests } from '../../lib/feature-plan';
import { parseSweepSpec } from '../../lib/sweep-spec';
import { FeatureShardResult } from '../../lib/sweep-types';

const spec = (backbone: Record<string, unknown>) => parseSweepSpec({ data: { source: './flowers', classes: ['daisy', 'rose'] }, backbone, grid: { hidden_units: [8] }, augmentation: { enabled: false } });
const split = { splitId: 's', splitKey: 'splits/s.json', classes: ['daisy', 'rose'], counts: { train: 300, val: 40, test: 40 } };
const answer = (backboneId?: string, node?: string): FeatureShardResult => ({ featureSetIds: ['f'], rows: 1, dim: 4, computed: true, ...(backboneId ? { backboneId } : {}), ...(node ? { node } : {}) });

test('shards computed with one backbone, or by workers that name none, agree', () => {
  const requests = featureShardRequests(spec({ uri: 'file:///m/model.json' }), split);
  assert.equal(requests.length, 4, 'train 2 shards, val 1, test 1');
  assert.equal(backboneMismatch(requests, requests.map(() => answer('a'.repeat(64), 'gpu-1'))), undefined);
  assert.equal(backboneMismatch(requests, requests.map(() => answer())), undefined, 'workers before the check name no backbone');
  assert.equal(backboneMismatch(requests, [answer('a'.repeat(64)), answer(), answer(), answer('a'.repeat(64))]), undefined);
});

test('shards computed with two copies of the backbone are refused, naming each copy with its nodes and shards, and the fix', () => {
  const requests = featureShardRequests(spec({ uri: 'file:///m/model.json' }), split);
  const results = [answer('a'.repeat(64), 'gpu-1'), answer('b'.repeat(64), 'gpu-2'), answer('a'.repeat(64), 'gpu-3'), answer('b'.repeat(64))];
  const message = backboneMismatch(requests, results);
  assert.match(message!, /with 2 different copies of backbone file:\/\/\/m\/model\.json/);
  assert.match(message!, /aaaaaaaaaaaa on gpu-1, gpu-3 \(train shard 0, val shard 0\); bbbbbbbbbbbb on gpu-2 \(train shard 1, test shard 0\)/);
  assert.match(message!, /put the same model at file:\/\/\/m\/model\.json on each/);
  // A catalogue backbone's fix is its fetch command.
  const named = featureShardRequests(spec({ name: 'efficientnet-lite0' }), split);
  assert.match(backboneMismatch(named, results)!, /backbone efficientnet-lite0 .*run `bash backbones\/fetch-efficientnet-lite0\.sh` on each/);
});
