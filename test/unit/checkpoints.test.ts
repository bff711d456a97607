// The checkpoint protocol under concurrent attempts, driven through deterministic interleavings:
// every storage operation of every attempt waits at a gate, and a seeded scheduler decides which
// attempt's next operation runs, which attempt crashes (is never let through again) and when a new
// attempt starts. After every operation the pointer must name weights that exist (the latest and,
// for a trial that keeps its best epoch, the best so far); at the end a fresh attempt must finish
// with exactly the bytes of an uninterrupted run, best weights included.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  AttemptRef, CheckpointFencedError, CheckpointPointer, CheckpointStore, SupersededAttemptError, TrialCheckpoint, supersedes,
} from '../../activities/checkpoints';
import { PreconditionFailedError } from '../../platform/object-store';
import { artifactKeys } from '../../lib/artifact-keys';
import { randomStream } from '../../lib/random';
import { bestEpoch } from '../../lib/search/objective';

const TRIAL = 'trial-under-test';
const SWEEP = 'sweep-under-test';
const POINTER = artifactKeys.trialCheckpoint(TRIAL);
const STEPS_PER_EPOCH = 3;
/** Stands in for an epoch's TensorBoard event file, which trainTrial stores alongside its weights. */
const eventsKey = (epoch: number) => `trials/${TRIAL}/events-epoch-${epoch}`;

/** S3's semantics as far as the protocol uses them: ETag = MD5 of the body, atomic conditional writes. */
class MemoryStore implements CheckpointStore {
  readonly objects = new Map<string, { body: Uint8Array; etag: string }>();
  /** With true, conditions are ignored: the protocol without fencing, to show the checks catch it. */
  constructor(private readonly ignoreConditions = false) {}
  async read(key: string) { return this.objects.get(key); }
  async put(key: string, body: Uint8Array) { this.objects.set(key, { body, etag: createHash('md5').update(body).digest('hex') }); }
  async putIf(key: string, body: Uint8Array, condition: { ifMatch: string } | { ifNoneMatch: '*' }) {
    const current = this.objects.get(key);
    const holds = 'ifMatch' in condition ? current?.etag === condition.ifMatch : current === undefined;
    if (!holds && !this.ignoreConditions) throw new PreconditionFailedError(key);
    await this.put(key, body);
    return this.objects.get(key)!.etag;
  }
  async delete(key: string) { this.objects.delete(key); }
  async list(prefix: string) { return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort(); }
  pointer(): CheckpointPointer | undefined {
    const found = this.objects.get(POINTER);
    return found && JSON.parse(new TextDecoder().decode(found.body));
  }
  /** The invariant: the pointer never names weights (latest or best) that do not exist, nor an epoch whose event file is not stored. */
  danglingPointer(): string | undefined {
    const pointer = this.pointer();
    const epochEvents = Array.from({ length: pointer?.epoch ?? 0 }, (_, e) => eventsKey(e + 1));
    return [pointer?.weightsKey, pointer?.best?.weightsKey, ...epochEvents].find((key) => key && !this.objects.has(key));
  }
}

/** A stand-in for training: the state after epoch e is a hash chain over e, so any deviation shows. */
const initialState = 'init';
const nextState = (state: string, epoch: number) => createHash('sha256').update(`${state}/${epoch}`).digest('hex');
const encode = (epoch: number, state: string) => new TextEncoder().encode(JSON.stringify({ epoch, state }));
const decode = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes)) as { epoch: number; state: string };
// The best epoch moves (1, 2, 2, 4, 4, ...), so best weights are written, kept and replaced.
const VAL_ACCURACY = [0.5, 0.7, 0.6, 0.8, 0.75];
const metrics = (epoch: number) => ({ epoch, trainLoss: 1 / epoch, trainAccuracy: 0, valLoss: 1 / epoch, valAccuracy: VAL_ACCURACY[(epoch - 1) % 5], epochDuration: 0, runDuration: 0 });
const bestOf = (epochs: number) => bestEpoch(Array.from({ length: epochs }, (_, e) => metrics(e + 1)))!.epoch;

