"""Screenings chosen blind, by a rule (issue 24): the committed per-run file holds validation
figures only, on seeds no reported run uses, and the file's "chosen" is what the rule picks from
it, recomputed here without the suite's own `choose`."""

import csv
import json
from collections import defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCREENINGS = REPO / "reproductions" / "recipes" / "screening"
RESULTS = REPO / "reproductions" / "results"
RULED = [p.stem for p in sorted(SCREENINGS.glob("*.json")) if "rule" in json.loads(p.read_text())]


def test_conv3_bn_fast_is_chosen_by_a_rule():
    assert "conv3_bn_fast" in RULED


def _reference_pace(spec) -> float | None:
    """The rule's reference pace, read here from the committed per-seed file: images a second of
    the named recipe's declared runs of its current hash."""
    from reproductions.recipes import RECIPES

    if "reference_pace" not in spec["rule"]:
        return None
    recipe = RECIPES[spec["rule"]["reference_pace"]]
    with open(RESULTS / f"{recipe.dataset}_seeds.csv", newline="") as f:
        paces = [float(r["images_per_second"]) for r in csv.DictReader(f)
                 if r["recipe"] == recipe.name and r["recipe_hash"] == recipe.hash()
                 and r["declared"] == "yes"]
    return sum(paces) / len(paces)


