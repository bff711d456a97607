"""Bayesian suggestions: Optuna's TPE sampler as a pure function of its input.

suggest(request) builds a fresh in-memory study, replays the finished trials into it and asks for
`count` new configurations. Nothing is kept between calls, so a retried or replayed activity with
the same request gets the same answer, and the sweep workflow's history stays the only record.

Request (JSON, the same shape the TS side sends):
  {"space": {name: domain, ...},            # lib/search/space.ts domains: choice, uniform, loguniform, int
   "seed": 42,
   "objective": {"metric": "valAccuracy", "direction": "maximize"},
   "finished": [{"params": {...}, "value": 0.91}, ...],   # in a fixed order (TPE weighs by it)
   "count": 4,
   "startupTrials": 6}                     # random suggestions before TPE models anything (absent: Optuna's 10)
A finished trial's value is its objective; null marks a failed trial (TPE ignores it), or with
"divergedAtEpoch": e a trial whose objective was NaN at epoch e (a diverged head): it goes in as
PRUNED with no value, which TPE ranks below every other trial, so it learns to avoid the region. With
"stoppedAtEpoch": e it was stopped early, value being its objective at epoch e: it goes in as
Optuna's PRUNED, which TPE ranks below every completed trial, then by how far it got.
Returns a list of `count` parameter dicts.

Run as a script it reads one request on stdin and prints the suggestions as JSON (tests use that).
"""
import hashlib
import json
import sys

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.samplers import TPESampler
from optuna.trial import TrialState, create_trial

optuna.logging.set_verbosity(optuna.logging.WARNING)


def distributions_of(space: dict) -> dict[str, BaseDistribution]:
    """Optuna distributions for the space's domains, in the space's key order."""
    out: dict[str, BaseDistribution] = {}
    for name, d in space.items():
        kind = d["type"]
        if kind == "choice":
            out[name] = CategoricalDistribution(d["values"])
        elif kind in ("uniform", "loguniform"):
            out[name] = FloatDistribution(d["low"], d["high"], log=kind == "loguniform")
        elif kind == "int":
            out[name] = IntDistribution(d["low"], d["high"], step=d.get("step", 1))
        else:
            raise ValueError(f"space.{name}: unknown domain type {kind!r}; use choice, uniform, loguniform or int")
    return out


def batch_seed(seed: int, finished: int) -> int:
    """The sampler's seed for the batch after `finished` trials.

    Each call builds a fresh study, so a sampler seeded with the sweep's seed alone would start its
    random stream over every batch: the 10 random start-up trials came out as the first batch's 2
    configurations 5 times over. One long-lived study draws on; a seed of (seed, trials so far) does
    the same while keeping the call a pure function of its request.
    """
    digest = hashlib.sha256(f"{seed}/{finished}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def suggest(request: dict) -> list[dict]:
    space = request["space"]
    # Sorted names: the suggestions depend on the space's content, not on the key order a JSON
    # encoder happened to write (Temporal's Python converter sorts keys, JSON.stringify does not).
    distributions = distributions_of({name: space[name] for name in sorted(space)})
    direction = request.get("objective", {}).get("direction", "maximize")
    finished = request.get("finished", [])
    # Optuna's defaults (multivariate TPE, constant liar) after `startupTrials` random suggestions, seeded per batch.
    sampler = TPESampler(seed=batch_seed(request["seed"], len(finished)), n_startup_trials=request.get("startupTrials", 10))
    study = optuna.create_study(direction=direction, sampler=sampler)
    for i, trial in enumerate(finished):
        params = trial["params"]
        missing = [name for name in distributions if name not in params]
        if missing:
            raise ValueError(f"finished[{i}]: params lack {', '.join(missing)}; every finished trial must carry the space's hyperparameters")
        value, stopped_at, diverged_at = trial.get("value"), trial.get("stoppedAtEpoch"), trial.get("divergedAtEpoch")
        if value is None and diverged_at is not None:
            # No intermediate value: TPE ranks such a pruned trial below every other (one with a value
            # at its last step ranks by that step first, above the trials stopped earlier).
            outcome = {"state": TrialState.PRUNED}
        elif value is None:
            outcome = {"state": TrialState.FAIL}
        elif stopped_at is not None:
            outcome = {"state": TrialState.PRUNED, "intermediate_values": {stopped_at: value}}
        else:
            outcome = {"state": TrialState.COMPLETE, "value": value}
        study.add_trial(create_trial(params={name: params[name] for name in distributions}, distributions=distributions, **outcome))
    # Asked trials stay RUNNING; with constant_liar (the default) TPE spreads a batch out instead of
    # proposing the same point `count` times.
    tried = {config_key(trial["params"], distributions) for trial in finished}
    asked = []
    for _ in range(request["count"]):
        params = ask_untried(study, distributions, tried)
        tried.add(config_key(params, distributions))
        asked.append(params)
    return [{name: params[name] for name in space} for params in asked]


# A configuration already tried would be the same trial (its id is a hash of its inputs): the sweep
# would reuse it and spend budget without training anything. TPE proposes such repeats in spaces of
# choices and integers, more often as it converges. A repeat is left RUNNING, which the constant liar
# scores as the worst result, so TPE turns away from it, and TPE is asked again. Past this many
# redraws the space has few untried configurations left, and the repeat stands.
MAX_REDRAWS = 50


def config_key(params: dict, distributions: dict[str, BaseDistribution]) -> str:
    # Optuna's internal form (a float, or a choice's index), so 1 and 1.0 are one value, as in the trial id.
    return json.dumps([d.to_internal_repr(params[name]) for name, d in distributions.items()])


def ask_untried(study: optuna.Study, distributions: dict[str, BaseDistribution], tried: set[str]) -> dict:
    for _ in range(MAX_REDRAWS):
        trial = study.ask(distributions)
        if config_key(trial.params, distributions) not in tried:
            return trial.params
    return study.ask(distributions).params


if __name__ == "__main__":
    json.dump(suggest(json.load(sys.stdin)), sys.stdout)
    sys.stdout.write("\n")