function uninterrupted(epochs: number): string {
  let state = initialState;
  for (let e = 0; e < epochs; e++) state = nextState(state, e);
  return state;
}

/**
 * One attempt, using the protocol as trainTrial does. Returns its final state. With `keepBest` it
 * also keeps the best epoch's weights, as a trial that keeps its best epoch does, and checks that
 * they end as the uninterrupted run's. `every`: it stores a checkpoint after every `every`th epoch
 * and the last (trainTrial's interval in seconds, made deterministic), with the event files of the
 * epochs in between.
 */
async function attempt(store: CheckpointStore, owner: string, epochs: number, keepBest = false, every = 1): Promise<string> {
  const { checkpoint, resume } = await TrialCheckpoint.claim(store, TRIAL, SWEEP, owner, () => true);
  let state = initialState;
  if (resume.weights) {
    const saved = decode(resume.weights);
    assert.equal(saved.epoch, resume.pointer.epoch, 'resumed weights belong to the pointer\'s epoch');
    state = saved.state;
  }
  let best = resume.bestWeights && decode(resume.bestWeights);
  assert.equal(best?.epoch, resume.pointer.best?.epoch, 'resumed best weights belong to the pointer\'s best epoch');
  assert.equal(resume.pointer.epochs.length, resume.pointer.epoch);
  assert.equal(resume.pointer.adamStep, STEPS_PER_EPOCH * resume.pointer.epoch);
  const history = resume.pointer.epochs.slice();
  let unsavedEvents: Array<[number, Uint8Array]> = [];
  for (let e = resume.pointer.epoch; e < epochs; e++) {
    state = nextState(state, e);
    history.push(metrics(e + 1));
    if (keepBest && bestEpoch(history)!.epoch === e + 1) best = { epoch: e + 1, state };
    unsavedEvents.push([e + 1, encode(e + 1, state)]);
    if ((e + 1) % every !== 0 && e + 1 !== epochs) continue;
    const events = unsavedEvents;
    unsavedEvents = [];
    await checkpoint.save({ sweepId: SWEEP, epoch: e + 1, epochs: history.slice(), adamStep: STEPS_PER_EPOCH * (e + 1) }, encode(e + 1, state),
      keepBest ? { epoch: best!.epoch, weights: encode(best!.epoch, best!.state) } : undefined,
      () => Promise.all(events.map(([epoch, bytes]) => store.put(eventsKey(epoch), bytes))).then(() => undefined));
  }
  await checkpoint.removeOrphans();
  if (keepBest) assert.deepEqual(best, { epoch: bestOf(epochs), state: uninterrupted(bestOf(epochs)) }, `${owner} kept the uninterrupted run's best weights`);
  return state;
}

type Status = 'running' | 'done' | 'fenced' | 'crashed';

/** One storage operation of an attempt, held until the scheduler lets it run. */
interface Gate { attempt: string; go: () => void }

/**
 * Runs attempts whose every store operation waits for the scheduler's go. An attempt may have several
 * operations waiting at once (a save writes its objects in parallel); they are let through in any order.
 */
class Interleaving {
  private readonly gates: Gate[] = [];
  readonly status = new Map<string, Status>();
  readonly log: string[] = [];

  constructor(readonly store: MemoryStore, private readonly epochs: number, private readonly keepBest = false, private readonly every = 1) {}

  start(name: string): void {
    this.status.set(name, 'running');
    const gated: CheckpointStore = Object.fromEntries((['read', 'put', 'putIf', 'delete', 'list'] as const).map((op) => [op, async (...args: unknown[]) => {
      await new Promise<void>((resolve) => { this.gates.push({ attempt: name, go: resolve }); });
      this.log.push(`${name}: ${op} ${String(args[0]).replace(`trials/${TRIAL}/`, '')}`);
      return (this.store[op] as (...a: unknown[]) => Promise<unknown>)(...args);
    }])) as unknown as CheckpointStore;
    attempt(gated, name, this.epochs, this.keepBest, this.every).then(
      (state) => { assert.equal(state, uninterrupted(this.epochs), `${name} finished with the uninterrupted run's state`); this.status.set(name, 'done'); },
      (error) => {
        if (!(error instanceof CheckpointFencedError) && !(error instanceof PreconditionFailedError)) throw error;
        this.status.set(name, 'fenced');
      },
    );
  }

