// The checkpoint protocol of one trial, safe with any number of concurrent attempts at any
// interleaving and a crash at any point (docs/guarantees.md, "Checkpoints").
//
// Temporal can start a retry while an earlier attempt still runs (a Temporal outage or a hung node
// outlasting the heartbeat timeout), so two attempts may write the same trial's keys. Three rules:
// 1. Fencing. The pointer `checkpoint.json` names its owner, the attempt that last claimed it. An
//    attempt claims it when it starts (a conditional write on the version it read) and moves it only
//    with conditional writes on the version it wrote last. A later claim changes the version, so an
//    earlier attempt's next move fails and that attempt stops: it never moves the pointer or deletes
//    anything again. Claims are ordered by the store, so the newest claimer owns the trial. An attempt
//    that Temporal has already given up on (a later attempt, or the trial's next segment, owns the
//    pointer) does not claim: woken from a hang, it would fence the live attempt.
// 2. Deletes follow moves. Only the owner deletes, only its own previous weights, and only after the
//    pointer names newer ones; a claimer resumes from what the pointer names at its claim, never older.
//    The best-so-far weights (a trial that keeps its best epoch) are the best epoch's checkpoint (for a
//    best epoch between checkpoints, its state stored beside the next one): the pointer names that
//    object as the best, so it is not deleted as the pointer moves on; the owner
//    deletes it only after the pointer names a newer best. (Pointers written before this name a
//    separate best-epoch-NNNN.bin copy; it follows the same rule.)
// 3. Repair. A pointer whose weights are gone (left by the protocol before fencing, or by lost
//    storage) falls back to the newest weights at or below its epoch, or to epoch 0; training is a
//    pure function of (seed, trial, epoch, batch), so either way the trial ends with the same bytes.
import { randomUUID } from 'node:crypto';
import { allSettledOrThrow } from '../lib/bounded';
import { artifactKeys } from '../lib/artifact-keys';
import { EpochMetrics } from '../lib/epoch-rows';
import { MissingObjectError, PreconditionFailedError } from '../platform/object-store';
import { deleteObject, getObjectVersion, listKeys, putObject, putObjectIf } from '../platform/storage';

/** The few storage operations the protocol needs; S3 in production, in memory in tests. */
export interface CheckpointStore {
  /** Bytes and version (ETag), or undefined when the object does not exist. */
  read(key: string): Promise<{ body: Uint8Array; etag: string } | undefined>;
  put(key: string, body: Uint8Array): Promise<void>;
  /** Writes only if the object is at version `ifMatch` (or absent, for '*'), else throws PreconditionFailedError; returns the new version. */
  putIf(key: string, body: Uint8Array, condition: { ifMatch: string } | { ifNoneMatch: '*' }): Promise<string>;
  delete(key: string): Promise<void>;
  list(prefix: string): Promise<string[]>;
}

/** The artifact bucket on S3. */
export function s3CheckpointStore(): CheckpointStore {
  return {
    async read(key) {
      try {
        return await getObjectVersion(key);
      } catch (error) {
        if (error instanceof MissingObjectError) return undefined;
        throw error;
      }
    },
    put: (key, body) => putObject(key, body),
    putIf: (key, body, condition) => putObjectIf(key, body, condition),
    delete: (key) => deleteObject(key),
    async list(prefix) {
      const keys: string[] = [];
      for await (const { key } of listKeys(prefix)) keys.push(key);
      return keys;
    },
  };
}

/** What `checkpoint.json` holds. */
export interface CheckpointPointer {
  /** The sweep whose attempt wrote it. */
  sweepId: string;
  /** Epochs completed. */
  epoch: number;
  epochs: EpochMetrics[];
  /** Weights and Adam moments after `epoch`; absent at epoch 0. */
  weightsKey?: string;
  adamStep: number;
  /** The attempt that claimed the pointer last; only it may move the pointer. */
  owner?: string;
  /** Which activity attempt of which trial workflow run `owner` is (pointers written before 2026-12-04 lack it). */
  attempt?: AttemptRef;
  /** The best epoch so far by the trial's objective and its weights; only for trials that keep their best epoch. */
  best?: { epoch: number; weightsKey: string };
}

