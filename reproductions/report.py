"""The results tables, generated from the MLflow store (never typed).

    python -m reproductions report mnist               # the current store's tables, beside it
    python -m reproductions report mnist --reference   # rewrites reproductions/results/mnist.*

Each writes <dataset>.csv, <dataset>.md and <dataset>_seeds.csv.

One row per recipe, over the FINISHED runs of its current version (recipe hash), one per seed,
all trained on the same data (data_digest): the FINAL test accuracy's mean, sample standard
deviation (n-1), 95% Student-t interval of the mean over seeds, the test set's own binomial
standard error (sqrt(p(1-p)/n) at the mean), min and max over seeds; for published recipes the
mean of the max over training (the source's own measure, optimistic: it is picked on the test
set); the published figure verbatim with its source; the verdict (`summarise`); wall time per
run; machine. mnist_seeds.csv holds every run: recipe, recipe hash, seed, run id, final and max
test accuracy, final validation accuracy, wall time, images/s.

`summarise` is the one summary of a recipe's seeds (the tables use it; kept free of MLflow and
I/O so that other views of the same runs, e.g. MLflow parent runs, can share it).
"""

from __future__ import annotations

import csv
import math
import statistics
import sys
from pathlib import Path

from reproductions.recipes import RECIPES
from tracking import REPO_ROOT, check_store
from tracking.store import results_folder
from tracking.runs import existing_experiment, finished_runs
from zoo.data import get_dataset

RESULTS = REPO_ROOT / "reproductions" / "results"
COLUMNS = ("model", "recipe", "protocol", "n_seeds", "seeds", "mean_test_acc", "std_test_acc",
           "ci95_low", "ci95_high", "binomial_se", "min_test_acc", "max_test_acc",
           "mean_max_during_training", "target_acc", "target_source", "verdict",
           "wall_s_per_run", "machine")
SEED_COLUMNS = ("recipe", "recipe_hash", "seed", "run_id", "final_test_acc",
                "max_test_acc_during_training", "final_val_acc", "wall_s", "images_per_second",
                "data_digest")


def summarise(values: list[float], target: float | None, n_test: int | None) -> dict:
    """Mean, sample std, 95% Student-t interval of the mean over seeds, the test set's binomial
    standard error at the mean (n_test images; None: unknown), and the verdict against `target`:
    "reached" (mean >= target), "within noise" (target inside the interval), "short" (the whole
    interval below it). With one seed there is no spread to take a t interval from: the interval
    is then +-1.96 binomial standard errors, and says so."""
    if not values:
        raise ValueError("no values to summarise")
    from scipy import stats  # a well-kept t quantile, not a hand-typed table

    n, mean = len(values), statistics.fmean(values)
    std = statistics.stdev(values) if n > 1 else 0.0
    se_binom = math.sqrt(mean * (1 - mean) / n_test) if n_test else None
    if n > 1:
        half, basis = stats.t.ppf(0.975, n - 1) * std / math.sqrt(n), f"t, {n - 1} df"
    elif se_binom is not None:
        half, basis = 1.96 * se_binom, "one seed: +-1.96 binomial SE"
    else:
        half, basis = 0.0, "one seed, no interval"
    low, high = mean - half, mean + half
    if target is None:
        verdict = "measured (no bar)"
    elif mean >= target:
        verdict = "reached"
    elif high >= target:
        verdict = "within noise"
    else:
        verdict = "short"
    return {"n": n, "mean": mean, "std": std, "ci95_low": low, "ci95_high": high,
            "interval": basis, "binomial_se": se_binom, "verdict": verdict}


def _metric(run, key):
    return run.data.metrics.get(key)


