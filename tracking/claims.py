"""Claims: exactly one process trains a (recipe, recipe hash, seed), whatever the timing, across
processes and machines sharing one MLflow store (a sqlite file or a tracking server).

How it is atomic. MLflow has no unique constraint on run tags or run names, so "create a run,
then look for others" cannot decide: two creators that search at different moments, with clocks
that differ, can each believe they were first. Experiment names are unique in every SQL store
(the `uq_experiments_workspace_name` constraint, on sqlite as on PostgreSQL, and a tracking
server answers RESOURCE_ALREADY_EXISTS): whoever creates the experiment

    zoo-claim:<recipe>:<recipe hash>:seed<seed>:<generation>

holds the pair; the database decides, in one transaction, with the holder's host, pid and start
time as the experiment's tags (written in that same transaction). Nothing else is needed.

Dead holders. A holder writes a heartbeat tag every HEARTBEAT_S seconds. A claim whose holder
runs on this host with a dead pid, or (other hosts) whose heartbeat is older than `stale_s`,
or that was released, is taken over by creating the next generation: again one creator wins.
A holder that was only stalled sees the newer generation at its next heartbeat and sets `lost`
(the training loop stops on it). Clocks of different hosts must agree to well within `stale_s`.

A claim's experiment is soft-deleted when released: it leaves the UI's list, and its name stays
reserved (MLflow keeps deleted experiments' names), so generations still count up. `mlflow gc`
may purge them; that only restarts the count, which is safe once no claim is held.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass

from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

PREFIX = "zoo-claim"
HEARTBEAT_S = 30.0
STALE_S = 600.0  # 10 minutes without a heartbeat from another host: its holder is gone


def claim_name(recipe: str, recipe_hash: str, seed: int, generation: int) -> str:
    return f"{PREFIX}:{recipe}:{recipe_hash}:seed{seed}:{generation}"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) a claim, from its experiment's tags."""
    experiment_id: str
    generation: int
    host: str
    pid: int
    run_id: str
    started: float
    heartbeat: float
    state: str  # held, released

    def describe(self) -> str:
        age = max(0.0, time.time() - self.heartbeat)
        run = f"MLflow run {self.run_id}" if self.run_id else "no MLflow run yet"
        return f"process {self.pid} on {self.host} ({run}, last heartbeat {age:.0f} s ago)"

    def gone(self, stale_s: float) -> str | None:
        """Why this holder no longer holds the claim, or None if it may still be working."""
        if self.state != "held":
            return f"released by {self.describe()}"
        if self.host == socket.gethostname():
            if self.pid != os.getpid() and not pid_alive(self.pid):
                return f"its process {self.pid} on {self.host} died"
            return None
        if time.time() - self.heartbeat > stale_s:
            return f"no heartbeat for {time.time() - self.heartbeat:.0f} s from {self.describe()}"
        return None


class ClaimHeld(Exception):
    """Another live process holds the pair."""

    def __init__(self, what: str, holder: Holder):
        super().__init__(f"{what} is being trained by {holder.describe()}")
        self.holder = holder


class ClaimLost(RuntimeError):
    """Another process took this claim over (this one had been silent past its timeout)."""


class Claim:
    """A claim this process holds. Use as a context manager: released on exit (an exception
    included), heartbeat running meanwhile."""

    def __init__(self, client: MlflowClient, what: str, experiment_id: str, name: str,
                 generation: int, took_over: str | None):
        self.client, self.what, self.experiment_id, self.name = client, what, experiment_id, name
        self.generation, self.took_over = generation, took_over
        self.lost = threading.Event()  # set when another process took the claim over
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"claim {what}", daemon=True)

    def check(self):
        """Raise ClaimLost if another process took the claim over: its holder must stop."""
        if self.lost.is_set():
            raise ClaimLost(f"{self.what}: taken over by another process while this one was "
                            "silent; it stops here")

    def attach_run(self, run_id: str):
        """Record the MLflow run that trains the pair (who holds it, for the others)."""
        self.client.set_experiment_tag(self.experiment_id, "run_id", run_id)

    def _beat(self):
        while not self._stop.wait(HEARTBEAT_S):
            try:
                if _generations(self.client, self.name.rsplit(":", 1)[0])[-1][0] > \
                        self.generation:
                    self.lost.set()  # taken over while we were stalled: stop training
                    return
                self.client.set_experiment_tag(self.experiment_id, "heartbeat", str(time.time()))
            except Exception:  # a server briefly down: the next beat tries again
                continue

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.release()
        return False

    def release(self):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        try:
            self.client.set_experiment_tag(self.experiment_id, "state", "released")
            self.client.delete_experiment(self.experiment_id)  # out of the UI; name reserved
        except MlflowException:
            pass  # already released or deleted (e.g. taken over): nothing left to do