/** What an attempt stores at a checkpoint; the protocol adds the weights' keys and the owner. */
export type CheckpointState = Omit<CheckpointPointer, 'weightsKey' | 'owner' | 'attempt' | 'best'>;

/** A trainTrial attempt: its trial workflow run, the activity's sequence number in it (one per segment) and the attempt. */
export interface AttemptRef {
  runId: string;
  activity: number;
  attempt: number;
}

/**
 * Temporal starts a later activity of a workflow run only after the earlier one ended, and a retry only
 * after the attempt before it failed or timed out: an attempt with `earlier` as its ref has been given
 * up on once one with `later` exists, and whatever it stores now would undo the later one's work.
 */
export function supersedes(later: AttemptRef, earlier: AttemptRef): boolean {
  return later.runId === earlier.runId && (later.activity > earlier.activity || (later.activity === earlier.activity && later.attempt > earlier.attempt));
}

/** How a claimer tells it has been given up on: its ref (for `supersedes`), and a check that throws once Temporal may have presumed it dead. */
export interface ClaimChecks {
  attempt?: AttemptRef;
  stillCurrent?: () => void;
}

/** Where an attempt starts: the claimed pointer's state, and its weights unless it starts from scratch. */
export interface ResumePoint {
  pointer: CheckpointPointer;
  weights?: Uint8Array;
  /** The weights `pointer.best` names. */
  bestWeights?: Uint8Array;
  /** Set when the pointer named missing weights and an older checkpoint (or epoch 0) was used. */
  repaired?: string;
}

/**
 * A later attempt of the same trial workflow run owns the checkpoint, so this one was given up on before
 * it claimed (its worker hung or was cut off from Temporal past the heartbeat timeout): it must not claim,
 * or it would fence the live attempt and, if the trial has gone past this attempt's segment, wind the
 * trial back to epoch 0.
 */
export class SupersededAttemptError extends Error {
  constructor(trialId: string, owner: string) {
    super(`a later attempt of this trial workflow (${owner}) owns the checkpoint of trial ${trialId}; this attempt was superseded before it started training and stops without writing`);
    this.name = 'SupersededAttemptError';
  }
}

/** This attempt no longer owns the trial's checkpoint: a newer attempt claimed it. */
export class CheckpointFencedError extends Error {
  constructor(trialId: string, owner: string) {
    super(`a newer attempt (${owner}) owns the checkpoint of trial ${trialId}; this attempt stops without writing`);
    this.name = 'CheckpointFencedError';
  }
}

const CLAIM_TRIES = 5;
const encoder = new TextEncoder();

export class TrialCheckpoint {
  private constructor(
    private readonly store: CheckpointStore,
    private readonly trialId: string,
    private readonly owner: string,
    private readonly attempt: AttemptRef | undefined,
    private etag: string,
    private weightsKey: string | undefined,
    private best: CheckpointPointer['best'],
    /** Best weights the store may still hold that the pointer no longer names; deleted once it names newer ones. */
    private staleBestKey: string | undefined,
    /**
     * No pointer existed at the claim: no attempt of any sweep had claimed the trial, and every write
     * under the trial's keys follows a claim, so there is nothing earlier to clean up.
     */
    readonly firstClaim: boolean,
  ) {}