def collect(dataset: str, recipes=None) -> list[dict]:
    """One dict per recipe of `dataset` (default: all of RECIPES) with a FINISHED run; each
    carries its runs under "runs" ({seed: run})."""
    experiment = existing_experiment(dataset)
    if experiment is None:
        return []
    rows = []
    for recipe in recipes or RECIPES.values():
        if recipe.family != dataset:
            continue
        by_seed = finished_runs(experiment, recipe)
        if not by_seed:
            continue
        seeds = sorted(by_seed)
        digests = {by_seed[s].data.tags.get("data_digest") for s in seeds}
        if len(digests) > 1:  # the same examples in another order train other runs
            raise ValueError(f"recipe {recipe.name}: its seeds were trained on different data "
                             f"({', '.join(sorted(map(str, digests)))}); remove the runs of the "
                             "other data from the store or use a store of their own")
        acc = [by_seed[s].data.metrics["test_accuracy"] for s in seeds]
        peak = [_metric(by_seed[s], "peak_test_accuracy") for s in seeds]
        n_test = {_metric(by_seed[s], "test_examples") for s in seeds}
        summary = summarise(acc, recipe.target_acc,
                            int(n_test.pop()) if len(n_test) == 1 and None not in n_test
                            else None)
        machines = sorted({by_seed[s].data.tags.get("machine", "?") for s in seeds})
        rows.append({
            "model": recipe.model, "recipe": recipe.name,
            "protocol": "published" if recipe.published else "chosen",
            "n_seeds": len(seeds), "seeds": " ".join(map(str, seeds)),
            "mean_test_acc": summary["mean"], "std_test_acc": summary["std"],
            "ci95_low": summary["ci95_low"], "ci95_high": summary["ci95_high"],
            "interval": summary["interval"], "binomial_se": summary["binomial_se"],
            "min_test_acc": min(acc), "max_test_acc": max(acc),
            # only runs that read the test set during training have a max over training
            "mean_max_during_training": statistics.fmean(peak) if None not in peak else None,
            "target_acc": recipe.target_acc, "target_source": recipe.target_source,
            "verdict": summary["verdict"],
            "wall_s_per_run": statistics.fmean(by_seed[s].data.metrics["wall_s"] for s in seeds),
            "machine": " | ".join(machines), "runs": by_seed, "recipe_obj": recipe,
        })
    return rows


def verdict(row: dict) -> str:
    return row["verdict"]


def _fmt(key, value):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}" if key.startswith("wall") or key == "images_per_second" \
            else f"{value:.6f}" if key == "binomial_se" else f"{value:.4f}"
    return value


def seed_rows(rows: list[dict]) -> list[dict]:
    out = []
    for row in rows:
        recipe = row["recipe_obj"]
        for seed, run in sorted(row["runs"].items()):
            m = run.data.metrics
            out.append({"recipe": recipe.name, "recipe_hash": recipe.hash(), "seed": seed,
                        "run_id": run.info.run_id, "final_test_acc": m["test_accuracy"],
                        "max_test_acc_during_training": m.get("peak_test_accuracy"),
                        "final_val_acc": m.get("final_val_accuracy"), "wall_s": m.get("wall_s"),
                        "images_per_second": m.get("images_per_second"),
                        "data_digest": run.data.tags.get("data_digest", "")})
    return out


def _evaluation_text(recipe) -> str:
    """What a recipe's runs read, from its own fields."""
    if recipe.published:
        return (f"published protocol: every training image trains (no validation split); the "
                f"test set is evaluated every "
                f"{recipe.eval_every} steps, its max over training is the source's own measure")
    return (f"chosen on a {recipe.validation_size:,}-image validation split (evaluated every "
            f"{recipe.eval_every} steps); the test set is read once, after the last step")


def _pct(value, spec=".2f"):
    return "-" if value is None else f"{100 * value:{spec}}%"


