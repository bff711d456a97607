// lib/search/optuna/suggest.py through the search venv's python: Optuna's TPE as a pure function of
// (space, seed, objective, finished, count): same input, same output; bounds kept; and, given a
// history whose good trials sit in one region, suggestions concentrate there (random search's don't).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Params } from '../../lib/grid';
import { SearchSpace, sampleConfig } from '../../lib/search/space';
import { stackDir } from '../../platform/config';

const ROOT = join(__dirname, '..', '..');
const PYTHON = join(stackDir(), 'search-venv', 'bin', 'python');
const SCRIPT = join(ROOT, 'search', 'optuna', 'suggest.py');
const skip = existsSync(PYTHON) ? false : 'no .stack/search-venv (run infra/setup-search.sh to create it)';

const SPACE: SearchSpace = {
  lr: { type: 'loguniform', low: 1e-5, high: 1e-1 },
  dropout: { type: 'uniform', low: 0, high: 0.6 },
  hidden_units: { type: 'int', low: 32, high: 512, step: 32 },
  batch_size: { type: 'choice', values: [16, 32, 64] },
};

interface Finished { params: Params; value: number | null; stoppedAtEpoch?: number; divergedAtEpoch?: number }

function suggest(request: { space: SearchSpace; seed: number; finished: Finished[]; count: number; startupTrials?: number; objective?: { metric: string; direction: string } }): Params[] {
  const input = JSON.stringify({ objective: { metric: 'valAccuracy', direction: 'maximize' }, ...request });
  const run = spawnSync(PYTHON, [SCRIPT], { input, encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.status, 0, `suggest.py failed: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

/** Distance in decades from lr = 1e-3, where the made-up objective peaks. */
const decadesOff = (c: Params) => Math.abs(Math.log10(c.lr as number) + 3);

/** 30 random-search trials scored by closeness of lr to 1e-3, plus one failed trial. */
const HISTORY: Finished[] = [
  ...Array.from({ length: 30 }, (_, i) => ({ params: sampleConfig(SPACE, 11, i), value: 1 - decadesOff(sampleConfig(SPACE, 11, i)) / 4 })),
  { params: sampleConfig(SPACE, 11, 30), value: null },
];

function assertInSpace(configs: Params[]): void {
  for (const c of configs) {
    assert.deepEqual(Object.keys(c).sort(), Object.keys(SPACE).sort());
    assert.ok((c.lr as number) >= 1e-5 && (c.lr as number) <= 1e-1, `lr ${c.lr}`);
    assert.ok((c.dropout as number) >= 0 && (c.dropout as number) <= 0.6, `dropout ${c.dropout}`);
    assert.ok(Number.isInteger(c.hidden_units) && (c.hidden_units as number) % 32 === 0 && (c.hidden_units as number) <= 512, `hidden_units ${c.hidden_units}`);
    assert.ok([16, 32, 64].includes(c.batch_size as number), `batch_size ${c.batch_size}`);
  }
}

describe('suggest.py (Optuna TPE)', { skip }, () => {
  test('same input, same output, in separate processes; another seed, other suggestions', () => {
    const request = { space: SPACE, seed: 5, finished: HISTORY, count: 4 };
    const first = suggest(request);
    assert.equal(first.length, 4);
    assert.deepEqual(suggest(request), first);
    assert.notDeepEqual(suggest({ ...request, seed: 6 }), first);
    // Key order is not content: Temporal's Python JSON converter sorts keys, JSON.stringify does not.
    const reordered = Object.fromEntries(Object.entries(SPACE).reverse());
    assert.deepEqual(suggest({ ...request, space: reordered }), first);
  });

  test('batch after batch, as a sweep asks: no configuration is proposed twice (the start-up trials included)', () => {
    // Each call is a fresh study; seeded with the sweep's seed alone, every batch of the random
    // start-up phase repeated the first batch's draws.
    const finished: Finished[] = [];
    for (let batch = 0; batch < 8; batch++) {
      for (const params of suggest({ space: SPACE, seed: 5, finished, count: 2 })) finished.push({ params, value: 1 - decadesOff(params) / 4 });
    }
    const distinct = new Set(finished.map((f) => JSON.stringify(f.params)));
    assert.equal(distinct.size, finished.length, `${finished.length - distinct.size} of ${finished.length} suggestions repeat an earlier one`);
  });

  test('a space of choices: no configuration is proposed twice while untried ones remain; then repeats stand', () => {
    // 9 configurations. Random draws (the start-up trials) and a converging TPE both repeat here: 8
    // random draws of 9 are all distinct less than 1% of the time.
    const choices: SearchSpace = { hidden_units: { type: 'choice', values: [8, 16, 32] }, batch_size: { type: 'choice', values: [16, 32, 64] } };
    const score = (p: Params) => (p.hidden_units as number) / 32 + (p.batch_size as number) / 640;
    const run = (batches: number) => {
      const finished: Finished[] = [];
      for (let batch = 0; batch < batches; batch++) {
        for (const params of suggest({ space: choices, seed: 9, finished, count: 2, startupTrials: 4 })) finished.push({ params, value: score(params) });
      }
      return finished.map((f) => JSON.stringify(f.params));
    };
    const eight = run(4);
    assert.equal(new Set(eight).size, 8, `repeats among ${eight.join(' ')}`);
    // Budget past the space: all 9 are tried, and the 10th is a repeat rather than a failure.
    const ten = run(5);
    assert.equal(new Set(ten).size, 9);
  });

  test('without history (TPE\'s random start-up trials) suggestions respect bounds, steps and choices', () => {
    const configs = suggest({ space: SPACE, seed: 1, finished: [], count: 12 });
    assertInSpace(configs);
    assert.equal(new Set(configs.map((c) => c.lr)).size, 12);
  });

  test('with a history good near lr = 1e-3, TPE proposes mostly near it; random search does not', () => {
    const configs = suggest({ space: SPACE, seed: 2, finished: HISTORY, count: 10 });
    assertInSpace(configs);
    const near = (cs: Params[]) => cs.filter((c) => decadesOff(c) < 0.5).length;
    const meanOff = (cs: Params[]) => cs.reduce((s, c) => s + decadesOff(c), 0) / cs.length;
    // Random draws land within half a decade of 1e-3 a quarter of the time, about a decade off on average.
    assert.ok(near(configs) >= 6 && meanOff(configs) < 0.6, `TPE: ${near(configs)}/10 near, mean ${meanOff(configs).toFixed(2)} decades off`);
    const random = Array.from({ length: 10 }, (_, i) => sampleConfig(SPACE, 2, 100 + i));
    assert.ok(!(near(random) >= 6 && meanOff(random) < 0.6), 'the same check passes for random search; it would not show TPE learning');
  });

  test('startupTrials: TPE models the results once that many trials have finished, not before', () => {
    // 8 of HISTORY's trials: below Optuna's default 10, TPE still draws at random; with 6 it models them.
    const request = { space: SPACE, seed: 4, finished: HISTORY.slice(0, 8), count: 6 };
    const random = suggest(request);
    assert.deepEqual(suggest({ ...request, startupTrials: 10 }), random, 'absent means Optuna\'s 10');
    const modelled = suggest({ ...request, startupTrials: 6 });
    assertInSpace(modelled);
    assert.notDeepEqual(modelled, random);
    assert.deepEqual(suggest({ ...request, startupTrials: 6 }), modelled);
    // Below both, both draw at random, the same draws: a rerun under another setting reuses those trials.
    const early = { ...request, finished: HISTORY.slice(0, 4) };
    assert.deepEqual(suggest({ ...early, startupTrials: 6 }), suggest(early));
  });

  test('early-stopped trials rank below completed ones, however high their value at the stop', () => {
    // Completed trials near lr = 1e-3 score 0.6; trials stopped at epoch 1 near lr = 1e-5 read 0.99 there.
    const at = (i: number, lr: number) => ({ ...sampleConfig(SPACE, 12, i), lr });
    const finished: Finished[] = Array.from({ length: 12 }, (_, i) => i % 2
      ? { params: at(i, 10 ** (-3.2 + 0.08 * i)), value: 0.6 }
      : { params: at(i, 10 ** (-4.9 + 0.08 * i)), value: 0.99, stoppedAtEpoch: 1 });
    const configs = suggest({ space: SPACE, seed: 3, finished, count: 6 });
    assertInSpace(configs);
    const nearStopped = configs.filter((c) => (c.lr as number) < 10 ** -4).length;
    assert.ok(nearStopped <= 1, `${nearStopped}/6 suggestions went to the stopped trials' region: ${configs.map((c) => c.lr)}`);
    // Read as completed, the same values pull TPE the other way: the check above could fail.
    const asCompleted = suggest({ space: SPACE, seed: 3, finished: finished.map(({ params, value }) => ({ params, value })), count: 6 });
    assert.ok(asCompleted.filter((c) => (c.lr as number) < 10 ** -4).length >= 3);
  });

  test('diverged trials (NaN val loss) count among the worst: TPE turns away from where heads diverge, which it did not when they went in as failed', () => {
    // Loss is lowest at lr = 1e-3; above lr = 0.1 the heads diverge.
    const space: SearchSpace = { lr: { type: 'loguniform', low: 1e-5, high: 10 }, dropout: { type: 'uniform', low: 0, high: 0.6 } };
    const objective = { metric: 'valLoss', direction: 'minimize' };
    let [marked, asFailed] = [0, 0];
    for (const seed of [1, 3, 4]) {
      const finished: Finished[] = Array.from({ length: 16 }, (_, i) => sampleConfig(space, 20 + seed, i)).map((params) => ((params.lr as number) > 0.1
        ? { params, value: null, divergedAtEpoch: 9 }
        : { params, value: decadesOff(params) }));
      const inDivergedRegion = (configs: Params[]) => configs.filter((c) => (c.lr as number) > 0.1).length;
      marked += inDivergedRegion(suggest({ space, seed, objective, finished, count: 10, startupTrials: 6 }));
      asFailed += inDivergedRegion(suggest({ space, seed, objective, finished: finished.map(({ params, value }) => ({ params, value })), count: 10, startupTrials: 6 }));
    }
    assert.ok(marked <= 5 && asFailed >= 2 * marked + 5, `of 30 suggestions, ${marked} in the diverged region (${asFailed} with those trials failed)`);
  });

  test('with early stopping too, a diverged trial ranks below the trials stopped early (it went in at the epoch it got to, above them)', () => {
    const space: SearchSpace = { lr: { type: 'loguniform', low: 1e-5, high: 10 }, dropout: { type: 'uniform', low: 0, high: 0.6 } };
    let inDivergedRegion = 0;
    for (const seed of [1, 3, 4]) {
      // Two trials completed near lr = 1e-3, the others stopped at epoch 1, those above lr = 0.1 diverged at epoch 9.
      const finished: Finished[] = Array.from({ length: 20 }, (_, i) => sampleConfig(space, 40 + seed, i)).map((params, i) => {
        if ((params.lr as number) > 0.1) return { params, value: null, divergedAtEpoch: 9 };
        if (i < 2) return { params: { ...params, lr: 10 ** (-3 + 0.1 * i) }, value: 0.05 };
        return { params, value: decadesOff(params), stoppedAtEpoch: 1 };
      });
      inDivergedRegion += suggest({ space, seed, objective: { metric: 'valLoss', direction: 'minimize' }, finished, count: 10, startupTrials: 6 })
        .filter((c) => (c.lr as number) > 0.1).length;
    }
    // Ranked by the epoch it reached, the diverged trial joined TPE's good group: 13 of 30 went there.
    assert.ok(inDivergedRegion <= 7, `${inDivergedRegion} of 30 suggestions in the diverged region`);
  });

  test('a finished trial missing a hyperparameter is refused by name', () => {
    const { dropout: _dropped, ...params } = HISTORY[0].params;
    const run = spawnSync(PYTHON, [SCRIPT], { input: JSON.stringify({ space: SPACE, seed: 1, finished: [{ params, value: 0.5 }], count: 1 }), encoding: 'utf8' });
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /finished\[0\]: params lack dropout/);
  });
});

