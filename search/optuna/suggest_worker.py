"""Temporal worker for Bayesian suggestions: one activity, suggestTrials, on its own task queue.

The TS sweep workflow schedules it by name on that queue (Temporal routes activities to workers of
any language); both sides use the default JSON payload converter, so the request and the result
are plain JSON (see suggest.py for their shape).

  TEMPORAL_ADDRESS       default 127.0.0.1:7233
  TEMPORAL_NAMESPACE     default "default"
  SWEEP_SUGGEST_QUEUE    default sweep-suggest
  SWEEP_METRICS_ADDRESS  host:port where it serves the SDK's metrics for Prometheus (unset: none); its
                         launcher (workers/run-workers.ts) gives it the port after the node's others
  SWEEP_NODE_NAME        the node its metrics name (default: the host name)
  and the rest of Temporal's client environment, as the TS workers read it: TEMPORAL_API_KEY,
  TEMPORAL_TLS*, TEMPORAL_GRPC_META_*, TEMPORAL_PROFILE and TEMPORAL_CONFIG_FILE (a temporal.toml)

On SIGTERM or SIGINT it stops polling and finishes the suggestions in progress (a few seconds
each) before it exits, so a redeploy loses none to their start-to-close timeout. With
--stop-when-stdin-closes (how the TS launcher runs it, stdin a pipe from the launcher) it stops the
same way once stdin closes: a launcher killed with kill -9 leaves no orphan serving on.

Run: .stack/search-venv/bin/python search/optuna/suggest_worker.py
"""
import asyncio
import concurrent.futures
import json
import os
import signal
import socket
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio import activity
from temporalio.client import Client
from temporalio.envconfig import ClientConfig
from temporalio.exceptions import ApplicationError
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import Worker

from suggest import suggest


# Far more than a suggestion takes (seconds), and within the 30 s a Kubernetes pod gets to stop;
# a sync activity cannot be interrupted anyway.
SUGGESTION_GRACE = timedelta(seconds=20)
# As the TS workers (platform/temporal-connection.ts WORKER_HEARTBEAT_INTERVAL): the CLI tells a killed
# worker from a live one by its last heartbeat (cli/worker-liveness.ts). The SDK's default is 60 s.
WORKER_HEARTBEAT_INTERVAL = timedelta(seconds=10)

# Suggestions computed at once (TPE is CPU-bound numpy work).
SUGGESTION_THREADS = 2

# The sweep gives suggestTrials a 20 s heartbeat timeout (a suggestion lost with its worker is asked
# again after that, not after the 5-minute start-to-close): heartbeat well within it.
HEARTBEAT_EVERY_SECONDS = 5.0


@activity.defn(name="suggestTrials")
def suggest_trials(request: dict) -> list[dict]:
    # Pure in its input, so Temporal's retries and a replayed sweep get the same suggestions; and
    # for the same reason a request Optuna refuses would be refused again: fail it without retry,
    # as a SpecError (the trial workflows' non-retryable type).
    try:
        return heartbeating(lambda: suggest(request))
    except (ValueError, KeyError, TypeError) as error:
        raise ApplicationError(f"suggestTrials: {error}", type="SpecError", non_retryable=True) from error


def heartbeating(compute):
    """compute() on a thread of its own, heartbeating from the activity's thread until it returns (or raises)."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        answer = pool.submit(compute)
        while True:
            activity.heartbeat()
            done, _ = concurrent.futures.wait([answer], timeout=HEARTBEAT_EVERY_SECONDS)
            if done:
                return answer.result()
    finally:
        # An attempt cancelled or timed out (the SDK raises in this thread) ends now, freeing its slot; the
        # computation it started runs out on its own thread, its answer unused.
        pool.shutdown(wait=False, cancel_futures=True)


def connect_config() -> dict:
    """Temporal's client environment (profile, then TEMPORAL_* variables), as the TS workers read it."""
    config = dict(ClientConfig.load_client_connect_config(profile=os.environ.get("TEMPORAL_PROFILE")))
    config.setdefault("target_host", "127.0.0.1:7233")
    config.setdefault("namespace", "default")
    return config


def telemetry(address: str | None) -> TelemetryConfig:
    """Metrics for Prometheus at `address` (host:port), as the TS workers serve theirs: the SDK's own,
    every one tagged with the node, counters ending in _total and durations in seconds. None: no metrics."""
    if not address:
        return TelemetryConfig()
    prometheus = PrometheusConfig(bind_address=address, counters_total_suffix=True, durations_as_seconds=True)
    return TelemetryConfig(metrics=prometheus, global_tags={"node": os.environ.get("SWEEP_NODE_NAME") or socket.gethostname()})