  /**
   * Claims the trial's pointer for attempt `owner` and returns where to resume. `usable` says whether
   * an existing pointer's progress may be kept (else the attempt starts at epoch 0 under `sweepId`).
   * A claim loses only when the pointer moved between read and write (an earlier attempt finished an
   * epoch); it then reads again, a few times at most.
   */
  static async claim(
    store: CheckpointStore, trialId: string, sweepId: string, owner: string, usable: (pointer: CheckpointPointer) => boolean, given: ClaimChecks = {},
  ): Promise<{ checkpoint: TrialCheckpoint; resume: ResumePoint }> {
    const key = artifactKeys.trialCheckpoint(trialId);
    const { attempt } = given;
    for (let tries = 1; ; tries++) {
      const current = await store.read(key);
      const found = current ? JSON.parse(new TextDecoder().decode(current.body)) as CheckpointPointer : undefined;
      // A claim fences every earlier owner; one by an attempt given up on would fence a live one (rule 1).
      // Checked after each read: the claim below is conditional on it, so a hang after the check
      // that lets the pointer move makes the claim fail and the checks run again.
      if (attempt && found?.attempt && supersedes(found.attempt, attempt)) throw new SupersededAttemptError(trialId, found.owner ?? 'unknown');
      given.stillCurrent?.();
      const resume = found && usable(found) ? await resumePoint(store, trialId, found) : { pointer: { sweepId, epoch: 0, epochs: [], adamStep: 0 } };
      const claimed: CheckpointPointer = { ...resume.pointer, owner, attempt };
      try {
        const etag = await store.putIf(key, pointerBytes(claimed), current ? { ifMatch: current.etag } : { ifNoneMatch: '*' });
        // The previous owner's weights stay until this owner has moved past them (rule 2).
        const staleBest = found?.best?.weightsKey === resume.pointer.best?.weightsKey ? undefined : found?.best?.weightsKey;
        return { checkpoint: new TrialCheckpoint(store, trialId, owner, attempt, etag, found?.weightsKey, resume.pointer.best, staleBest, !current), resume: { ...resume, pointer: claimed } };
      } catch (error) {
        if (!(error instanceof PreconditionFailedError) || tries >= CLAIM_TRIES) throw error;
      }
    }
  }

  /**
   * Stores the state after `pointer.epoch` epochs: the weights first, then the pointer (only while this
   * attempt owns it), then the previous weights. `best`, for a trial that keeps its best epoch, is the
   * best epoch so far and its state: when it is newer than the stored best, the pointer names it as the
   * best too: this epoch's own object when it is this epoch (no copy), else its state stored beside
   * (an epoch trained since the last checkpoint). `alongside` writes what must be stored before the
   * pointer names the epoch (its event files), in parallel with the weights; the deletes after the move
   * run in parallel too: each phase costs one round trip, not one per object. Throws
   * CheckpointFencedError once a newer attempt owns it.
   */
  async save(pointer: CheckpointState, weights: Uint8Array, best?: { epoch: number; weights: Uint8Array }, alongside?: () => Promise<void>): Promise<void> {
    const weightsKey = artifactKeys.trialCheckpointWeights(this.trialId, pointer.epoch);
    const previousBest = this.best;
    const writes = [this.store.put(weightsKey, weights)];
    if (best && best.epoch !== previousBest?.epoch) {
      if (best.epoch > pointer.epoch || best.epoch < (previousBest?.epoch ?? 0)) {
        throw new Error(`trial ${this.trialId}: best epoch ${best.epoch} is not between the stored best (${previousBest?.epoch}) and the epoch being saved (${pointer.epoch})`);
      }
      const bestKey = best.epoch === pointer.epoch ? weightsKey : artifactKeys.trialCheckpointWeights(this.trialId, best.epoch);
      if (bestKey !== weightsKey) writes.push(this.store.put(bestKey, best.weights));
      this.best = { epoch: best.epoch, weightsKey: bestKey };
    }
    await allSettledOrThrow([...writes, ...(alongside ? [alongside()] : [])]);
    const next = pointerBytes({ ...pointer, weightsKey, owner: this.owner, attempt: this.attempt, ...(this.best ? { best: this.best } : {}) });
    try {
      this.etag = await this.store.putIf(artifactKeys.trialCheckpoint(this.trialId), next, { ifMatch: this.etag });
    } catch (error) {
      if (!(error instanceof PreconditionFailedError)) throw error;
      // The S3 client sends a request again when its answer was lost: the write may have landed, and its
      // second sending found the pointer moved by itself. The pointer holding exactly these bytes (this
      // owner, this epoch) is this write; anything else is a newer attempt's.
      const current = await this.store.read(artifactKeys.trialCheckpoint(this.trialId));
      if (!current || !Buffer.from(current.body).equals(Buffer.from(next))) throw new CheckpointFencedError(this.trialId, ownerOf(current));
      this.etag = current.etag;
    }
    const stale = [this.weightsKey, previousBest?.weightsKey, this.staleBestKey]
      .filter((key): key is string => key !== undefined && key !== weightsKey && key !== this.best?.weightsKey);
    this.weightsKey = weightsKey;
    this.staleBestKey = undefined;
    await allSettledOrThrow([...new Set(stale)].map((key) => this.store.delete(key)));
  }

