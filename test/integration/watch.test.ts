// `sweep watch` on real sweeps started through the CLI: plain lines when the output is not a
// terminal (every change once, epochs from the trials' heartbeats), in-place progress bars on a
// terminal (a real pty from util-linux `script`), and the final leaderboard when the sweep closes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { Leaderboard } from '../../lib/sweep-types';
import { REPO_ROOT } from '../../platform/config';
import { TestWorkers, startTestWorkers, tinySpec, uniqueId, writeTempJson } from './harness';

const SWEEP = path.join(REPO_ROOT, 'bin', 'sweep.js');
// Enough for each trial to train for several seconds, so heartbeats (at most 2 s apart) show epochs under way.
const EPOCHS = 250;

let env: TestWorkers;
before(async () => { env = await startTestWorkers('watch'); });
after(async () => { await env.stop(); });

async function sweepCli(args: string[]): Promise<string> {
  // The CLI starts the sweep workflow on SWEEP_CPU_QUEUE: the test's own workers.
  const { stdout } = await promisify(execFile)('node', [SWEEP, ...args], { env: { ...process.env, SWEEP_CPU_QUEUE: env.cpuQueue }, maxBuffer: 16 << 20 });
  return stdout;
}

/** A sweep whose trials train long enough (hundreds of epochs) for heartbeats to show epochs under way. */
async function startSweep(): Promise<string> {
  const id = uniqueId('it-watch');
  const spec = await tinySpec(env, { reuse: false, concurrency: 2, grid: { hidden_units: [16, 32, 64], dropout: [0.5], num_classes: [4], lr: [0.01], batch_size: [8], n_epochs: [EPOCHS] } });
  await sweepCli(['start', writeTempJson(spec), '--id', id]);
  return id;
}

describe('sweep watch', () => {
  let finished: string;

  test('not on a terminal: one plain line per change, epochs of running trials, then the final leaderboard', async () => {
    const id = await startSweep();
    const began = Date.now();
    const output = await sweepCli(['watch', id, '--interval', '0.5']);
    const seconds = (Date.now() - began) / 1000;
    finished = id;
    const lines = output.split('\n');
    assert.ok(!output.includes('\x1b'), 'no terminal control sequences');
    assert.match(lines[0], new RegExp(`^\\[\\s*\\S+\\] sweep ${id} RUNNING$`));
    assert.equal(lines.filter((l) => /\] stage: training \(3 trials\)$/.test(l)).length, 1);
    for (const run of [1, 2, 3]) {
      const started = lines.findIndex((l) => new RegExp(`\\] run ${run} started: hidden_units=${8 << run} .*\\(${EPOCHS} epochs\\)$`).test(l));
      const completed = lines.findIndex((l) => new RegExp(`\\] run ${run} completed: val acc \\d+\\.\\d% · test acc \\d+\\.\\d% · rank [123]$`).test(l));
      assert.ok(started >= 0 && completed > started, `run ${run} started (line ${started}) then completed (line ${completed})`);
      assert.equal(lines.filter((l) => l.includes(`] run ${run} started`)).length, 1, 'each change is printed once');
      const epochs = lines.map((l) => new RegExp(`\\] run ${run} epoch (\\d+)/${EPOCHS} done`).exec(l)).filter(Boolean).map((m) => Number(m![1]));
      assert.deepEqual(epochs, [...epochs].sort((a, b) => a - b), `run ${run}'s epochs only go forward: ${epochs}`);
      assert.equal(new Set(epochs).size, epochs.length);
    }
    const epochLines = lines.filter((l) => / epoch \d+\/\d+ done/.test(l));
    assert.ok(epochLines.length >= 2, `epochs under way are reported (${epochLines.length} lines in ${seconds.toFixed(0)} s):\n${output}`);
    assert.ok(lines.some((l) => new RegExp(`\\] sweep ${id} COMPLETED$`).test(l)));
    const board = await env.client.workflow.getHandle(id).result() as Leaderboard;
    const final = output.slice(output.indexOf(`sweep ${id}: completed, 3 trials ranked by validation accuracy`));
    assert.ok(final.length > 0, 'the final leaderboard follows');
    assert.match(final, new RegExp(`best: run ${board.best!.run} `));
    assert.match(final, new RegExp(`report: s3://\\S+/sweeps/${id}/report\\.html`));
  });

  test('on a terminal: progress bars redrawn in place, then the final leaderboard', async () => {
    const id = await startSweep();
    // `script` runs the watcher on a pseudo-terminal of 100 x 30 and copies everything it draws.
    const command = `stty cols 100 rows 30; SWEEP_CPU_QUEUE=${env.cpuQueue} node ${SWEEP} watch ${id} --interval 0.5`;
    const { stdout } = await promisify(execFile)('script', ['-qefc', command, '/dev/null'], { maxBuffer: 16 << 20 });
    const redraws = stdout.split(/\x1b\[\d+F\x1b\[J/);
    assert.ok(redraws.length > 3, `the frame is redrawn in place (${redraws.length - 1} redraws)`);
    const frames = redraws.map((frame) => frame.split(/\r?\n/));
    // Between the first (after any start-up warnings) and the last (before the final leaderboard, printed as is).
    assert.ok(frames.slice(1, -1).every((frame) => frame.every((line) => line.length <= 100)), 'no frame line wider than the terminal');
    assert.ok(frames.some((f) => f.some((l) => /^trials +\[[#.]{30}\] \d\/3 done · [012] running/.test(l))), 'the trials bar');
    assert.ok(frames.some((f) => f.some((l) => new RegExp(`^  run +\\d \\[[#.]{20}\\] epoch +\\d+/${EPOCHS}`).test(l))), 'a bar per running trial');
    assert.ok(frames.some((f) => f.includes('leaderboard so far')));
    assert.match(redraws[redraws.length - 1], new RegExp(`sweep ${id}: completed, 3 trials ranked`));
  });

  test('a sweep that has already closed: its final leaderboard at once', async () => {
    const output = await sweepCli(['watch', finished]);
    assert.match(output, new RegExp(`^\\[\\s*\\S+\\] sweep ${finished} COMPLETED\\n`));
    assert.match(output, new RegExp(`sweep ${finished}: completed, 3 trials ranked`));
  });

  test('an unknown sweep id is named', async () => {
    const missing = uniqueId('no-such-sweep');
    await assert.rejects(sweepCli(['watch', missing]), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 2);
      assert.match(error.stderr, new RegExp(`no sweep with that id: .*${missing}`));
      return true;
    });
  });
});