  /** Lets the `index`th waiting operation of `name` run, then waits until every attempt is at a gate or has ended. */
  async step(name: string, index = 0): Promise<void> {
    const gate = this.gates.filter((g) => g.attempt === name)[index];
    this.gates.splice(this.gates.indexOf(gate), 1);
    gate.go();
    await this.settle();
  }

  crash(name: string): void {
    this.gates.splice(0, this.gates.length, ...this.gates.filter((g) => g.attempt !== name));
    this.status.set(name, 'crashed');
    this.log.push(`${name}: crashed`);
  }

  /** How many operations of `name` wait at a gate (a crashed attempt's never run). */
  waitingOps(name: string): number {
    return this.status.get(name) === 'crashed' ? 0 : this.gates.filter((g) => g.attempt === name).length;
  }

  waiting(): string[] {
    return [...this.status.keys()].filter((name) => this.waitingOps(name) > 0);
  }

  /** The memory store answers at once, so one turn of the event loop runs every continuation to its next gate. */
  async settle(): Promise<void> {
    for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * A random schedule: up to `attempts` attempts start at random moments, operations interleave at
 * random and up to `crashes` attempts crash at random points. Returns the first violation, if any.
 */
async function randomSchedule(seed: number, store: MemoryStore, options: { epochs: number; attempts: number; crashes: number; keepBest: boolean; every?: number } = { epochs: 4, attempts: 3, crashes: 2, keepBest: false }): Promise<string | undefined> {
  const random = randomStream(seed, 'checkpoint-schedule');
  const run = new Interleaving(store, options.epochs, options.keepBest, options.every);
  let started = 0;
  let crashes = 0;
  run.start(`A${started++}`);
  await run.settle();
  for (let steps = 0; steps < 500; steps++) {
    const waiting = run.waiting();
    const canStart = started < options.attempts;
    if (!waiting.length && !canStart) break;
    const roll = random();
    if (canStart && (roll < 0.08 || !waiting.length)) {
      run.start(`A${started++}`);
      await run.settle();
    } else if (crashes < options.crashes && roll < 0.12) {
      run.crash(waiting[Math.floor(random() * waiting.length)]);
      crashes++;
    } else {
      const name = waiting[Math.floor(random() * waiting.length)];
      await run.step(name, Math.floor(random() * run.waitingOps(name)));
    }
    const dangling = store.danglingPointer();
    if (dangling) return `seed ${seed}: checkpoint.json names ${dangling}, which does not exist, after:\n${run.log.join('\n')}`;
  }
  // Temporal's last retry, alone: it must complete the trial with the uninterrupted run's bytes.
  const final = await attempt(store, 'final', options.epochs, options.keepBest, options.every);
  if (final !== uninterrupted(options.epochs)) return `seed ${seed}: the final attempt ended with other weights`;
  const left = (await store.list(artifactKeys.trialCheckpointWeightsPrefix(TRIAL)));
  const kept = options.keepBest ? [artifactKeys.trialCheckpointWeights(TRIAL, bestOf(options.epochs))] : [];
  assert.deepEqual(left, [...new Set([...kept, store.pointer()!.weightsKey!])].sort(), `seed ${seed}: only the final checkpoint's weights (and the best epoch's) are left`);
  assert.deepEqual(await store.list(artifactKeys.trialBestWeightsPrefix(TRIAL)), [], `seed ${seed}: no separate copy of the best weights`);
  return undefined;
}

describe('checkpoint protocol', () => {
  test('an uninterrupted attempt checkpoints every epoch and keeps only the last weights', async () => {
    const store = new MemoryStore();
    assert.equal(await attempt(store, 'only', 5), uninterrupted(5));
    assert.equal(store.pointer()!.epoch, 5);
    assert.deepEqual(await store.list(artifactKeys.trialCheckpointWeightsPrefix(TRIAL)), [artifactKeys.trialCheckpointWeights(TRIAL, 5)]);
  });

  test('the first claim of a trial skips the orphan clean-up (nothing earlier can exist); a later claim still does it', async () => {
    const store = new MemoryStore();
    const ops: string[] = [];
    const counted: CheckpointStore = Object.fromEntries((['read', 'put', 'putIf', 'delete', 'list'] as const).map((op) => [op, (...args: unknown[]) => {
      ops.push(op);
      return (store[op] as (...a: unknown[]) => Promise<unknown>)(...args);
    }])) as unknown as CheckpointStore;
    await attempt(counted, 'first', 2);
    assert.deepEqual(ops, ['read', 'putIf', 'put', 'put', 'putIf', 'put', 'put', 'putIf', 'delete'], 'claim, two saves, no read or listing after them');
    // An orphan as a fenced attempt leaves it: weights the pointer does not name.
    await store.put(artifactKeys.trialCheckpointWeights(TRIAL, 7), new Uint8Array([1]));
    ops.length = 0;
    const { checkpoint } = await TrialCheckpoint.claim(counted, TRIAL, SWEEP, 'second', () => true);
    assert.equal(checkpoint.firstClaim, false);
    assert.deepEqual(await checkpoint.removeOrphans(), [artifactKeys.trialCheckpointWeights(TRIAL, 7)]);
    assert.equal(ops.filter((op) => op === 'list').length, 2, 'a later claimer lists what earlier attempts may have left');
  });

  test('a save whose pointer write landed but whose answer was lost (the S3 client sends it again and gets 412) goes on: it is not fenced by itself', async () => {
    const store = new MemoryStore();
    let lost = 0;
    const lossy: CheckpointStore = {
      read: (k) => store.read(k), put: (k, b) => store.put(k, b), delete: (k) => store.delete(k), list: (p) => store.list(p),
      putIf: async (key, body, condition) => {
        // The second save's pointer write lands, then its answer is lost: the retry finds its own write.
        const etag = await store.putIf(key, body, condition);
        if ('ifMatch' in condition && store.pointer()?.epoch === 2 && lost++ === 0) throw new PreconditionFailedError(key);
        return etag;
      },
    };
    assert.equal(await attempt(lossy, 'only', 4), uninterrupted(4));
    assert.equal(lost, 1, 'the answer was lost once');
    assert.equal(store.pointer()!.epoch, 4);
    // A newer attempt's pointer is still told apart: the same loss after another owner claimed fences.
    const { checkpoint } = await TrialCheckpoint.claim(store, TRIAL, SWEEP, 'old', () => true);
    await TrialCheckpoint.claim(store, TRIAL, SWEEP, 'new', () => true);
    await assert.rejects(checkpoint.save({ sweepId: SWEEP, epoch: 5, epochs: [], adamStep: 15 }, encode(5, 'x')), (error: unknown) => error instanceof CheckpointFencedError && /\(new\)/.test((error as Error).message));
  });

  test('the race of the bug report: the retry one epoch behind, the old attempt deletes, the retry crashes', async () => {
    // O trains; R starts (a retry during a Temporal outage) and resumes from O's pointer while O
    // goes on. Before fencing, O's delete of its previous weights and R's pointer move crossed, and
    // a crash of R left the pointer naming deleted weights.
    const store = new MemoryStore();
    const run = new Interleaving(store, 4);
    run.start('O');
    await run.settle();
    const stepUntil = async (name: string, predicate: () => boolean) => { while (!predicate()) await run.step(name); };
    await stepUntil('O', () => store.pointer()?.epoch === 2 && run.log.at(-1)!.includes('delete'));
    run.start('R');
    await run.settle();
    // R reads the pointer (epoch 2), loads its weights and claims it: O is fenced from here on.
    await stepUntil('R', () => store.pointer()?.owner === 'R');
    // O finishes epoch 3: its weights land, its pointer move is refused, and it deletes nothing.
    await run.step('O'); // put checkpoint-epoch-0003.bin
    await run.step('O'); // put events-epoch-3, in parallel with it
    await run.step('O'); // putIf checkpoint.json: refused
    while (run.waitingOps('O')) await run.step('O'); // reads the owner for its error
    assert.equal(run.status.get('O'), 'fenced');
    assert.equal(run.log.filter((l) => l.startsWith('O: delete')).length, 1, 'the fenced attempt deleted nothing after the claim');
    // R writes epoch 3 and crashes right after moving the pointer, before its delete.
    await stepUntil('R', () => store.pointer()?.epoch === 3);
    run.crash('R');
    assert.equal(store.danglingPointer(), undefined);
    assert.equal(await attempt(store, 'retry', 4), uninterrupted(4));
  });

  test('2,000 random interleavings of up to 3 attempts with up to 2 crashes: the pointer never dangles and the trial ends identical', async () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const violation = await randomSchedule(seed, new MemoryStore());
      assert.equal(violation, undefined, violation);
    }
  });

  test('2,000 random interleavings keeping the best epoch: neither the latest nor the best weights the pointer names ever go missing, and the best ends identical', async () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const violation = await randomSchedule(seed, new MemoryStore(), { epochs: 5, attempts: 3, crashes: 2, keepBest: true });
      assert.equal(violation, undefined, violation);
    }
  });

  test('2,000 random interleavings checkpointing every third epoch and keeping the best: a best epoch between checkpoints is stored beside the next, and nothing dangles', async () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const violation = await randomSchedule(seed, new MemoryStore(), { epochs: 5, attempts: 3, crashes: 2, keepBest: true, every: 3 });
      assert.equal(violation, undefined, violation);
    }
  });

  test('checkpoints every third epoch: the best epochs in between (2, then 4) are stored beside the checkpoints after them, and only the last best is kept', async () => {
    const store = new MemoryStore();
    const puts: string[] = [];
    const watched: CheckpointStore = { ...store, read: (k) => store.read(k), putIf: (k, b, c) => store.putIf(k, b, c), delete: (k) => store.delete(k), list: (p) => store.list(p), put: (k, b) => { puts.push(k.replace(`trials/${TRIAL}/`, '')); return store.put(k, b); } };
    assert.equal(await attempt(watched, 'only', 5, true, 3), uninterrupted(5));
    assert.deepEqual(puts.filter((k) => k.startsWith('checkpoint-epoch')), ['checkpoint-epoch-0003.bin', 'checkpoint-epoch-0002.bin', 'checkpoint-epoch-0005.bin', 'checkpoint-epoch-0004.bin']);
    assert.deepEqual(store.pointer()!.best, { epoch: 4, weightsKey: artifactKeys.trialCheckpointWeights(TRIAL, 4) });
    assert.deepEqual(await store.list(artifactKeys.trialCheckpointWeightsPrefix(TRIAL)), [4, 5].map((e) => artifactKeys.trialCheckpointWeights(TRIAL, e)));
    assert.deepEqual([1, 2, 3, 4, 5].filter((e) => store.objects.has(eventsKey(e))), [1, 2, 3, 4, 5], 'every epoch\'s event file is stored');
  });

  test('keeping the best epoch without fencing does leave a dangling pointer', async () => {
    let found: string | undefined;
    for (let seed = 1; seed <= 2000 && !found; seed++) found = await randomSchedule(seed, new MemoryStore(true), { epochs: 5, attempts: 3, crashes: 2, keepBest: true }).catch((e: Error) => e.message);
    assert.ok(found);
  });

  test("best weights: the best epoch's checkpoint, kept while it is the best, deleted after the pointer names a newer one", async () => {
    const store = new MemoryStore();
    await attempt(store, 'only', 5, true);
    assert.deepEqual(store.pointer()!.best, { epoch: 4, weightsKey: artifactKeys.trialCheckpointWeights(TRIAL, 4) });
    assert.deepEqual(await store.list(artifactKeys.trialCheckpointWeightsPrefix(TRIAL)), [4, 5].map((e) => artifactKeys.trialCheckpointWeights(TRIAL, e)));
    assert.deepEqual(await store.list(artifactKeys.trialBestWeightsPrefix(TRIAL)), []);
    // A trial that does not keep its best epoch writes no best weights and its pointer names none.
    const plain = new MemoryStore();
    await attempt(plain, 'plain', 5);
    assert.equal(plain.pointer()!.best, undefined);
    assert.deepEqual(await plain.list(artifactKeys.trialBestWeightsPrefix(TRIAL)), []);
  });

  test('a pointer whose best weights are gone restarts from epoch 0, and the trial ends identical', async () => {
    const store = new MemoryStore();
    await attempt(store, 'first', 3, true);
    await store.delete(artifactKeys.trialCheckpointWeights(TRIAL, 2));
    const { resume } = await TrialCheckpoint.claim(store, TRIAL, SWEEP, 'repairer', () => true);
    assert.equal(resume.pointer.epoch, 0);
    assert.match(resume.repaired!, /best weights .*checkpoint-epoch-0002\.bin, which do not exist; restarted from epoch 0/);
    assert.equal(await attempt(store, 'after-repair', 5, true), uninterrupted(5));
  });

  test('a pointer written before the best shared its checkpoint (a best-epoch-NNNN.bin copy) resumes, and the copy goes once the best moves', async () => {
    const store = new MemoryStore();
    const legacyBest = artifactKeys.trialBestWeights(TRIAL, 2);
    await store.put(legacyBest, encode(2, uninterrupted(2)));
    await store.put(artifactKeys.trialCheckpointWeights(TRIAL, 3), encode(3, uninterrupted(3)));
    const pointer: CheckpointPointer = {
      sweepId: SWEEP, epoch: 3, epochs: [1, 2, 3].map(metrics), adamStep: 3 * STEPS_PER_EPOCH, owner: 'older-code',
      weightsKey: artifactKeys.trialCheckpointWeights(TRIAL, 3), best: { epoch: 2, weightsKey: legacyBest },
    };
    await store.put(POINTER, new TextEncoder().encode(JSON.stringify(pointer)));
    assert.equal(await attempt(store, 'newer-code', 5, true), uninterrupted(5));
    assert.deepEqual(store.pointer()!.best, { epoch: 4, weightsKey: artifactKeys.trialCheckpointWeights(TRIAL, 4) });
    assert.deepEqual(await store.list(artifactKeys.trialBestWeightsPrefix(TRIAL)), []);
  });

  test('the same schedules without fencing do leave a dangling pointer (the checks above can fail)', async () => {
    let found: string | undefined;
    for (let seed = 1; seed <= 2000 && !found; seed++) found = await randomSchedule(seed, new MemoryStore(true)).catch((e: Error) => e.message);
    assert.ok(found, 'an unfenced protocol broke the invariant in some schedule');
  });

  test('a pointer that names missing weights is repaired from the newest older checkpoint', async () => {
    const store = new MemoryStore();
    await attempt(store, 'first', 3);
    // The state the protocol before fencing could leave: older weights kept, the named ones deleted.
    await store.put(artifactKeys.trialCheckpointWeights(TRIAL, 2), encode(2, uninterrupted(2)));
    await store.delete(artifactKeys.trialCheckpointWeights(TRIAL, 3));
    const { resume } = await TrialCheckpoint.claim(store, TRIAL, SWEEP, 'repairer', () => true);
    assert.equal(resume.pointer.epoch, 2);
    assert.equal(resume.pointer.epochs.length, 2);
    assert.equal(resume.pointer.adamStep, 2 * STEPS_PER_EPOCH);
    assert.match(resume.repaired!, /checkpoint-epoch-0003\.bin, which does not exist; resumed from .*checkpoint-epoch-0002\.bin \(epoch 2\)/);
    assert.equal(store.pointer()!.weightsKey, artifactKeys.trialCheckpointWeights(TRIAL, 2), 'the repair is stored with the claim');
    assert.equal(await attempt(store, 'after-repair', 5), uninterrupted(5));
  });

  test('with no older checkpoint the repair starts from epoch 0', async () => {
    const store = new MemoryStore();
    await attempt(store, 'first', 2);
    await store.delete(artifactKeys.trialCheckpointWeights(TRIAL, 2));
    const { resume } = await TrialCheckpoint.claim(store, TRIAL, SWEEP, 'repairer', () => true);
    assert.equal(resume.pointer.epoch, 0);
    assert.equal(resume.weights, undefined);
    assert.match(resume.repaired!, /restarted from epoch 0/);
    assert.equal(await attempt(store, 'after-repair', 3), uninterrupted(3));
  });

  describe('an attempt Temporal has given up on does not claim (found by the soak: a GPU worker hung right after it took a segment\'s attempt)', () => {
    const ref = (activity: number, attempt: number, runId = 'trial-run'): AttemptRef => ({ runId, activity, attempt });
    /** An attempt that claims with `attemptRef` and saves epochs `from`+1 to `to`. */
    const claimAndSave = async (store: CheckpointStore, owner: string, attemptRef: AttemptRef, to: number, usable = (p: CheckpointPointer) => p.epoch <= to) => {
      const { checkpoint, resume } = await TrialCheckpoint.claim(store, TRIAL, SWEEP, owner, usable, { attempt: attemptRef });
      for (let e = resume.pointer.epoch; e < to; e++) {
        await checkpoint.save({ sweepId: SWEEP, epoch: e + 1, epochs: Array.from({ length: e + 1 }, (_, i) => metrics(i + 1)), adamStep: STEPS_PER_EPOCH * (e + 1) }, encode(e + 1, `state ${e + 1}`));
      }
      return { checkpoint, resumedFrom: resume.pointer.epoch };
    };

    test('supersedes: a later segment of the run, or a later attempt of the same segment; never another run', () => {
      assert.equal(supersedes(ref(3, 1), ref(2, 2)), true);
      assert.equal(supersedes(ref(2, 3), ref(2, 2)), true);
      assert.equal(supersedes(ref(2, 2), ref(2, 2)), false, 'the same attempt delivered to two processes: the newer claim wins, as before');
      assert.equal(supersedes(ref(2, 1), ref(2, 2)), false);
      assert.equal(supersedes(ref(1, 5), ref(2, 1)), false);
      assert.equal(supersedes(ref(3, 1, 'a later run of the same workflow id'), ref(1, 1)), false);
    });

    test('a stale attempt of an earlier segment, woken after the next segment trained past its end, leaves the trial to the live attempt', async () => {
      // Segment 2 (to epoch 8): its attempt 3 finished it; segment 3 (to 16) trains on. Attempt 2 of segment 2 took
      // its task, hung before its claim, was retried (attempt 3), and wakes now.
      const store = new MemoryStore();
      await claimAndSave(store, 'segment-2-attempt-3', ref(2, 3), 8);
      const { checkpoint: live } = await claimAndSave(store, 'segment-3-attempt-1', ref(3, 1), 14, (p) => p.epoch <= 16);
      const before = store.pointer();
      await assert.rejects(TrialCheckpoint.claim(store, TRIAL, SWEEP, 'segment-2-attempt-2', (p) => p.epoch <= 8, { attempt: ref(2, 2) }), SupersededAttemptError);
      assert.deepEqual(store.pointer(), before, 'the pointer is untouched: on the code before, this claim found epoch 14 past its end and restarted the trial at epoch 0');
      await live.save({ sweepId: SWEEP, epoch: 15, epochs: Array.from({ length: 15 }, (_, i) => metrics(i + 1)), adamStep: STEPS_PER_EPOCH * 15 }, encode(15, 'state 15'));
      assert.equal(store.pointer()!.epoch, 15, 'the live attempt saves on, not fenced');
    });

    test('a stale attempt of the same segment does not fence its retry', async () => {
      const store = new MemoryStore();
      const { checkpoint: retry } = await claimAndSave(store, 'attempt-2', ref(1, 2), 3);
      await assert.rejects(TrialCheckpoint.claim(store, TRIAL, SWEEP, 'attempt-1', () => true, { attempt: ref(1, 1) }), SupersededAttemptError);
      await retry.save({ sweepId: SWEEP, epoch: 4, epochs: Array.from({ length: 4 }, (_, i) => metrics(i + 1)), adamStep: STEPS_PER_EPOCH * 4 }, encode(4, 'state 4'));
      assert.equal(store.pointer()!.owner, 'attempt-2');
    });

    test('an attempt presumed dead (another run\'s, so no ref tells) stops at its claim, also when it hung between reading the pointer and claiming it', async () => {
      const store = new MemoryStore();
      const { checkpoint: live } = await claimAndSave(store, 'live', ref(3, 1, 'another sweep\'s trial run'), 5, () => true);
      const before = store.pointer();
      let reads = 0;
      // The first read passes the check; the pointer moves meanwhile (the hang), so the claim fails and reads again.
      const hung: CheckpointStore = {
        async read(key) {
          const found = await store.read(key);
          if (reads++ === 0) await live.save({ sweepId: SWEEP, epoch: 6, epochs: Array.from({ length: 6 }, (_, i) => metrics(i + 1)), adamStep: STEPS_PER_EPOCH * 6 }, encode(6, 'state 6'));
          return found;
        },
        put: (key, body) => store.put(key, body),
        putIf: (key, body, condition) => store.putIf(key, body, condition),
        delete: (key) => store.delete(key),
        list: (prefix) => store.list(prefix),
      };
      let checks = 0;
      const stillCurrent = () => { if (checks++ > 0) throw new Error('presumed dead'); };
      await assert.rejects(TrialCheckpoint.claim(hung, TRIAL, SWEEP, 'woken', () => true, { attempt: ref(1, 1, 'this trial run'), stillCurrent }), /presumed dead/);
      assert.equal(checks, 2);
      assert.equal(store.pointer()!.owner, before!.owner);
      assert.equal(store.pointer()!.epoch, 6, 'the live attempt saved on');
    });

    test('another run of the trial workflow (the sweep id used again) claims as before; so do attempts whose pointer names no attempt (written before)', async () => {
      const store = new MemoryStore();
      await claimAndSave(store, 'old-run-segment-3', ref(3, 1, 'old run'), 16, () => true);
      const { resumedFrom } = await claimAndSave(store, 'new-run-segment-1', ref(1, 1, 'new run'), 8);
      assert.equal(resumedFrom, 0, 'past its end: from scratch, as before');
      await attempt(store, 'no-ref', 8);
      assert.equal(store.pointer()!.attempt, undefined, 'an attempt without a ref leaves none behind');
      const { resumedFrom: after } = await claimAndSave(store, 'with-ref', ref(1, 1, 'new run'), 8);
      assert.equal(after, 8);
    });
  });

  test('a pointer the caller may not use (another sweep without reuse) is claimed at epoch 0 under this sweep', async () => {
    const store = new MemoryStore();
    await attempt(store, 'other-sweep', 2);
    const { resume } = await TrialCheckpoint.claim(store, TRIAL, 'new-sweep', 'mine', () => false);
    assert.equal(resume.pointer.epoch, 0);
    assert.equal(store.pointer()!.sweepId, 'new-sweep');
    assert.equal(store.pointer()!.owner, 'mine');
  });
});
