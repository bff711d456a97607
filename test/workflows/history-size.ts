// Measures what a sweep costs in workflow history: runs a random search of N trials (default 200)
// with the fake activities on a local dev server and prints, for each run of the sweep (it continues
// as new every `trialsPerRun` trials, lib/sweep-continuation.ts), its history as events and bytes
// (protobuf-encoded, as Temporal stores and limits them) and its largest event, plus one trial's
// history and the wall time. `trialsPerRun` 0: every trial in one run (as before continue-as-new);
// `asha`: with ASHA early stopping (4 epochs, rungs at 1 and 2); `median:E[:k]`: with the median rule, E
// epochs per trial, a decision after every epoch (every k epochs); `delayMs`: each trainTrial sleeps 0 to
// delayMs (by run), so trials differ in length as real ones do and draining each run before the next
// has a cost. Not a test (minutes on a slow machine):
//   bash infra/node.sh --import tsx test/workflows/history-size.ts [trials] [concurrency] [trialsPerRun] [asha|median:E[:k]|-] [delayMs]
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { stackDir } from '../../platform/config';
import { MemoryObjectStore } from '../../platform/memory-store';
import { setObjectStore } from '../../platform/storage';
import { SEARCH_ATTRIBUTES, sweepWorkflow } from '../../workflows';
import { CLASSES, fakeActivities } from './fake-activities';

async function main(): Promise<void> {
  const trials = Number(process.argv[2] ?? 200);
  const concurrency = Number(process.argv[3] ?? 8);
  const trialsPerRun = Number(process.argv[4] ?? 100) || Number.MAX_SAFE_INTEGER;
  const asha = process.argv[5] === 'asha';
  const [medianEpochs, intervalEpochs] = process.argv[5]?.startsWith('median:') ? process.argv[5].split(':').slice(1).map(Number) : [];
  const delayMs = Number(process.argv[6] ?? 0);
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  setObjectStore(new MemoryObjectStore());
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: path.join(stackDir(), 'bin', 'temporal') }, searchAttributes: Object.values(SEARCH_ATTRIBUTES) },
  });
  try {
    const base = fakeActivities();
    const delay = (run: number) => ((run * 7919) % 101) / 100 * delayMs;
    const fakes = delayMs ? fakeActivities({ trainTrial: async (input) => {
      await sleep(delay(input.trial.run));
      return base.gpu.trainTrial(input);
    } }) : base;
    const queues = { cpu: 'history-cpu', gpu: 'history-gpu' };
    const spec = {
      name: 'history-size', data: { source: './nowhere', classes: CLASSES }, backbone: { uri: 'file:///models/fake/model.json' },
      augmentation: { enabled: false }, concurrency, maxTrials: 100_000, taskQueues: queues,
      search: {
        // With ASHA, earlyStopping.maxEpochs is every trial's epoch budget.
        method: 'random', budget: trials, space: { lr: { type: 'loguniform', low: 1e-4, high: 1e-2 }, ...(asha ? {} : { n_epochs: { type: 'choice', values: [medianEpochs ?? 1] } }) },
        ...(asha ? { earlyStopping: { rule: 'asha', gracePeriod: 1, reductionFactor: 2, maxEpochs: 4 } } : {}),
        ...(medianEpochs ? { earlyStopping: { rule: 'median', ...(intervalEpochs ? { intervalEpochs } : {}) } } : {}),
      },
    };
    const cpu = await Worker.create({ connection: env.nativeConnection, taskQueue: queues.cpu, workflowsPath: require.resolve('../../workflows'), activities: fakes.cpu });
    const gpu = await Worker.create({ connection: env.nativeConnection, taskQueue: queues.gpu, activities: fakes.gpu });
    const started = Date.now();
    const sweepId = `history-size-${trials}`;
    const handle = await env.client.workflow.start(sweepWorkflow, { taskQueue: queues.cpu, workflowId: sweepId, args: [spec, { trialsPerRun }] });
    const board = await cpu.runUntil(gpu.runUntil(handle.result()));
    const seconds = (Date.now() - started) / 1000;
    const size = async (workflowId: string, runId?: string) => {
      const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
      const events = history.events ?? [];
      const eventBytes = events.map((e) => temporal.api.history.v1.HistoryEvent.encode(e).finish().length);
      const largest = eventBytes.indexOf(Math.max(...eventBytes));
      return {
        events: eventBytes.length,
        bytes: temporal.api.history.v1.History.encode(history).finish().length,
        // Temporal refuses a payload over 2 MB: the event carrying the biggest one shows how close a sweep gets.
        largestEvent: { bytes: eventBytes[largest], type: temporal.api.enums.v1.EventType[events[largest].eventType!] },
        // A later run's first event carries what the run before handed over (its input).
        startedEventBytes: eventBytes[0],
        next: events[events.length - 1].workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined,
      };
    };
    const runs: Array<Omit<Awaited<ReturnType<typeof size>>, 'next'>> = [];
    for (let runId: string | undefined = handle.firstExecutionRunId; runId;) {
      const { next, ...run } = await size(sweepId, runId);
      runs.push(run);
      runId = next;
    }
    const max = (pick: (run: (typeof runs)[number]) => number) => Math.max(...runs.map(pick));
    const { next: _, ...trial } = await size(`${sweepId}.trial-001`);
    console.log(JSON.stringify({
      trials, concurrency, trialsPerRun: trialsPerRun === Number.MAX_SAFE_INTEGER ? 'all' : trialsPerRun, asha, ...(medianEpochs ? { medianEpochs, intervalEpochs } : {}), seconds,
      ...(delayMs ? { delayMs, trainingSecondsPerSlot: Array.from({ length: trials }, (_, i) => delay(i + 1)).reduce((a, b) => a + b, 0) / concurrency / 1000 } : {}),
      ranked: board.ranked.length, truncated: board.truncated, stopped: board.ranked.filter((t) => t.status === 'stopped').length,
      runs: runs.length,
      perRunMax: { events: max((r) => r.events), bytes: max((r) => r.bytes), largestEventBytes: max((r) => r.largestEvent.bytes) },
      total: { events: runs.reduce((n, r) => n + r.events, 0), bytes: runs.reduce((n, r) => n + r.bytes, 0) },
      first: runs[0], last: runs[runs.length - 1],
      oneTrialWorkflow: trial,
    }, null, 1));
  } finally {
    await env.teardown();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