describe('suggest_worker.py connects as the TS workers do', { skip }, () => {
  const WORKER = join(ROOT, 'search', 'optuna', 'suggest_worker.py');
  const connectConfig = (env: Record<string, string>) => {
    const run = spawnSync(PYTHON, [WORKER, '--print-connect-config'], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr);
    return JSON.parse(run.stdout) as Record<string, unknown>;
  };

  test('the local defaults; an API key (Temporal Cloud) with TLS; a temporal.toml profile', () => {
    assert.deepEqual(connectConfig({}), { namespace: 'default', target_host: '127.0.0.1:7233' });
    // It connected with address and namespace alone, so on Cloud or an mTLS cluster it never served.
    assert.deepEqual(connectConfig({ TEMPORAL_ADDRESS: 'a.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'ns', TEMPORAL_API_KEY: 'secret' }),
      { api_key: '***', namespace: 'ns', target_host: 'a.tmprl.cloud:7233', tls: true });
    const dir = mkdtempSync(join(tmpdir(), 'suggest-profile-'));
    try {
      writeFileSync(join(dir, 'temporal.toml'), '[profile.prod]\naddress = "prod.example:7233"\nnamespace = "sweeps"\napi_key = "k"\n');
      assert.deepEqual(connectConfig({ TEMPORAL_CONFIG_FILE: join(dir, 'temporal.toml'), TEMPORAL_PROFILE: 'prod' }),
        { api_key: '***', namespace: 'sweeps', target_host: 'prod.example:7233', tls: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('suggest_worker.py heartbeats while TPE runs', { skip }, () => {
  test('the activity heartbeats until the suggestion is ready, and returns what suggest.py does', () => {
    // Temporal's ActivityEnvironment runs the activity as a worker would, recording its heartbeats;
    // the interval is shortened so a suggestion from 30 finished trials spans several.
    const request = { objective: { metric: 'valAccuracy', direction: 'maximize' }, space: SPACE, seed: 5, finished: HISTORY, count: 4 };
    const script = [
      'import json, sys',
      'from temporalio.testing import ActivityEnvironment',
      'import suggest_worker',
      'suggest_worker.HEARTBEAT_EVERY_SECONDS = 0.001',
      'env = ActivityEnvironment()',
      'beats = []',
      'env.on_heartbeat = lambda *details: beats.append(details)',
      'configs = env.run(suggest_worker.suggest_trials, json.load(sys.stdin))',
      'print(json.dumps({"beats": len(beats), "configs": configs}))',
    ].join('\n');
    const run = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(request), cwd: join(ROOT, 'search', 'optuna'), encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr);
    const { beats, configs } = JSON.parse(run.stdout) as { beats: number; configs: Params[] };
    assert.ok(beats >= 2, `${beats} heartbeats`);
    assert.deepEqual(configs, suggest(request));
  });

  test('a request suggest.py refuses still fails as a SpecError (not retried), through the heartbeating thread', () => {
    const script = [
      'from temporalio.exceptions import ApplicationError',
      'from temporalio.testing import ActivityEnvironment',
      'import suggest_worker',
      'try:',
      '    ActivityEnvironment().run(suggest_worker.suggest_trials, {"space": {}})',
      'except ApplicationError as error:',
      '    print(error.type, error.non_retryable)',
    ].join('\n');
    const run = spawnSync(PYTHON, ['-c', script], { cwd: join(ROOT, 'search', 'optuna'), encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'SpecError True');
  });
});