@pytest.mark.parametrize("name", RULED)
def test_the_chosen_variant_is_the_rules_choice_from_the_committed_runs(name):
    from reproductions.recipes import RECIPES

    spec = json.loads((SCREENINGS / f"{name}.json").read_text())
    if not (RESULTS / f"{name}_screening.csv").exists():  # declared, not run yet: nothing chosen
        assert spec["chosen"] is None and spec["recipe"] is None
        return
    with open(RESULTS / f"{name}_screening.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert not [c for c in rows[0] if "test" in c]  # validation figures only
    reported = set(RECIPES[spec["recipe"]].seeds) if spec["recipe"] else set()
    pace = _reference_pace(spec)
    by_variant = defaultdict(list)
    for r in rows:
        assert int(r["seed"]) not in reported
        by_variant[r["variant"]].append(r)
    inside = {}
    for v in spec["variants"]:
        mine = by_variant[v["name"]]
        assert sorted(int(r["seed"]) for r in mine) == sorted(v["set"]["seeds"]), v["name"]
        walls = [float(r["wall_s"]) * (1 if pace is None else float(r["images_per_second"]) / pace)
                 for r in mine]
        if sum(walls) / len(walls) <= spec["rule"]["max_wall_s"]:
            loss = sum(float(r["final_val_loss"]) for r in mine) / len(mine)
            acc = sum(float(r["final_val_accuracy"]) for r in mine) / len(mine)
            # lowest loss; or, on accuracy, highest accuracy and then lowest loss
            inside[v["name"]] = (-acc, loss) if spec["rule"]["objective"] == "val_accuracy" \
                else (loss,)
    assert spec["chosen"] == (min(inside, key=inside.get) if inside else None)


def test_a_budget_on_the_reference_kind_scales_a_run_by_its_pace():
    from reproductions.recipes import derive, get_recipe
    from reproductions.search.screen import choose

    base = get_recipe("conv3_bn")
    variants = {n: derive(base, {"seeds": [8]}, name=n) for n in ("fast", "slow")}
    # on a machine half as fast as the reference: 1,500 s here is 750 s there
    rows = [{"variant": "slow", "seed": 8, "final_val_loss": 0.01, "wall_s": 1500,
             "images_per_second": 1000},
            {"variant": "fast", "seed": 8, "final_val_loss": 0.02, "wall_s": 700,
             "images_per_second": 1000}]
    rule = {"objective": "val_loss", "max_wall_s": 900, "reference_pace": "conv7_bn_cosine"}
    assert choose(rows, rule, variants, reference_ips=2000) == "slow"
    assert choose(rows, rule, variants, reference_ips=1000) == "fast"  # as fast: 1,500 s is over
    with pytest.raises(ValueError, match="reference kind"):
        choose(rows, rule, variants)


def test_the_rule_skips_variants_over_budget_or_missing_a_seed():
    from reproductions.recipes import derive, get_recipe
    from reproductions.search.screen import choose

    base = get_recipe("conv3_bn")
    variants = {n: derive(base, {"seeds": [8, 9]}, name=n) for n in ("a", "b", "c")}
    rows = [{"variant": "a", "seed": 8, "final_val_loss": 0.01, "wall_s": 200},  # too slow
            {"variant": "a", "seed": 9, "final_val_loss": 0.01, "wall_s": 200},
            {"variant": "b", "seed": 8, "final_val_loss": 0.02, "wall_s": 50},
            {"variant": "b", "seed": 9, "final_val_loss": 0.03, "wall_s": 50},
            {"variant": "c", "seed": 8, "final_val_loss": 0.001, "wall_s": 50}]  # seed 9 missing
    assert choose(rows, {"objective": "val_loss", "max_wall_s": 120}, variants) == "b"
    assert choose(rows[:2], {"objective": "val_loss", "max_wall_s": 120}, variants) is None


def test_a_rule_on_validation_accuracy_takes_the_highest_and_breaks_ties_by_loss():
    from reproductions.recipes import derive, get_recipe
    from reproductions.search.screen import choose

    base = get_recipe("conv3_bn")
    variants = {n: derive(base, {"seeds": [8, 9]}, name=n) for n in ("a", "b", "c")}
    rule = {"objective": "val_accuracy", "max_wall_s": 120}
    rows = [{"variant": v, "seed": s, "final_val_accuracy": acc, "final_val_loss": loss,
             "wall_s": 50}
            for v, s, acc, loss in (("a", 8, 0.9960, 0.010), ("a", 9, 0.9964, 0.011),
                                    ("b", 8, 0.9966, 0.030), ("b", 9, 0.9962, 0.030),
                                    ("c", 8, 0.9958, 0.005), ("c", 9, 0.9962, 0.006))]
    assert choose(rows, rule, variants) == "b"  # 0.9964 on average, against a's 0.9962
    tied = [dict(r, final_val_accuracy=0.9962) for r in rows]
    assert choose(tied, rule, variants) == "c"  # all tied: the lowest mean loss
    assert choose(rows, {"objective": "val_loss", "max_wall_s": 120}, variants) == "c"


def test_the_reference_pace_is_the_committed_declared_runs_of_the_recipes_hash(tmp_path):
    from reproductions.recipes import get_recipe
    from reproductions.report.pace import on_reference_kind, reference_pace

    current = get_recipe("conv7_bn_cosine").hash()
    (tmp_path / "mnist_seeds.csv").write_text(
        "recipe,recipe_hash,seed,declared,images_per_second\n"
        f"conv7_bn_cosine,{current},1,yes,2000\n"
        f"conv7_bn_cosine,{current},2,yes,2200\n"
        f"conv7_bn_cosine,{current},4,no,100\n"  # not declared: not the reference
        "conv7_bn_cosine,0123456789ab,3,yes,100\n")  # another version of the recipe
    assert reference_pace("conv7_bn_cosine", tmp_path) == 2100
    with pytest.raises(ValueError, match="no committed run of conv7_bn "):
        reference_pace("conv7_bn", tmp_path)
    # a run at half the reference pace took twice the time the reference kind would
    assert on_reference_kind(1000.0, 1050.0, 2100.0) == 500.0


def test_a_pace_is_refused_for_a_variant_that_trains_another_way():
    from reproductions.recipes import derive, get_recipe
    from reproductions.report.pace import check_same_work

    base = get_recipe("conv7_bn_cosine")
    check_same_work(derive(base, {"steps": 16000}), "conv7_bn_cosine")  # longer: same steps
    with pytest.raises(ValueError, match="batch_size differ"):
        check_same_work(derive(base, {"batch_size": 200}), "conv7_bn_cosine")
    # turning images further costs the same ops; not turning them at all does not
    check_same_work(derive(base, {"augment_affine": [15, 0.15, 0.15]}), "conv7_bn_cosine")
    with pytest.raises(ValueError, match="augment_affine differ"):
        check_same_work(derive(base, {"augment_affine": None}), "conv7_bn_cosine")
    with pytest.raises(ValueError, match="augment_elastic differ"):  # its own ops, its own cost
        check_same_work(derive(base, {"augment_elastic": [34, 4]}), "conv7_bn_cosine")
    # a dropout's rate costs the same mask (conv7_bn's default is 0.4); no dropout at all, or
    # another kernel for BatchNorm, does not
    check_same_work(derive(base, {"model_options": [["dropout", 0.2]]}), "conv7_bn_cosine")
    for options in ([["dropout", 0.0]], [["fused_bn", True]],
                    [["dropout", 0.2], ["fused_bn", True]]):
        with pytest.raises(ValueError, match="model_options differ"):
            check_same_work(derive(base, {"model_options": options}), "conv7_bn_cosine")


def test_ctrl_c_during_a_screening_says_so_and_exits_130(monkeypatch, capsys):
    """Ctrl-C reaches the run, which stops at a batch's end (here: at once, as StopAtBatchEnd
    would); the verb says the run resumes and exits 130, no traceback, no later run started."""
    import argparse
    import os
    import signal
    import time

    from reproductions.run import interrupt
    from reproductions.search import screen

    started = []

    def train_run(recipe, seed, **kwargs):
        started.append((recipe.name, seed))
        os.kill(os.getpid(), signal.SIGINT)  # deferred: nothing raised here...
        time.sleep(0.05)
        interrupt.check()  # ...but at the batch's end

    monkeypatch.setattr(screen, "train_run", train_run)
    previous = signal.getsignal(signal.SIGINT)
    try:
        done = screen.run(argparse.Namespace(name="conv7_bn_long", report=False, reference=False,
                                             verb_parser=argparse.ArgumentParser()))
    finally:
        signal.signal(signal.SIGINT, previous)
    assert done == 130 and started == [("l_0", 8)]
    assert "resumes when `screen conv7_bn_long` runs again" in capsys.readouterr().err
    interrupt.check()  # the stop ended with the verb: a later training here is not stopped


def test_a_table_without_a_reference_pace_names_the_machine_its_walls_were_measured_on():
    """Walls taken as measured (no reference pace) mean something only beside their machine."""
    from reproductions.recipes import load_screening
    from reproductions.search.screen import table

    screening = load_screening("conv7_bn_elastic")
    assert "reference_pace" not in screening.rule
    rows = [{"variant": v, "recipe_hash": r.hash(), "seed": s, "run_id": "x",
             "final_val_loss": 0.01, "final_val_accuracy": 0.996, "wall_s": 600.0,
             "images_per_second": 1400.0, "machine": "Some CPU, 2 cores, GPU: none"}
            for v, r in screening.variants.items() for s in r.seeds]
    text = table(screening, rows)
    assert "Runs made on: Some CPU, 2 cores, GPU: none; walls as measured there." in text
    assert "Runs made on" not in table(screening, [])  # nothing run, nothing to name


def test_a_users_screening_table_goes_beside_the_store_and_an_empty_one_nowhere(
        mlflow_store, monkeypatch, tmp_path, capsys):
    """The committed table is the reference: `screen` writes beside the store unless told
    --reference, and a store with no run of the screening writes no (empty) table at all."""
    from reproductions.__main__ import main as suite_main
    from reproductions.recipes import load_screening
    from reproductions.search import screen

    reference = tmp_path / "reference"
    reference.mkdir()
    monkeypatch.setattr(screen, "RESULTS", reference)
    assert suite_main(["screen", "conv7_bn_elastic", "--report", "--reference"]) == 2
    assert "no FINISHED run of screening conv7_bn_elastic's variants in this store: nothing " \
        "to tabulate" in capsys.readouterr().err
    assert list(reference.iterdir()) == []
    screening = load_screening("conv7_bn_elastic")
    rows = [{"variant": v, "recipe_hash": r.hash(), "seed": s, "run_id": "x",
             "final_val_loss": 0.01 + (v == "l_0"), "final_val_accuracy": 0.996, "wall_s": 600.0,
             "images_per_second": 1400.0, "machine": "Some CPU, 2 cores, GPU: none"}
            for v, r in screening.variants.items() for s in r.seeds]
    monkeypatch.setattr(screen, "run_rows", lambda s: rows)
    assert suite_main(["screen", "conv7_bn_elastic", "--report"]) == 0
    mine = tmp_path / "mlflow-results" / "conv7_bn_elastic_screening.md"
    assert f"wrote {mine}" in capsys.readouterr().out and mine.is_file()
    assert list(reference.iterdir()) == []
    assert suite_main(["screen", "conv7_bn_elastic", "--report", "--reference"]) == 0
    assert sorted(p.name for p in reference.iterdir()) == ["conv7_bn_elastic_screening.csv",
                                                          "conv7_bn_elastic_screening.md"]
