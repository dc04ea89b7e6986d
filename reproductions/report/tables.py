"""The results tables, generated from runs (never typed).

    python -m reproductions report mnist               # the current store's tables, beside it
    python -m reproductions report mnist --reference   # rewrites reproductions/results/mnist.*

Each writes <dataset>_seeds.csv (one row per run), then <dataset>.csv and <dataset>.md from that
file alone. The per-seed file is the source of the tables; the store is the source of new runs:
with --reference, the store's runs are merged into the committed per-seed file (a store's run of
a (recipe, seed) replaces the committed one; a recipe whose version changed keeps only runs of
its current version once the store has one), so the reference tables are re-rendered on any
machine, with or without the store they were trained in, and a change of the verdict rule
re-renders them without retraining.

One row per recipe, over its declared seeds (Recipe.seeds, fixed before training: runs of other
seeds are listed apart, never averaged in), the runs of its current version (recipe hash), one
per seed, all trained on the same data: the FINAL test accuracy's mean, sample standard deviation (n-1),
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
import statistics
import sys
from pathlib import Path

from reproductions import RESULTS
from reproductions.recipes import RECIPES
from reproductions.report.numbers import points
from tracking import REPO_ROOT, check_store
from tracking.parents import update_parent
from tracking.store import results_folder
from tracking.runs import existing_experiment, finished_runs
from tracking.summary import (MixedData, against_source_runs, declared, seed_row, summarize,
                              summarize_rows)
from zoo.data import get_dataset, load_dataset
from zoo.files import copy_file, open_for_writing, write_text

COLUMNS = ("model", "recipe", "protocol", "n_seeds", "seeds", "mean_test_acc", "std_test_acc",
           "ci95_low_test_acc", "ci95_high_test_acc", "binomial_se", "min_test_acc",
           "max_test_acc", "mean_max_during_training", "max_during_training_verdict",
           "max_during_training_gap_points", "target_acc", "target_source", "verdict",
           "target_gap_points", "target_gap_images", "wall_s_per_run", "test_eval_s_per_run",
           "machine")
SEED_COLUMNS = ("recipe", "recipe_hash", "seed", "declared", "run_id", "final_test_acc",
                "max_test_acc_during_training", "final_val_acc", "wall_s", "images_per_second",
                "data_digest", "test_examples", "test_evaluations", "test_eval_s", "machine")


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
    ci, peak = summary.interval or (None, None), summary.peak_judged
    return {
        "model": summary.model, "recipe": summary.recipe, "protocol": summary.protocol,
        "n_seeds": summary.n_seeds, "seeds": " ".join(map(str, summary.seeds)),
        "mean_test_acc": summary.mean, "std_test_acc": summary.std,
        "ci95_low_test_acc": ci[0], "ci95_high_test_acc": ci[1],
        "binomial_se": summary.binomial_se,
        "min_test_acc": min(summary.test_accuracy), "max_test_acc": max(summary.test_accuracy),
        "mean_max_during_training": summary.mean_peak,
        "max_during_training_verdict": None if peak is None else peak.word,
        "max_during_training_gap_points": None if peak is None else f"{peak.gap_points:+.2f}",
        "peak_verdict_text": "-" if peak is None else f"{peak.text()}, optimistic",
        "target_acc": summary.target_acc, "target_source": summary.target_source,
        "verdict": summary.verdict, "verdict_text": summary.verdict_text(),
        "target_gap_points": _gap(summary, "points"), "target_gap_images": _gap(summary, "images"),
        "wall_s_per_run": statistics.fmean(summary.wall_s),
        "test_eval_s_per_run": (None if None in summary.test_eval_s
                                else statistics.fmean(summary.test_eval_s)),
        "machine": " | ".join(summary.machines), "summary": summary,
    }


def _gap(summary, unit: str) -> str | None:
    """The mean's signed distance to the target, "+0.16" points or "+16.3" images."""
    if summary.target_acc is None or summary.n_test is None:
        return None
    judged = summary.judged
    return f"{judged.gap_points:+.2f}" if unit == "points" else f"{float(judged.gap_images):+.1f}"


