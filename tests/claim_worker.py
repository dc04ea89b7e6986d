"""One contender of the claims test (tests/test_reliability_claims.py): waits at the barrier
(ready files, then a go file), then does what reproduce does for each pair: skip it if
FINISHED, else claim it, check again, "train" (a sleep and a FINISHED MLflow run), release.
Prints one line per pair."""

import os
import random
import sys
import time
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient

from tracking import claims
from tracking.store import check_store, experiment_id


def finished(client, exp, recipe, seed):
    runs = client.search_runs([exp], f"tags.recipe = '{recipe}' and tags.seed = '{seed}'")
    return any(r.info.status == "FINISHED" for r in runs)


def main(barrier: str, trained_log: str, pairs: str, train_s: float, die: bool = False):
    # the barrier: say we are ready (imports done), then leave when the test says go, all at once
    # a slow store (a server far away): the gap between looking at a claim and creating one
    # widens, so an implementation that checks then acts would let two contenders in
    look = claims._generations

    def slow_look(*args, **kwargs):
        found = look(*args, **kwargs)
        time.sleep(random.uniform(0, 0.3))
        return found

    claims._generations = slow_look
    Path(f"{barrier}.ready.{os.getpid()}").touch()
    while not Path(f"{barrier}.go").exists():
        time.sleep(0.001)
    check_store("zoo-claims-test")
    exp = experiment_id("zoo-claims-test")
    client = MlflowClient()
    for pair in pairs.split(","):
        recipe, seed = pair.split(":")
        if finished(client, exp, recipe, seed):
            print(f"{pair} finished", flush=True)
            continue
        try:
            claim = claims.try_claim(recipe, "h4sh", int(seed), stale_s=5)
        except claims.ClaimHeld as held:
            print(f"{pair} held: {held}", flush=True)
            continue
        with claim:
            if finished(client, exp, recipe, seed):
                print(f"{pair} finished", flush=True)
                continue
            with mlflow.start_run(experiment_id=exp, tags={"recipe": recipe, "seed": seed}) as run:
                claim.attach_run(run.info.run_id)
                with open(trained_log, "a") as f:
                    f.write(f"{pair} {os.getpid()} {claim.took_over or ''}\n")
                time.sleep(train_s)
                if die:  # as kill -9 would: no release, no end of run
                    os._exit(9)
            print(f"{pair} trained", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), "--die" in sys.argv)
