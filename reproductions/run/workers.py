"""Several runs at once: `reproduce --jobs N` trains the pairs left with N worker processes.

Why processes, each with its share of the cores: one TensorFlow process keeps 2 cores busy only
part of a step (profile_conv3_bn+threads=all.md: 72%; small nets are mostly Python between ops),
while a single-threaded process keeps its core busy (profile_conv3_bn.md: 97%). Measured on the
whole job, old code against
new: reproductions/results/reproduce_jobs_timing.md (`python -m reproductions time-job`).

How the pairs are shared: every worker walks the same list, longest runs first (the committed
per-seed times), and trains whichever pair it can claim (tracking/claims.py): a pair a sibling
holds is skipped, so each pair is trained by exactly one process, as when several `reproduce`
commands share a store. Each worker sets TensorFlow's intra- and inter-op threads to its share
of the cores before TensorFlow starts (a fresh interpreter: the "spawn" start method). The
workers send their progress to this process, which prints one display for all.

Ctrl-C (in a terminal it reaches every process of the job; here it is also passed on): each worker
stops its run at the next batch's end (reproductions/run/interrupt.py), ends it as KILLED and
keeps its checkpoint, as a single process does; `reproduce` again resumes every interrupted pair.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import sys
import traceback

WAIT_ON_STOP_S = 120.0  # a worker's last checkpoint and its run's KILLED status


class WorkerError(Exception):
    """A worker stopped on a bad store or bad data (TrackingError, DataError): its message."""


class WorkerCrashed(Exception):
    """A worker died of a bug or was killed (out of memory?): its traceback is in the log."""


def default_jobs() -> int:
    """One single-threaded worker a core: on the 2-core machines here, two workers beat one
    process with both cores on every recipe of the job (reproduce_jobs_timing.md)."""
    return os.cpu_count() or 1


def thread_split(jobs: int, cores: int | None = None) -> int:
    """Each worker's TensorFlow threads (intra-op and inter-op alike): its share of the cores."""
    return max(1, (cores or os.cpu_count() or 1) // jobs)


def longest_first(todo: list, rows: list[dict]) -> list[int]:
    """The pairs' indices, longest expected run first, so that the last runs to finish are short
    ones and no core idles long at the end; a recipe without a committed time goes first."""
    from reproductions.run.estimate import reference

    def expected(i):
        ref = reference(rows, todo[i][0])
        return float("inf") if ref is None else ref[0]
    return sorted(range(len(todo)), key=lambda i: -expected(i))


class _Progress:
    """In a worker: train_run's progress calls, sent to the display as (kind, worker, pair)."""

    def __init__(self, events, worker, todo):
        self.events, self.worker = events, worker
        self.index = {(recipe.name, seed): i for i, (recipe, seed) in enumerate(todo)}

    def epoch_done(self, recipe, seed, epoch, logs):
        self.events.put(("epoch", self.worker, self.index[recipe.name, seed],
                         (epoch, {k: float(v) for k, v in logs.items()})))

    def skipped(self, recipe, seed):
        self.events.put(("skipped", self.worker, self.index[recipe.name, seed], None))


def _worker(worker, todo, order, data_dir, threads, log, events):
    """A worker process: its threads first, before TensorFlow starts; then the pairs in order.
    Ctrl-C stops its run at a batch's end (reproductions/run/interrupt.py), as in one process."""
    try:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
        from reproductions.run import console, interrupt

        console.keras_to_the_log()
        console.current_log = log  # each run logs the job's log as an artifact
        with interrupt.deferred():
            _train_pairs(worker, todo, order, data_dir, events)
    except KeyboardInterrupt:
        events.put(("interrupted", worker, None, None))
    except Exception as err:  # noqa: BLE001 (a bug: its traceback to the log, a line to the user)
        traceback.print_exc()
        events.put(("crash", worker, None, f"{type(err).__name__}: {err}"))


def _train_pairs(worker, todo, order, data_dir, events):
    """In a worker: train every pair of `order` no sibling holds, saying how each went, then
    that the worker is done (exit) or stopped on a bad store or data (error)."""
    from reproductions.run.interrupt import check
    from reproductions.run.train import train_run
    from tracking import TrackingError
    from tracking.claims import ClaimHeld
    from zoo.data import DataError

    progress = _Progress(events, worker, todo)
    for i in order:
        check()  # Ctrl-C between two pairs: no new one starts
        recipe, seed = todo[i]
        try:
            result = train_run(recipe, seed, data_dir=data_dir, progress=progress)
        except ClaimHeld:  # a sibling (or another process sharing the store) trains it
            continue
        except (TrackingError, DataError) as err:
            events.put(("error", worker, i, str(err)))
            return
        if not result.get("skipped"):
            events.put(("done", worker, i, {k: result[k] for k in
                                            ("test_accuracy", "peak_test_accuracy", "wall_s")
                                            if k in result}))
    events.put(("exit", worker, None, None))


def train_parallel(todo: list, jobs: int, data_dir, progress, rows: list[dict], log,
                   on_done, threads: int | None = None) -> list[int]:
    """Train the pairs of `todo` with `jobs` workers (`threads` each, default: their share of
    the cores); progress.epoch_done/skipped as the runs go, on_done(recipe, seed, result) as
    each ends. Returns the indices of the pairs trained.
    Raises KeyboardInterrupt once every worker has stopped (Ctrl-C), WorkerError (a bad store or
    data: the first worker's message) or WorkerCrashed once the others have stopped too."""
    context = multiprocessing.get_context("spawn")
    events = context.Queue()
    threads = threads or thread_split(jobs)
    order = longest_first(todo, rows)
    workers = [context.Process(target=_worker, name=f"reproduce-worker-{k}",
                               args=(k, todo, order, data_dir, threads, log, events))
               for k in range(jobs)]
    for w in workers:
        w.start()
    print(f"{jobs} workers, {threads} thread(s) each (pids "
          f"{', '.join(str(w.pid) for w in workers)})", flush=True)
    trained, ended, failure, stopping = [], set(), None, False
    try:
        while len(ended) < jobs:
            try:
                kind, worker, i, payload = events.get(timeout=1.0)
            except queue.Empty:
                for k, w in enumerate(workers):  # killed (out of memory?) without a word
                    if k not in ended and not w.is_alive() and events.empty():
                        ended.add(k)
                        failure = failure or WorkerCrashed(
                            f"worker {k} (pid {w.pid}) died with exit code {w.exitcode}")
                continue
            if kind == "epoch":
                recipe, seed = todo[i]
                progress.epoch_done(recipe, seed, *payload)
            elif kind == "skipped":
                progress.skipped(*todo[i])
            elif kind == "done":
                trained.append(i)
                on_done(*todo[i], payload)
            else:  # exit, interrupted, error, crash: that worker has stopped
                ended.add(worker)
                if kind == "error":
                    failure = failure or WorkerError(payload)
                elif kind == "crash":
                    failure = failure or WorkerCrashed(f"worker {worker} failed: {payload} "
                                                      f"(its traceback: {log or 'above'})")
                elif kind == "interrupted":  # one worker stopped: the job is, as a whole
                    failure = failure or KeyboardInterrupt()
                if failure is not None and not stopping:
                    stopping = _stop(workers, ended)
    except KeyboardInterrupt:
        if not stopping:
            _stop(workers, ended)
        raise
    finally:
        _join(workers, events)
    if failure is not None:
        raise failure
    return trained


def _join(workers, events) -> None:
    """Wait for the workers to exit, reading what they still send (a worker exits only once its
    queue is flushed); one still there after WAIT_ON_STOP_S is terminated."""
    for w in workers:
        for _ in range(int(WAIT_ON_STOP_S)):
            w.join(timeout=1.0)
            while True:
                try:
                    events.get_nowait()
                except queue.Empty:
                    break
            if not w.is_alive():
                break
        if w.is_alive():
            w.terminate()


def _stop(workers, ended) -> bool:
    """SIGINT to every worker still working: it ends its run as KILLED, keeps its checkpoint."""
    for k, w in enumerate(workers):
        if k not in ended and w.is_alive():
            try:
                os.kill(w.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
    print("stopping the workers (each keeps its run's last checkpoint)...", file=sys.stderr,
          flush=True)
    return True