def store_rows(dataset: str, recipes=None) -> list[dict]:
    """One per-seed row for the newest FINISHED run of every seed of every recipe of `dataset`
    in the store, declared seeds or not (the current version of each recipe only)."""
    experiment = existing_experiment(dataset)
    if experiment is None:
        return []
    out = []
    for recipe in recipes or RECIPES.values():
        if recipe.family == dataset:
            runs = finished_runs(experiment, recipe)
            out += [seed_row(recipe, seed, runs[seed]) for seed in sorted(runs)]
    return out


def committed_rows(dataset: str, folder: Path | None = None) -> list[dict]:
    """The rows of the committed per-seed file, <folder>/<dataset>_seeds.csv ([] if none).
    Files written before the file carried a machine and a test-set size per row get them from
    the committed table's machine column and from this data set's test split."""
    folder = RESULTS if folder is None else folder  # read when called (tests move RESULTS)
    path = folder / f"{dataset}_seeds.csv"
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if rows and "machine" not in rows[0]:  # files of before issue 24
        machines = {r["recipe"]: r["machine"] for r in reference_rows(dataset, folder).values()}
        n_test = len(load_dataset(dataset).test[1])
        for r in rows:
            r["machine"], r["test_examples"] = machines.get(r["recipe"], "?"), n_test
    return rows


def merge(committed: list[dict], fresh: list[dict]) -> list[dict]:
    """The committed rows with the store's: a fresh run of a (recipe, hash, seed) replaces the
    committed one, and a recipe with fresh runs drops its committed runs of other versions."""
    fresh_keys = {(r["recipe"], r["recipe_hash"], str(r["seed"])) for r in fresh}
    fresh_versions = {(r["recipe"], r["recipe_hash"]) for r in fresh}
    fresh_recipes = {r for r, _ in fresh_versions}
    kept = [r for r in committed
            if (r["recipe"], r["recipe_hash"], str(r["seed"])) not in fresh_keys
            and (r["recipe"] not in fresh_recipes or (r["recipe"], r["recipe_hash"])
                 in fresh_versions)]
    order = {name: i for i, name in enumerate(RECIPES)}
    return sorted(kept + fresh, key=lambda r: (order.get(r["recipe"], len(order)), r["recipe"],
                                              int(r["seed"])))


def summaries(dataset: str, rows: list[dict], recipes=None) -> tuple[list[dict], list[dict]]:
    """(table rows, rows of undeclared seeds) of `dataset` from per-seed rows, in RECIPES'
    order: each recipe over its declared seeds of its current version."""
    table, extras = [], []
    for recipe in recipes or RECIPES.values():
        if recipe.family != dataset:
            continue
        mine = [r for r in rows if r["recipe"] == recipe.name]
        summary = summarize_rows(recipe, mine)
        if summary is not None:
            table.append(row(summary) | {"recipe_obj": recipe})
        extras += declared(recipe, [r for r in mine if r["recipe_hash"] == recipe.hash()])[1]
    return table, extras


def _number(key: str, value):
    """A per-seed value as the tables format it (CSV cells are strings)."""
    if value in (None, ""):
        return None
    if key in ("final_test_acc", "max_test_acc_during_training", "final_val_acc", "wall_s",
               "images_per_second", "test_eval_s"):
        return float(value)
    return value


def _seed_fmt(key: str, value):
    """A per-seed cell: accuracies to 6 significant digits, so that each names its count of
    correct answers exactly (298 of 300 FSDD recordings is 0.993333; MNIST's 4 decimals stay 4)."""
    if isinstance(value, float) and key in ("final_test_acc", "max_test_acc_during_training",
                                            "final_val_acc"):
        return f"{value:.6g}"
    return _fmt(key, value)


def _fmt(key: str, value):
    if value is None:
        return ""
    if key == "target_acc":
        return repr(value)  # as the recipe quotes its source: 0.989, not 0.9890
    if isinstance(value, float):
        # accuracies with 6 digits: a mean over 4 seeds of 10,000 test images is a multiple of
        # 0.000025, and a file rounded to 4 digits, read again and shown as a percentage with 2
        # decimals, could show 99.68% where mnist.md shows 99.67% (99.675 rounded twice)
        return f"{value:.1f}" if key.startswith(("wall", "test_eval_s")) \
            or key == "images_per_second" else f"{value:.6f}"
    return value


