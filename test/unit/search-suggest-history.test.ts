// lib/search/suggest-history.ts: the bytes a bayesian sweep's suggestion requests put in its history,
// estimated before it starts, against the requests the sweep would send (lib/search/bayesian.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FinishedTrial, suggestRequest } from '../../lib/search/bayesian';
import { SearchSpec } from '../../lib/search/search-spec';
import { SearchSpace } from '../../lib/search/space';
import { suggestHistory, suggestHistoryProblem } from '../../lib/search/suggest-history';
import { DEFAULT_TRIALS_PER_RUN } from '../../lib/workflow-limits';
import { randomStream } from '../../lib/random';

const SPACE: SearchSpace = {
  lr: { type: 'loguniform', low: 1e-4, high: 1e-1 },
  hidden_units: { type: 'int', low: 16, high: 256, step: 16 },
  dropout: { type: 'uniform', low: 0, high: 0.7 },
  batch_size: { type: 'choice', values: [32] },
};

/** The bytes of the last run's requests as the sweep would send them, finished trials drawn as TPE's suggestions are. */
function lastRunRequestBytes(budget: number, concurrency: number): number {
  const random = randomStream(1, 'suggest-history');
  const finished: FinishedTrial[] = Array.from({ length: budget }, () => ({
    params: { lr: 10 ** (-4 + 3 * random()), hidden_units: 16 * (1 + Math.floor(16 * random())), dropout: 0.7 * random(), batch_size: 32 },
    value: random(),
  }));
  const search: SearchSpec = { method: 'bayesian', budget, space: SPACE, objective: { metric: 'valAccuracy', direction: 'maximize' }, keepBestEpoch: true };
  let bytes = 0;
  for (let done = budget - DEFAULT_TRIALS_PER_RUN; done < budget; done += concurrency) bytes += JSON.stringify(suggestRequest(search, 1, finished.slice(0, done), concurrency).finished).length;
  return bytes;
}

test('the estimate bounds the requests the sweep would send, within half again', () => {
  for (const [budget, concurrency] of [[1000, 1], [600, 4]]) {
    const estimate = suggestHistory(SPACE, budget, concurrency).runBytes;
    const sent = lastRunRequestBytes(budget, concurrency);
    assert.ok(estimate >= sent && estimate < 1.5 * sent, `${budget} at ${concurrency}: estimated ${estimate}, sent ${sent}`);
  }
});

test('past the run\'s budget the search is refused with the concurrency that fits; 1,000 trials one at a time fit', () => {
  assert.equal(suggestHistoryProblem(SPACE, 1000, 1), undefined);
  assert.match(suggestHistoryProblem(SPACE, 2000, 1)!, /^search\.budget: a bayesian search of 2000 trials at concurrency 1 would put about 34 MB of suggestion requests in the last run of the sweep's workflow history, more than the 25 MB allowed there .*: use a concurrency of at least 2 \(fewer, larger batches\)$/);
  assert.equal(suggestHistoryProblem(SPACE, 2000, 2), undefined);
  // With the median rule, its decisions share the run's budget: each fits alone, not together.
  assert.match(suggestHistoryProblem(SPACE, 1000, 1, { runBytes: 10 * 2 ** 20, carryBytes: 0 })!, /of suggestion requests beside the median rule's decisions in the last run .*: use a concurrency of at least 2/);
  // 20,000 trials: the last request alone passes the payload's budget, whatever the concurrency.
  assert.match(suggestHistoryProblem(SPACE, 20_000, 50)!, /would put about 3\.5 MB in its last request \(one payload\), more than the 1\.5 MB allowed \(.*: use a smaller budget$/);
});
