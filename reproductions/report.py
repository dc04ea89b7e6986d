"""The results tables, generated from the MLflow store (never typed).

    python -m reproductions report mnist               # the current store's tables, beside it
    python -m reproductions report mnist --reference   # rewrites reproductions/results/mnist.*

Each writes <dataset>.csv, <dataset>.md and <dataset>_seeds.csv.

One row per recipe, over the FINISHED runs of its current version (recipe hash), one per seed,
all trained on the same data: the FINAL test accuracy's mean, sample standard deviation (n-1),
95% Student-t interval of the mean over seeds, the test set's binomial standard error, min and
max over seeds; for published recipes the mean of the max over training (the source's own
measure, optimistic: it is picked on the test set); the published figure verbatim with its
source; the verdict; wall time per run; machine. <dataset>_seeds.csv holds every run: recipe,
recipe hash, seed, run id, final and max test accuracy, final validation accuracy, wall time,
images/s, data digest. The figures are tracking.summary's RecipeSummary, the same object the
recipe's parent run in MLflow carries (tracking/parents.py): the table and the UI agree.
"""

from __future__ import annotations

import csv
import shutil
import statistics
import sys
from pathlib import Path

from reproductions.recipes import RECIPES
from tracking import REPO_ROOT, check_store
from tracking.parents import update_parent
from tracking.store import results_folder
from tracking.runs import existing_experiment, finished_runs
from tracking.summary import MixedData, summarize
from zoo.data import get_dataset

RESULTS = REPO_ROOT / "reproductions" / "results"
COLUMNS = ("model", "recipe", "protocol", "n_seeds", "seeds", "mean_test_acc", "std_test_acc",
           "ci95_low_test_acc", "ci95_high_test_acc", "binomial_se", "min_test_acc",
           "max_test_acc", "mean_max_during_training", "target_acc", "target_source", "verdict",
           "wall_s_per_run", "machine")
SEED_COLUMNS = ("recipe", "recipe_hash", "seed", "run_id", "final_test_acc",
                "max_test_acc_during_training", "final_val_acc", "wall_s", "images_per_second",
                "data_digest")


def collect(dataset: str, recipes=None) -> list[dict]:
    """One dict per recipe of `dataset` (default: all of RECIPES) with a FINISHED run."""
    experiment = existing_experiment(dataset)
    if experiment is None:
        return []
    rows = []
    for recipe in recipes or RECIPES.values():
        if recipe.family != dataset:
            continue
        summary = summarize(recipe, finished_runs(experiment, recipe))
        if summary is not None:
            rows.append(row(summary) | {"recipe_obj": recipe})
    return rows


def row(summary) -> dict:
    """A table row from a RecipeSummary (the parent run's figures)."""
    ci = summary.interval or (None, None)
    return {
        "model": summary.model, "recipe": summary.recipe, "protocol": summary.protocol,
        "n_seeds": summary.n_seeds, "seeds": " ".join(map(str, summary.seeds)),
        "mean_test_acc": summary.mean, "std_test_acc": summary.std,
        "ci95_low_test_acc": ci[0], "ci95_high_test_acc": ci[1],
        "binomial_se": summary.binomial_se,
        "min_test_acc": min(summary.test_accuracy), "max_test_acc": max(summary.test_accuracy),
        "mean_max_during_training": summary.mean_peak,
        "target_acc": summary.target_acc, "target_source": summary.target_source,
        "verdict": summary.verdict, "verdict_text": summary.verdict_text(),
        "wall_s_per_run": statistics.fmean(summary.wall_s),
        "machine": " | ".join(summary.machines), "summary": summary,
    }


def seed_rows(rows: list[dict]) -> list[dict]:
    """One row per run of every recipe in `rows` (the per-seed CSV)."""
    out = []
    for r in rows:
        s = r["summary"]
        for i, seed in enumerate(s.seeds):
            out.append({"recipe": s.recipe, "recipe_hash": s.recipe_hash, "seed": seed,
                        "run_id": s.run_ids[i], "final_test_acc": s.test_accuracy[i],
                        "max_test_acc_during_training": s.peak_test_accuracy[i],
                        "final_val_acc": s.final_val_accuracy[i], "wall_s": s.wall_s[i],
                        "images_per_second": s.images_per_second[i],
                        "data_digest": s.data_digest or ""})
    return out