def evaluation_text(recipe) -> str:
    """What a recipe's runs read, from its own fields."""
    if recipe.published:
        steps = recipe.test_steps()
        early = [f"{s:,}" for s in steps if s < (recipe.test_every or 0)]
        cadence = (f"every {recipe.eval_every:,} steps" if recipe.test_every is None else
                   f"after step{'s' if len(early) > 1 else ''} {', '.join(early)}, then every "
                   f"{recipe.test_every:,} steps and after the last, as its source tested "
                   f"({len(steps)} tests)")
        return ("published protocol: every training image trains (no validation split); the "
                f"test set is evaluated {cadence}, and its max over training (the source's own "
                "measure) is optimistic")
    if recipe.refit_of:
        return (f"the refit of {recipe.refit_of}: its fields, chosen on its validation split, "
                "trained again on every training image (its validation images too); the test "
                "set is read once, after the last step")
    return (f"chosen on a {recipe.validation_size:,}-image validation split (evaluated every "
            f"{recipe.eval_every:,} steps); the test set is read once, after the last step")


def refresh_parents(dataset: str, recipes=None) -> int:
    """Write every recipe's summary on its parent run (nesting its seeds' runs under it), for
    stores whose runs predate the parents; returns how many parents were updated."""
    from reproductions.recipes.notes import parent_note

    experiment = existing_experiment(dataset)
    count = 0
    for recipe in recipes or RECIPES.values():
        if experiment is None or recipe.family != dataset:
            continue
        if finished_runs(experiment, recipe):
            update_parent(experiment, recipe, note=lambda s, r=recipe: parent_note(r, s))
            count += 1
    return count


class NothingToRender(ValueError):
    """No run of the data set, in the store or in the committed per-seed file."""


def write(dataset: str, folder: Path | None = None, recipes=None) -> list[Path]:
    """The store's per-seed rows (merged into the committed ones when `folder` is the reference
    folder), then the tables rendered from them."""
    folder = RESULTS if folder is None else folder
    fresh = store_rows(dataset, recipes)
    every = merge(committed_rows(dataset, folder), fresh) if folder == RESULTS else fresh
    if not every:
        raise NothingToRender(f"no run of {dataset} in this store or in "
                              f"{folder / f'{dataset}_seeds.csv'}: nothing to report")
    return render(dataset, every, folder, recipes)