def when_stdin_closes(callback) -> None:
    """Calls callback (on a thread of its own) once stdin reaches its end: the launcher's end of the pipe closed."""
    def wait() -> None:
        try:
            while sys.stdin.buffer.read(65536):
                pass
        except (AttributeError, OSError) as error:
            # No stdin to watch (closed, or unreadable): serve on rather than stop, since a worker that
            # stops by itself exits 0 and is not started again.
            print(f"[suggest-worker] cannot watch stdin ({error!r}): this worker will not stop with its launcher", file=sys.stderr, flush=True)
            return
        callback()
    threading.Thread(target=wait, name="stdin-watch", daemon=True).start()


async def main(stop_when_stdin_closes: bool) -> None:
    config = connect_config()
    address, namespace = config["target_host"], config["namespace"]
    queue = os.environ.get("SWEEP_SUGGEST_QUEUE", "sweep-suggest")
    metrics = os.environ.get("SWEEP_METRICS_ADDRESS")
    try:
        runtime = Runtime(telemetry=telemetry(metrics), worker_heartbeat_interval=WORKER_HEARTBEAT_INTERVAL)
    except ValueError as error:
        # The runtime binds the port as it starts: a port taken, or not host:port, is the setting's to fix.
        # (Exit status 2 with an "error: " line: its launcher, workers/suggest-worker.ts, reports it as a setting's.)
        print(f"error: SWEEP_METRICS_ADDRESS={metrics}: {error}; choose a free port (run by workers/run-workers.ts, "
              "the suggest worker takes the port after its node's other processes')", file=sys.stderr, flush=True)
        sys.exit(2)
    if metrics:
        print(f"[suggest-worker] metrics for Prometheus at http://{metrics}/metrics (SWEEP_METRICS_ADDRESS)", flush=True)
    try:
        client = await Client.connect(**config, runtime=runtime)
    except RuntimeError as error:
        # One line, not a traceback: the cause is the server or the settings, not this code. Exit 1, not
        # 2: its launcher then asks the server what keeps it out (TLS, say) and names the setting.
        print(f"[suggest-worker] could not connect to Temporal at {address} ({namespace}): {error}", file=sys.stderr, flush=True)
        sys.exit(1)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if stop_when_stdin_closes:
        when_stdin_closes(lambda: loop.call_soon_threadsafe(stop.set))
    # Sync activity: TPE runs on threads, off the event loop.
    with ThreadPoolExecutor(max_workers=SUGGESTION_THREADS) as executor:
        # As many suggestions taken as threads to run them: a task taken and left waiting in the worker
        # would count against its 20 s heartbeat timeout; on the server it waits for any worker.
        worker = Worker(client, task_queue=queue, activities=[suggest_trials], activity_executor=executor,
                        max_concurrent_activities=SUGGESTION_THREADS, graceful_shutdown_timeout=SUGGESTION_GRACE)
        # Leaving the block shuts the worker down: no more polls; running suggestions get SUGGESTION_GRACE to finish.
        # (A fatal worker error cancels the block and is raised from it: the process exits with it.)
        async with worker:
            print(f"[suggest-worker] serving suggestTrials on task queue {queue} at {address} ({namespace})", flush=True)
            await stop.wait()
            print("[suggest-worker] stopping: finishing the suggestions in progress", flush=True)
    print("[suggest-worker] stopped", flush=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--print-connect-config"]:
        # What the worker would connect with (the API key masked); for tests and operators.
        shown = {k: ("***" if k == "api_key" else v if isinstance(v, (str, bool, dict)) else repr(v)) for k, v in connect_config().items()}
        print(json.dumps(shown, sort_keys=True, default=repr))
    elif sys.argv[1:] in ([], ["--stop-when-stdin-closes"]):
        asyncio.run(main(stop_when_stdin_closes=sys.argv[1:] == ["--stop-when-stdin-closes"]))
        # Shut down and done. The SDK's Rust threads can still call into Python while the interpreter
        # finalizes (a crash at exit in about 1 of 7 stops here, temporalio 1.35), so skip finalizing.
        sys.stdout.flush()
        os._exit(0)
    else:
        print(f"usage: {sys.argv[0]} [--stop-when-stdin-closes | --print-connect-config]", file=sys.stderr)
        sys.exit(2)