def write(dataset: str, folder: Path | None = None, recipes=None) -> list[Path]:
    rows = collect(dataset, recipes)
    folder = folder or RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = folder / f"{dataset}.csv", folder / f"{dataset}.md"
    seeds_path = folder / f"{dataset}_seeds.csv"
    with open(csv_path, "w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _fmt(k, row[k]) for k in COLUMNS})
    with open(seeds_path, "w", newline="") as f:
        writer = csv.DictWriter(f, SEED_COLUMNS)
        writer.writeheader()
        for row in seed_rows(rows):
            writer.writerow({k: _fmt(k, v) for k, v in row.items()})
    machines = sorted({m for r in rows for m in r["machine"].split(" | ")})
    lines = [
        f"# Reproduction results: {dataset}",
        "",
        f"Generated by `python -m reproductions report {dataset}` from the MLflow store; the runs "
        f"were made by `make reproduce-{dataset}` (SEEDS= and RECIPES= as the seeds column shows). "
        f"Every run: {seeds_path.name}.",
        f"Machine: {'; '.join(machines) or 'no runs yet'}.",
        "",
        "Final test accuracy after the last training step: mean ± sample standard deviation over "
        "seeds, the 95% Student-t interval of the mean, and the test set's binomial standard "
        "error (the sampling error of a test set of its size). Verdict: reached (mean >= "
        "published), "
        "within noise (the published figure lies inside the interval), short (the whole "
        "interval is below it). Max during training: the mean over seeds of the best test "
        "accuracy seen during training, the measure the published scripts quote: optimistic, "
        "since it is picked on the test set; only published recipes read the test set during "
        "training.",
        "",
        "| model | recipe | seeds | final test acc (mean ± std) | 95% interval | binomial SE "
        "| min | max | max during training (optimistic) | published | source | verdict "
        "| wall s/run |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['recipe']} | {r['n_seeds']} ({r['seeds']}) "
            f"| {100 * r['mean_test_acc']:.2f}% ± {100 * r['std_test_acc']:.2f} "
            f"| {100 * r['ci95_low']:.2f}-{100 * r['ci95_high']:.2f}% "
            f"| {'-' if r['binomial_se'] is None else format(100 * r['binomial_se'], '.2f')} "
            f"| {_pct(r['min_test_acc'])} | {_pct(r['max_test_acc'])} "
            f"| {_pct(r['mean_max_during_training'])} "
            f"| {'-' if r['target_acc'] is None else repr(r['target_acc'])} "
            f"| {r['target_source']} | {r['verdict']} | {r['wall_s_per_run']:.0f} |")
    lines += ["", "What each recipe's runs read (from the recipe's own fields):", ""]
    lines += [f"- {r['recipe']}: {_evaluation_text(r['recipe_obj'])}"
              + (f"; {r['interval']}" if r["n_seeds"] == 1 else "") for r in rows]
    folds = [r for r in rows if get_dataset(r["recipe_obj"].dataset).is_fold]
    if folds:  # leave-one-speaker-out: one row per held-out speaker, summarised over speakers
        acc = [r["mean_test_acc"] for r in folds]
        spread = statistics.stdev(acc) if len(acc) > 1 else 0.0
        lines += ["", f"Leave one speaker out, {len(folds)} folds (each speaker's recordings "
                  "never heard in training): mean over folds "
                  f"{100 * statistics.fmean(acc):.2f}% ± {100 * spread:.2f} (sample std over "
                  f"folds), from {100 * min(acc):.2f}% to {100 * max(acc):.2f}%."]
    md_path.write_text("\n".join(lines) + "\n")
    return [csv_path, md_path, seeds_path]


def reference_rows(dataset: str) -> dict[str, dict]:
    """{recipe: row} of the committed reference table (reproductions/results/<dataset>.csv)."""
    path = RESULTS / f"{dataset}.csv"
    if not path.is_file():
        return {}
    with open(path, newline="") as f:
        return {row["recipe"]: row for row in csv.DictReader(f)}


def print_comparison(dataset: str, folder: Path) -> None:
    """The user's figures (the table just written in `folder`) beside the reference ones."""
    mine = folder / f"{dataset}.csv"
    if folder.resolve() == RESULTS.resolve() or not mine.is_file():
        return
    reference = reference_rows(dataset)
    with open(mine, newline="") as f:
        rows = list(csv.DictReader(f))
    if rows:
        print(f"{dataset}: your store against the reference ({RESULTS / f'{dataset}.csv'}), "
              "final test accuracy, mean ± std over seeds:")
    for row in rows:
        ref = reference.get(row["recipe"])
        theirs = (f"{100 * float(ref['mean_test_acc']):.2f}% ± "
                  f"{100 * float(ref['std_test_acc']):.2f} (seeds {ref['seeds']}, "
                  f"{float(ref['wall_s_per_run']):.0f} s/run)" if ref else "no reference figure")
        print(f"  {row['recipe']:16} yours {100 * float(row['mean_test_acc']):.2f}% ± "
              f"{100 * float(row['std_test_acc']):.2f} (seeds {row['seeds']}, "
              f"{float(row['wall_s_per_run']):.0f} s/run) | reference {theirs}")


def run(args) -> int:
    """The `report` verb: the tables of the current store, beside it; with --reference, the
    committed reference tables (reproductions/results), a deliberate act."""
    check_store()
    folder = RESULTS if args.reference else results_folder()
    try:
        paths = write(args.dataset, folder)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for path in paths:
        print(f"wrote {path}")
    print_comparison(args.dataset, folder)
    return 0