def render(dataset: str, every: list[dict], folder: Path, recipes=None) -> list[Path]:
    """<dataset>_seeds.csv (every row, each marked declared or not), <dataset>.csv and .md from
    the per-seed rows alone."""
    extra_keys = {(r["recipe"], str(r["seed"])) for r in summaries(dataset, every, recipes)[1]}
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = folder / f"{dataset}.csv", folder / f"{dataset}.md"
    seeds_path = folder / f"{dataset}_seeds.csv"
    with open_for_writing(seeds_path, newline="") as f:
        writer = csv.DictWriter(f, SEED_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for r in every:
            is_extra = (r["recipe"], str(r["seed"])) in extra_keys
            writer.writerow({k: _seed_fmt(k, _number(k, r.get(k))) for k in SEED_COLUMNS}
                            | {"declared": "no" if is_extra else "yes"})
    # the tables from the per-seed file as written (its figures rounded), so that rendering
    # them again from the file alone gives the same bytes
    rows, extras = summaries(dataset, committed_rows(dataset, folder), recipes)
    with open_for_writing(csv_path, newline="") as f:
        writer = csv.DictWriter(f, COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: _fmt(k, r[k]) for k in COLUMNS})
    machines = sorted({m for r in rows for m in r["machine"].split(" | ")})
    lines = [
        f"# Reproduction results: {dataset}",
        "",
        f"Generated by `python -m reproductions report {dataset}` from {seeds_path.name} (every "
        f"run, written from the MLflow store); the runs were made by `make reproduce-{dataset}` "
        "(SEEDS= and RECIPES= as the seeds column shows).",
        f"Machine: {'; '.join(machines) or 'no runs yet'}.",
        "",
        "Final test accuracy after the last training step, over each recipe's declared seeds "
        "(fixed before training; runs of other seeds are listed below the table, never averaged "
        "in): mean ± sample standard deviation over seeds, the 95% interval of the mean "
        "(Student t over seeds: what varies from one training to the next) and the test set's "
        "binomial standard error (the sampling error of a test set of its size, in points; the "
        "published figure was measured on the same test set, so it is shown, not added). "
        "Verdict, two-sided, judged on exact counts of correct test answers: above (the whole "
        "interval at or above the published figure), within noise (the interval contains it), "
        "short (the whole interval below), undecided (one seed: no interval); beside it, the "
        "mean's distance to the figure in points and in test images. Max during "
        "training: the mean over seeds of the best test accuracy seen during training, the "
        "measure the published scripts quote, taken on their own test cadence (listed below "
        "the table), with its own verdict by the same rule; optimistic, since it is picked on "
        "the test set, and only published recipes have it (the others never read the test set "
        "before the end). The published figure is quoted verbatim, as its source gives it. "
        "Wall s/run is training only; test s/run, the time of those test evaluations, is kept "
        "out of it. The same figures are on each recipe's parent run in MLflow.",
        "",
        "| model | recipe | seeds | final test acc (mean ± std) | 95% interval | binomial SE "
        "| min | max | published | source | verdict | max during training | its verdict "
        "(optimistic) | wall s/run | test s/run |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['recipe']} | {r['n_seeds']} ({r['seeds']}) "
            f"| {_mean_spread(r)} | {_interval(r)} "
            f"| {'-' if r['binomial_se'] is None else format(100 * r['binomial_se'], '.2f')} "
            f"| {_pct(r['min_test_acc'])} | {_pct(r['max_test_acc'])} "
            f"| {'-' if r['target_acc'] is None else repr(r['target_acc'])} "
            f"| {r['target_source']} | {r['verdict_text']} "
            f"| {_pct(r['mean_max_during_training'])} | {r['peak_verdict_text']} "
            f"| {r['wall_s_per_run']:.0f} | {_seconds(r['test_eval_s_per_run'])} |")
    lines += _source_runs_lines(rows)
    if extras:
        lines += ["", "Runs of seeds the recipe does not declare (ensemble members, extras): "
                  "kept in the per-seed file, not in the rows above.", ""]
        lines += [f"- {r['recipe']} seed {r['seed']}: "
                  f"{100 * float(r['final_test_acc']):.2f}% final test accuracy" for r in extras]
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
    lines += _gaps_lines(rows, seeds_path.name)
    write_text(md_path, "\n".join(lines) + "\n")
    return [csv_path, md_path, seeds_path]


def _source_runs_lines(rows: list[dict]) -> list[str]:
    """Where the source lists its own runs' maxima: ours against his, two samples, one measure."""
    lines = []
    for r in rows:
        recipe, summary = r["recipe_obj"], r["summary"]
        if not recipe.source_runs or summary.mean_peak is None:
            continue
        compared = against_source_runs(list(summary.peak_test_accuracy), list(recipe.source_runs))
        if compared is None:
            continue
        ours = ", ".join(f"{p:.4f}" for p in summary.peak_test_accuracy)
        lines += ["", f"{recipe.name} against its source's own runs (the max over training, "
                  f"both sides): the source, {recipe.source_runs_quote}; ours, seeds "
                  f"{' '.join(map(str, summary.seeds))}: {ours}. Ours minus his: "
                  f"{compared.text()}."]
    if lines:
        lines = ["", "Against the source's own runs: where a source lists the maxima of several "
                 "runs, ours are compared with his as two samples of the same measure (Welch's "
                 "interval of the difference of means; two-sided: above, within noise when the "
                 "interval holds 0, short)."] + lines
    return lines


def _gaps_lines(rows: list[dict], seeds_file: str) -> list[str]:
    """One table of the published figures still short by either measure: the final, the
    source's own measure, the verdict of each, and what still differs from the source."""
    short = [r for r in rows if r["recipe_obj"].published and r["target_acc"] is not None
             and "short" in (r["verdict"], r["max_during_training_verdict"])]
    if not short:
        return []
    lines = ["", "## What the gaps are made of", "",
             "Each published figure still short by either measure: the final test accuracy and "
             "the max over training (optimistic: Görner's own measure, on his cadence; LeNet-5's "
             "paper reports the error after its last pass, i.e. the final), each with its "
             "verdict, and what still differs from the source's training (the recipe's "
             f"`still_differs`). The runs behind each row are its seeds' rows in {seeds_file}.",
             "",
             "| recipe | published | final (mean ± std): verdict | max during training: verdict "
             "(optimistic) | what still differs | seeds |",
             "|---|---|---|---|---|---|"]
    for r in short:
        lines.append(f"| {r['recipe']} | {r['target_acc']!r} | {_mean_spread(r)}: "
                     f"{r['verdict_text']} | {_pct(r['mean_max_during_training'])}: "
                     f"{r['peak_verdict_text'].removesuffix(', optimistic')} "
                     f"| {r['recipe_obj'].still_differs or '-'} | {r['seeds']} |")
    return lines


