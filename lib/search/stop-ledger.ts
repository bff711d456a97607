// The sweep's book of early-stopping decisions, made the same way in every run of the same spec and
// seed, whatever the timing: the decision for trial i at epoch e considers exactly the trials before
// it in plan order (and itself) that reached e, and is made only once each earlier trial has reported
// e, been stopped before e, or ended. Trials start in plan order, so the wait is for trials already
// running. Pure, so the sweep workflow keeps it in memory and a replay rebuilds it from the signals.
import { EarlyStopping, StopDecision, TrialHistory, decisionEpochs, stopDecision } from './early-stopping';
import { Objective } from './objective';

/** A trial's objective values after epochs 1..epoch (JSON null for NaN), sent when it reaches a decision epoch. */
export interface EpochReport {
  run: number;
  trialId: string;
  epoch: number;
  values: Array<number | null>;
}

/**
 * The ledger carried to the sweep's next run (continue-as-new): taken when no trial is running, so every
 * run before `endedBefore` has ended and only the objective values reported so far matter. Of an ended
 * trial, later decisions read how far it got and its values at decision epochs only (another trial's
 * value at the epoch decided), so since patch `sweep-ledger-at-decisions` only those are carried.
 */
export interface LedgerState {
  endedBefore: number;
  /** Carried before the patch: [run, trial id, values of every epoch reached (JSON null for NaN)] */
  histories: Array<[number, string, Array<number | null>]>;
  /** [run, trial id, epochs reached, values at the rule's decision epochs up to it, in order (JSON null for NaN)] */
  atDecisions?: Array<[number, string, number, Array<number | null>]>;
}

export class StopLedger {
  private readonly histories = new Map<number, TrialHistory>();
  private readonly stoppedAt = new Map<number, number>();
  private readonly ended = new Set<number>();
  /** Reports waiting for their decision, by run then epoch. */
  private pending: EpochReport[] = [];
  private endedBefore = 1;
  /** Carried at decision epochs only: a carried history holds NaN between them. */
  private readonly trimmed: boolean;

  constructor(private readonly rule: EarlyStopping, private readonly objective: Objective, state?: LedgerState) {
    this.trimmed = !!state?.atDecisions;
    if (!state) return;
    this.endedBefore = state.endedBefore;
    for (const [run, trialId, values] of state.histories) this.histories.set(run, { trialId, values: values.map((v) => v ?? NaN) });
    for (const [run, trialId, reached, values] of state.atDecisions ?? []) {
      // The epochs between decisions are never read: NaN keeps the history's length (how far it got).
      const full = new Array<number>(reached).fill(NaN);
      this.decidedUpTo(reached).forEach((epoch, i) => { full[epoch - 1] = values[i] ?? NaN; });
      this.histories.set(run, { trialId, values: full });
    }
  }

  /**
   * Its carried form, taken between runs: no trial is running, so a report still pending is a repeat from
   * an ended trial. `atDecisionsOnly`: the values at decision epochs alone (a sweep with the patch).
   */
  state(endedBefore: number, atDecisionsOnly = false): LedgerState {
    const runs = [...this.histories].sort(([a], [b]) => a - b);
    const json = (values: readonly number[]) => values.map((v) => (Number.isNaN(v) ? null : v));
    if (!atDecisionsOnly) return { endedBefore, histories: runs.map(([run, h]) => [run, h.trialId, json(h.values)]) };
    return {
      endedBefore,
      histories: [],
      atDecisions: runs.map(([run, h]) => [run, h.trialId, h.values.length, json(this.decidedUpTo(h.values.length).map((epoch) => h.values[epoch - 1]))]),
    };
  }

  /** The epochs up to `epoch` at which the rule decides, for any trial (decisionEpochs leaves out a trial's last). */
  private decidedUpTo(epoch: number): number[] {
    return decisionEpochs(this.rule, epoch + 1);
  }

  report(report: EpochReport): void {
    const values = report.values.map((v) => v ?? NaN);
    const known = this.histories.get(report.run);
    if (!known || known.values.length < values.length) this.histories.set(report.run, { trialId: report.trialId, values });
    // A repeated report (a retried signal) waiting for its decision is not queued twice; one that came
    // after its decision is decided again, the same way (the decision is a function of the reports).
    if (!this.pending.some((p) => p.run === report.run && p.epoch === report.epoch)) this.pending.push(report);
  }

  /** Runs whose report waits for its decision, with the epoch they reached (the sweep's live view shows them waiting). */
  waiting(): Map<number, number> {
    return new Map(this.pending.map((p) => [p.run, p.epoch]));
  }

  /** Trial `run` has finished (completed, stopped, failed or cancelled): it reports nothing more. */
  end(run: number): void {
    this.ended.add(run);
  }

  /** The decisions that can be made now, in plan order; each is made once. */
  ready(): Array<{ run: number; decision: StopDecision }> {
    const made: Array<{ run: number; decision: StopDecision }> = [];
    for (const report of this.pending.slice().sort((a, b) => a.run - b.run || a.epoch - b.epoch)) {
      if (!this.settled(report.run, report.epoch)) continue;
      let cohort = [...this.histories].filter(([run, h]) => run <= report.run && h.values.length >= report.epoch).map(([, h]) => h);
      // Its own values come first: a trial of an earlier run with the same id (a repeat that trained again,
      // planned by a CPU worker from before repeats were marked) holds NaN between decision epochs once
      // carried, and the rule takes a trial's best value so far from the first history with its id.
      const own = this.histories.get(report.run)!;
      if (this.trimmed) cohort = [own, ...cohort.filter((h) => h !== own)];
      const decision = stopDecision(report.trialId, report.epoch, cohort, this.rule, this.objective);
      if (decision.stop) this.stoppedAt.set(report.run, report.epoch);
      this.pending = this.pending.filter((p) => p !== report);
      made.push({ run: report.run, decision });
    }
    return made;
  }

  /** Whether every trial before `run` has reported `epoch`, been stopped before it, or ended. */
  private settled(run: number, epoch: number): boolean {
    for (let earlier = this.endedBefore; earlier < run; earlier++) {
      const reached = (this.histories.get(earlier)?.values.length ?? 0) >= epoch;
      const stopped = (this.stoppedAt.get(earlier) ?? Infinity) < epoch;
      if (!reached && !stopped && !this.ended.has(earlier)) return false;
    }
    return true;
  }
}
