// Measures what a sweep costs in workflow history: runs a random search of N trials (default 200)
// with the fake activities on a local dev server and prints the sweep's and one trial's history as
// events and bytes (protobuf-encoded, as Temporal stores and limits them), per trial and projected
// to 1,000 trials. Not a test (minutes on a slow machine):
//   node --import tsx test/workflows/history-size.ts [trials] [concurrency]
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { REPO_ROOT } from '../../platform/config';
import { MemoryObjectStore } from '../../platform/memory-store';
import { setObjectStore } from '../../platform/storage';
import { SEARCH_ATTRIBUTES, sweepWorkflow } from '../../workflows';
import { CLASSES, fakeActivities } from './fake-activities';

async function main(): Promise<void> {
  const trials = Number(process.argv[2] ?? 200);
  const concurrency = Number(process.argv[3] ?? 8);
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  setObjectStore(new MemoryObjectStore());
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: path.join(REPO_ROOT, '.stack', 'bin', 'temporal') }, searchAttributes: Object.values(SEARCH_ATTRIBUTES) },
  });
  try {
    const fakes = fakeActivities();
    const queues = { cpu: 'history-cpu', gpu: 'history-gpu' };
    const spec = {
      name: 'history-size', data: { source: './nowhere', classes: CLASSES }, backbone: { uri: 'file:///models/fake/model.json' },
      augmentation: { enabled: false }, concurrency, maxTrials: 100_000, taskQueues: queues,
      search: { method: 'random', budget: trials, space: { lr: { type: 'loguniform', low: 1e-4, high: 1e-2 }, n_epochs: { type: 'choice', values: [1] } } },
    };
    const cpu = await Worker.create({ connection: env.nativeConnection, taskQueue: queues.cpu, workflowsPath: require.resolve('../../workflows'), activities: fakes.cpu });
    const gpu = await Worker.create({ connection: env.nativeConnection, taskQueue: queues.gpu, activities: fakes.gpu });
    const started = Date.now();
    const sweepId = `history-size-${trials}`;
    await cpu.runUntil(gpu.runUntil(env.client.workflow.execute(sweepWorkflow, { taskQueue: queues.cpu, workflowId: sweepId, args: [spec] })));
    const size = async (workflowId: string) => {
      const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
      const eventBytes = (history.events ?? []).map((e) => temporal.api.history.v1.HistoryEvent.encode(e).finish().length);
      const largest = eventBytes.indexOf(Math.max(...eventBytes));
      return {
        events: eventBytes.length,
        bytes: temporal.api.history.v1.History.encode(history).finish().length,
        // Temporal refuses a payload over 2 MB: the event carrying the biggest one shows how close a sweep gets.
        largestEvent: { bytes: eventBytes[largest], type: temporal.api.enums.v1.EventType[history.events![largest].eventType!] },
      };
    };
    const sweep = await size(sweepId);
    const trial = await size(`${sweepId}.trial-001`);
    console.log(JSON.stringify({
      trials, concurrency, seconds: (Date.now() - started) / 1000,
      sweep, perTrialInSweep: { events: sweep.events / trials, bytes: Math.round(sweep.bytes / trials) },
      projected1000: { events: Math.round(sweep.events / trials * 1000), bytes: Math.round(sweep.bytes / trials * 1000) },
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