def _fmt(key: str, value):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}" if key.startswith("wall") or key == "images_per_second" \
            else f"{value:.6f}" if key == "binomial_se" else f"{value:.4f}"
    return value


def evaluation_text(recipe) -> str:
    """What a recipe's runs read, from its own fields."""
    if recipe.published:
        return ("published protocol: every training image trains (no validation split); the "
                f"test set is evaluated every {recipe.eval_every:,} steps, and its max over "
                "training (the source's own measure) is optimistic")
    return (f"chosen on a {recipe.validation_size:,}-image validation split (evaluated every "
            f"{recipe.eval_every:,} steps); the test set is read once, after the last step")


def refresh_parents(dataset: str, recipes=None) -> int:
    """Write every recipe's summary on its parent run (nesting its seeds' runs under it), for
    stores whose runs predate the parents; returns how many parents were updated."""
    from reproductions.notes import parent_note

    experiment = existing_experiment(dataset)
    count = 0
    for recipe in recipes or RECIPES.values():
        if experiment is None or recipe.family != dataset:
            continue
        if finished_runs(experiment, recipe):
            update_parent(experiment, recipe, note=lambda s, r=recipe: parent_note(r, s))
            count += 1
    return count


def write(dataset: str, folder: Path = RESULTS, recipes=None) -> list[Path]:
    rows = collect(dataset, recipes)
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = folder / f"{dataset}.csv", folder / f"{dataset}.md"
    seeds_path = folder / f"{dataset}_seeds.csv"
    with open(csv_path, "w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: _fmt(k, r[k]) for k in COLUMNS})
    with open(seeds_path, "w", newline="") as f:
        writer = csv.DictWriter(f, SEED_COLUMNS)
        writer.writeheader()
        for r in seed_rows(rows):
            writer.writerow({k: _fmt(k, v) for k, v in r.items()})
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
        "seeds, the 95% interval of the mean (Student t over seeds) and the test set's binomial "
        "standard error (the sampling error of a test set of its size, in points). Verdict: "
        "reached (mean at or above the published figure), within noise (the figure inside the "
        "interval), short (the whole interval below), undecided (one seed, below). Max during "
        "training: the mean over seeds of the best test accuracy seen during training, the "
        "measure the published scripts quote; optimistic, since it is picked on the test set, "
        "and only published recipes have it (the others never read the test set before the "
        "end). The published figure is quoted verbatim, as its source gives it. The same "
        "figures are on each recipe's parent run in MLflow.",
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
            f"| {_interval(r)} "
            f"| {'-' if r['binomial_se'] is None else format(100 * r['binomial_se'], '.2f')} "
            f"| {_pct(r['min_test_acc'])} | {_pct(r['max_test_acc'])} "
            f"| {_pct(r['mean_max_during_training'])} "
            f"| {'-' if r['target_acc'] is None else repr(r['target_acc'])} "
            f"| {r['target_source']} | {r['verdict_text']} | {r['wall_s_per_run']:.0f} |")
    lines += ["", "What each recipe's runs read (from the recipe's own fields):", ""]
    lines += [f"- {r['recipe']}: {evaluation_text(r['recipe_obj'])}" for r in rows]
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


def _pct(value) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"


def _interval(r: dict) -> str:
    if r["ci95_low_test_acc"] is None:
        return "-"
    return f"{100 * r['ci95_low_test_acc']:.2f}-{100 * r['ci95_high_test_acc']:.2f}%"


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
    """The `report` verb: the tables of the current store, beside it (with --reference, the
    committed reference tables, reproductions/results: a deliberate act), and the same summaries
    on the recipes' parent runs."""
    check_store()
    folder = RESULTS if args.reference else results_folder()
    try:
        paths = write(args.dataset, folder)
    except MixedData as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for path in paths:
        print(f"wrote {path}")
    if args.reference:  # the store's timing of its reproductions goes with its tables
        timing = results_folder() / f"reproduce_{args.dataset}_timing.csv"
        if timing.is_file():
            shutil.copyfile(timing, RESULTS / timing.name)
            print(f"wrote {RESULTS / timing.name} (the wall times `reproduce` recorded for this "
                  "store)")
    print_comparison(args.dataset, folder)
    print(f"updated {refresh_parents(args.dataset)} parent run(s) in MLflow "
          f"(experiment zoo-{args.dataset})")
    return 0