  /**
   * After the trial's result is stored: deletes checkpoint weights the pointer does not name (left by
   * attempts that were fenced after writing weights), if this attempt still owns the pointer. The first
   * claimer skips the read and the listings: only attempts that claimed before it can have been fenced,
   * and its own previous weights are deleted as it saves (a failed delete fails the attempt).
   */
  async removeOrphans(): Promise<string[]> {
    if (this.firstClaim) return [];
    const current = await this.store.read(artifactKeys.trialCheckpoint(this.trialId));
    if (current?.etag !== this.etag) return [];
    const stored = await Promise.all([
      this.store.list(artifactKeys.trialCheckpointWeightsPrefix(this.trialId)),
      this.store.list(artifactKeys.trialBestWeightsPrefix(this.trialId)),
    ]);
    const orphans = stored.flat().filter((key) => key !== this.weightsKey && key !== this.best?.weightsKey);
    await allSettledOrThrow(orphans.map((key) => this.store.delete(key)));
    return orphans;
  }

}

function ownerOf(current: { body: Uint8Array } | undefined): string {
  return current ? (JSON.parse(new TextDecoder().decode(current.body)) as CheckpointPointer).owner ?? 'unknown' : 'none';
}

function pointerBytes(pointer: CheckpointPointer): Uint8Array {
  return encoder.encode(JSON.stringify(pointer, null, 1));
}

/**
 * The pointer's state with its weights; when they are gone, the newest checkpoint weights at or below
 * its epoch (every epoch runs the same number of Adam steps, so the step count scales with the epoch).
 */
async function resumePoint(store: CheckpointStore, trialId: string, pointer: CheckpointPointer): Promise<ResumePoint> {
  const fresh = { ...pointer, epoch: 0, epochs: [], adamStep: 0, weightsKey: undefined, best: undefined };
  if (!pointer.weightsKey || pointer.epoch === 0) return { pointer: fresh };
  // Without its best weights a trial that keeps its best epoch cannot go on (the best may never be
  // beaten again), so it trains again from scratch; older checkpoints serve only where the best is not after them.
  const best = pointer.best && await store.read(pointer.best.weightsKey);
  if (pointer.best && !best) {
    return { pointer: fresh, repaired: `checkpoint.json named best weights ${pointer.best.weightsKey}, which do not exist; restarted from epoch 0` };
  }
  const named = await store.read(pointer.weightsKey);
  if (named) return { pointer, weights: named.body, bestWeights: best?.body };
  const stepsPerEpoch = pointer.adamStep / pointer.epoch;
  const prefix = artifactKeys.trialCheckpointWeightsPrefix(trialId);
  const older = (await store.list(prefix))
    .map((key) => ({ key, epoch: Number(key.slice(prefix.length).replace(/\.bin$/, '')) }))
    .filter((c) => Number.isInteger(c.epoch) && c.epoch >= Math.max(1, pointer.best?.epoch ?? 1) && c.epoch < pointer.epoch && Number.isInteger(stepsPerEpoch))
    .sort((a, b) => b.epoch - a.epoch);
  for (const { key, epoch } of older) {
    const found = await store.read(key);
    if (found) {
      return {
        pointer: { ...pointer, epoch, epochs: pointer.epochs.slice(0, epoch), adamStep: stepsPerEpoch * epoch, weightsKey: key },
        weights: found.body,
        bestWeights: best?.body,
        repaired: `checkpoint.json named ${pointer.weightsKey}, which does not exist; resumed from ${key} (epoch ${epoch})`,
      };
    }
  }
  return {
    pointer: fresh,
    repaired: `checkpoint.json named ${pointer.weightsKey}, which does not exist, and no older checkpoint does; restarted from epoch 0`,
  };
}

/** A unique name for this attempt: which activity attempt it is, plus a nonce (two processes may report the same attempt). */
export function attemptOwner(workflowId: string, activityId: string, attempt: number): string {
  return `${workflowId}/${activityId}#${attempt}.${randomUUID().slice(0, 8)}`;
}

/** The attempt's ref for `supersedes`, where its activity id is the SDK's sequence number (always, for trainTrial). */
export function attemptRef(runId: string | undefined, activityId: string, attempt: number): AttemptRef | undefined {
  const activity = Number(activityId);
  return runId && Number.isInteger(activity) ? { runId, activity, attempt } : undefined;
}