def _generations(client: MlflowClient, base: str):
    """[(generation, experiment)] of the pair's claims so far, oldest first."""
    found = []
    page = None
    while True:
        # LIKE's "_" matches any character (recipe names hold some): the exact prefix is
        # checked below
        batch = client.search_experiments(view_type=ViewType.ALL, max_results=1000,
                                          filter_string=f"name LIKE '{base}:%'", page_token=page)
        for exp in batch:
            head, _, tail = exp.name.rpartition(":")
            if head == base and tail.isdigit():
                found.append((int(tail), exp))
        page = batch.token
        if not page:
            return sorted(found, key=lambda pair: pair[0])


def _holder(generation: int, exp) -> Holder:
    tags = exp.tags
    started = float(tags.get("started", "0") or 0)
    return Holder(exp.experiment_id, generation, tags.get("host", "?"),
                  int(tags.get("pid", "0") or 0), tags.get("run_id", ""), started,
                  float(tags.get("heartbeat", started) or started),
                  "held" if exp.lifecycle_stage == "active" and tags.get("state") == "held"
                  else "released")


def try_claim(recipe: str, recipe_hash: str, seed: int, *, tracking_uri: str | None = None,
              artifact_location: str | None = None, stale_s: float = STALE_S) -> Claim:
    """Claim (recipe, recipe_hash, seed) for this process, or raise ClaimHeld naming who holds
    it. The caller must check again, once it holds the claim, that the pair is not finished:
    its previous holder may have finished it just before releasing."""
    from tracking.store import _artifact_location, tracking_uri as current_uri

    uri = tracking_uri or current_uri()
    client = MlflowClient(uri)
    if artifact_location is None:  # a sqlite store: beside it, as its experiments (never used)
        artifact_location = _artifact_location(uri, PREFIX)
    what = f"{recipe} seed {seed}"
    base = claim_name(recipe, recipe_hash, seed, 0).rsplit(":", 1)[0]
    for _ in range(5):  # each turn, someone else won a race; the next look sees them
        existing = _generations(client, base)
        took_over = None
        if existing:
            holder = _holder(*existing[-1])
            took_over = holder.gone(stale_s)
            if took_over is None:
                raise ClaimHeld(what, holder)
        generation = existing[-1][0] + 1 if existing else 1
        now = str(time.time())
        tags = {"host": socket.gethostname(), "pid": str(os.getpid()), "started": now,
                "heartbeat": now, "state": "held", "recipe": recipe, "recipe_hash": recipe_hash,
                "seed": str(seed)}
        if took_over:
            tags["took_over"] = took_over[:4000]
        name = claim_name(recipe, recipe_hash, seed, generation)
        try:
            exp_id = client.create_experiment(name, artifact_location=artifact_location,
                                              tags=tags)
        except MlflowException as err:
            if err.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
            continue  # another process created this generation first
        if existing and took_over:
            _close_previous(client, _holder(*existing[-1]), took_over)
        return Claim(client, what, exp_id, name, generation, took_over)
    raise ClaimHeld(what, _holder(*_generations(client, base)[-1]))


def _close_previous(client: MlflowClient, holder: Holder, why: str):
    """Mark the previous holder's claim released and its run KILLED, if still RUNNING."""
    try:
        client.set_experiment_tag(holder.experiment_id, "state", "released")
        client.delete_experiment(holder.experiment_id)
    except MlflowException:
        pass  # released meanwhile
    if holder.run_id:
        try:
            if client.get_run(holder.run_id).info.status == "RUNNING":
                client.set_tag(holder.run_id, "ended_by", f"claim taken over: {why}"[:5000])
                client.set_terminated(holder.run_id, "KILLED")
        except MlflowException:
            pass  # the run was deleted: nothing to close