def _mean_spread(r: dict) -> str:
    """"99.48% ± 0.04", or "64.40% (one seed)" where there is no spread to show."""
    if int(r["n_seeds"]) == 1:
        return f"{100 * r['mean_test_acc']:.2f}% (one seed)"
    return f"{100 * r['mean_test_acc']:.2f}% ± {points(r['std_test_acc'])}"


def _seconds(value) -> str:
    return "-" if value is None else f"{value:.0f}"


def _pct(value) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"


def _interval(r: dict) -> str:
    if r["ci95_low_test_acc"] is None:
        return "-"
    return f"{100 * r['ci95_low_test_acc']:.2f}-{100 * r['ci95_high_test_acc']:.2f}%"


def reference_rows(dataset: str, folder: Path | None = None) -> dict[str, dict]:
    """{recipe: row} of the committed reference table (reproductions/results/<dataset>.csv)."""
    path = (RESULTS if folder is None else folder) / f"{dataset}.csv"
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
                  f"{points(ref['std_test_acc'])} (seeds {ref['seeds']}, "
                  f"{float(ref['wall_s_per_run']):.0f} s/run)" if ref else "no reference figure")
        spread = (f" ± {points(row['std_test_acc'])}" if int(row["n_seeds"]) > 1
                  else ", one seed")
        print(f"  {row['recipe']:16} yours {100 * float(row['mean_test_acc']):.2f}%{spread} "
              f"(seeds {row['seeds']}, "
              f"{float(row['wall_s_per_run']):.0f} s/run) | reference {theirs}")


def merge_timing(store_file: Path, committed: Path) -> None:
    """The store's timing rows appended to the committed ones (a row already there is kept
    once): the reference timing file keeps every sitting behind the reference tables."""
    if not committed.is_file():
        copy_file(store_file, committed)
        return
    with open(committed, newline="") as f:
        reader = csv.DictReader(f)
        columns, rows = reader.fieldnames, list(reader)
    with open(store_file, newline="") as f:
        new = [r for r in csv.DictReader(f) if r not in rows]
    with open_for_writing(committed, newline="") as f:
        writer = csv.DictWriter(f, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows + new)


def run(args) -> int:
    """The `report` verb: the tables of the current store, beside it (with --reference, the
    committed reference tables, reproductions/results: a deliberate act), and the same summaries
    on the recipes' parent runs."""
    check_store()
    folder = RESULTS if args.reference else results_folder()
    try:
        paths = write(args.dataset, folder)
    except (MixedData, NothingToRender, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for path in paths:
        print(f"wrote {path}")
    if args.reference:  # the store's timing of its reproductions goes with its tables
        timing = results_folder() / f"reproduce_{args.dataset}_timing.csv"
        if timing.is_file():
            merge_timing(timing, RESULTS / timing.name)
            print(f"wrote {RESULTS / timing.name} (the wall times `reproduce` recorded for this "
                  "store)")
    committed = REPO_ROOT / "reproductions" / "results"
    if args.reference and args.dataset == "mnist" and folder.resolve() == committed.resolve():
        from reproductions.report import readme  # the README's results, from the same files

        if readme.update(REPO_ROOT / "README.md", folder):
            print(f"wrote {REPO_ROOT / 'README.md'} (its generated sections)")
        if readme.update_studies():
            print(f"wrote {readme.STUDIES_DOC} (its list of the studies)")
        from reproductions.report import record_doc  # and the record's single nets

        if record_doc.update_single(record_doc.DOC, folder):
            print(f"wrote {record_doc.DOC} (its single nets and its glance at issue 28)")
    print_comparison(args.dataset, folder)
    print(f"updated {refresh_parents(args.dataset)} parent run(s) in MLflow "
          f"(experiment zoo-{args.dataset})")
    return 0
