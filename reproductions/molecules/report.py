"""The molecule tables, from the runs in the store: molecules_seeds.csv (one row a run),
molecules.csv and molecules.md (one row a recipe: mean ± std over its declared seeds, the 95%
interval of the mean, seconds a seed, and two two-sided comparisons).

    against the random forest   the difference of means (this row minus the forest's) with its
                                Welch 95% interval: "better", "within noise" or "worse" (for an
                                error, lower is better; for an accuracy, higher)
    against a published figure  where a source gives one on the same data (reproductions/recipes
                                /molecules.py PUBLISHED, quoted verbatim below the tables): the
                                row's interval against that figure, same words

A deterministic row (linear, mean, calc) is one value: no interval of its own; its comparison
with the forest uses the forest's interval. Written beside the store (tracking.store
.results_folder), or with --reference into reproductions/results/ (the committed tables).
"""

from __future__ import annotations

import csv
import io
import math
import statistics

from mlflow.tracking import MlflowClient

from reproductions import RESULTS
from reproductions.molecules.store import EXPERIMENT, finished_runs
from reproductions.recipes.molecules import DATASETS, PUBLISHED, RECIPES, published_for
from tracking.store import results_folder
from tracking.summary import t_interval
from zoo.data.molecules import molecule_split
from zoo.data.specs import get_dataset
from zoo.files import atomic_path

SEED_FIELDS = ("recipe", "recipe_hash", "model", "dataset", "seed", "metric", "validation",
               "test", "train_seconds", "epochs", "machine", "run_id")
FIELDS = ("dataset", "model", "recipe_hash", "metric", "units", "seeds", "mean", "std",
          "ci_low", "ci_high", "seconds_a_seed", "vs_rf_difference", "vs_rf_low", "vs_rf_high",
          "vs_rf", "published", "published_source", "vs_published")
MODEL_WORDS = {"chemception": "Chemception-style CNN on drawings",
               "mol_conv": "plain CNN on drawings (the zoo's)",
               "smiles_cnn": "1-D CNN on SMILES, enumerated", "rf": "random forest, Morgan bits",
               "linear": "linear on RDKit descriptors", "calc": "FreeSolv's calc (physics)",
               "mean": "the mean (floor)"}


def metric_of(dataset: str) -> str:
    return "accuracy" if get_dataset(dataset).task == "classification" else "rmse"


def seed_rows(client: MlflowClient, exp_id: str | None) -> list[dict]:
    rows = []
    for recipe in RECIPES.values():
        if exp_id is None:
            break
        metric = metric_of(recipe.dataset)
        runs = finished_runs(client, exp_id, recipe, molecule_split(recipe.dataset).digest)
        for seed in recipe.trained_seeds:  # declared seeds only: another seed is never averaged
            run = runs.get(seed)
            if run is None:
                continue
            m = run.data.metrics
            rows.append({"recipe": recipe.name, "recipe_hash": recipe.hash(),
                         "model": recipe.model, "dataset": recipe.dataset, "seed": seed,
                         "metric": metric, "validation": m[f"validation_{metric}"],
                         "test": m[f"test_{metric}"], "train_seconds": m["train_seconds"],
                         "epochs": int(m.get("epochs", 0)),
                         "machine": run.data.tags.get("machine", ""),
                         "run_id": run.info.run_id})
    return rows


def compare(values: list[float], others: list[float], lower_is_better: bool):
    """(difference of means, low, high, word) of `values` against `others`: Welch's interval, or
    a one-sample interval when one side is a single (deterministic) value."""
    from scipy import stats

    diff = statistics.fmean(values) - statistics.fmean(others)
    if len(set(values)) == 1 and len(set(others)) == 1:  # no spread on either side (or one
        return diff, None, None, ("one value each" if len(values) == len(others) == 1 else
                                  "no spread: no interval")  # value each): nothing to judge by
    if len(values) > 1 and len(others) > 1:
        ci = stats.ttest_ind(values, others, equal_var=False).confidence_interval(0.95)
        low, high = float(ci.low), float(ci.high)
    else:  # one side is a single (deterministic) value: the other side's interval, shifted
        spread = values if len(values) > 1 else others
        low, high = (v - statistics.fmean(spread) + diff for v in t_interval(spread))
    if not (math.isfinite(low) and math.isfinite(high)) or low == high:
        return diff, None, None, "no spread: no interval"  # seeds that all gave one figure
    return diff, low, high, verdict(low, high, 0.0, lower_is_better)


def verdict(low: float, high: float, bar: float, lower_is_better: bool,
            bar_spread: float = 0.0) -> str:
    """Two-sided: the whole interval on one side of the bar (or of the bar's own range,
    bar ± bar_spread, for a published mean ± std), or the two overlapping."""
    if low <= bar + bar_spread and bar - bar_spread <= high:
        return "within noise"
    below = high < bar - bar_spread
    return "better" if below == lower_is_better else "worse"


def summary_rows(rows: list[dict]) -> list[dict]:
    by_recipe: dict[str, list[dict]] = {}
    for row in rows:
        by_recipe.setdefault(row["recipe"], []).append(row)
    out = []
    for recipe in RECIPES.values():
        mine = by_recipe.get(recipe.name)
        if not mine:
            continue
        metric = metric_of(recipe.dataset)
        lower = metric == "rmse"
        tests = [r["test"] for r in mine]
        ci = t_interval(tests)
        row = {"dataset": recipe.dataset, "model": recipe.model, "recipe_hash": recipe.hash(),
               "metric": metric, "units": get_dataset(recipe.dataset).units or "fraction",
               "seeds": len(tests), "mean": statistics.fmean(tests),
               "std": statistics.stdev(tests) if len(tests) > 1 else 0.0,
               "ci_low": ci[0] if ci else "", "ci_high": ci[1] if ci else "",
               "seconds_a_seed": statistics.fmean(r["train_seconds"] for r in mine)}
        forest = [r["test"] for r in by_recipe.get(f"rf@{recipe.dataset}", [])]
        row |= dict.fromkeys(("vs_rf_difference", "vs_rf_low", "vs_rf_high", "vs_rf"), "")
        if recipe.model != "rf" and forest:
            diff, low, high, word = compare(tests, forest, lower)
            row |= {"vs_rf_difference": diff, "vs_rf_low": "" if low is None else low,
                    "vs_rf_high": "" if high is None else high, "vs_rf": word}
        published = published_for(recipe.model, recipe.dataset)
        row |= {"published": "", "published_source": "", "vs_published": ""}
        if published is not None:
            # indicative: the source's figure is of other splits, so the test set's own
            # sampling error (not in a seed interval) is not shared; its own ± widens the bar
            judged = "one value: no interval" if not ci else \
                verdict(*ci, published.value, lower, published.spread) + " (indicative)"
            row |= {"published": published.value, "published_source": published.label,
                    "vs_published": judged}
        out.append(row)
    return out


def _fmt(value, metric: str) -> str:
    if value == "" or value is None:
        return ""
    return f"{100 * value:.1f}%" if metric == "accuracy" else f"{value:.3f}"


def _fmt_diff(value, metric: str) -> str:
    return f"{100 * value:+.1f} points" if metric == "accuracy" else f"{value:+.3f}"


BOOTSTRAP = 10_000  # resamples of the test molecules, seeded: the same figure every time


def test_set_noise(dataset: str) -> str:
    """The test set's own sampling error, for scale (not in the seed intervals): the bootstrap
    95% interval of the mean floor's RMSE over resampled test molecules (it needs no trained
    model), or the widest binomial 95% interval of an accuracy on this many molecules."""
    import numpy as np

    split = molecule_split(dataset)
    n = len(split.test)
    if metric_of(dataset) == "accuracy":  # the widest binomial interval: at an accuracy of 50%
        return (f"the test set's own sampling error: a binomial 95% interval of an accuracy is "
                f"± {100 * 1.96 * math.sqrt(0.25 / n):.1f} points at most ({n} molecules)")
    errors = split.test.y.astype(np.float64) - float(np.mean(split.train.y))
    picks = np.random.default_rng(0).integers(0, n, size=(BOOTSTRAP, n))
    rmse = np.sqrt(np.mean(errors[picks] ** 2, axis=1))
    low, high = np.percentile(rmse, [2.5, 97.5])
    whole = math.sqrt(float(np.mean(errors ** 2)))
    return (f"the test set's own sampling error, for scale: the mean floor's RMSE {whole:.3f} "
            f"has a bootstrap 95% interval of {low:.3f} - {high:.3f} over resampled test "
            f"molecules ({n} of them, {BOOTSTRAP:,} resamples)")


def markdown(rows: list[dict]) -> str:
    out = io.StringIO()
    out.write("# Molecules: the lecture's \"données chimiques\" (issue #29)\n\n"
              "Generated by `python -m reproductions molecules --reference` (`make "
              "reproduce-molecules`) from the runs in the store; per-seed figures in "
              "molecules_seeds.csv. Test figures over the declared seeds (mean ± std, n-1), "
              "the 95% Student-t interval of the mean; seconds: training only, a seed, on the "
              "machine each run names (molecules_seeds.csv). Against the forest: this row's mean "
              "minus the random forest's, Welch 95% interval (for a deterministic row, one "
              "value: the forest's own interval over its seeds, shifted), two-sided. Against a "
              "published figure: this row's interval against the figure's own range (mean ± std "
              "where the source gives one), indicative only, the source having measured other "
              "splits. The intervals are over seeds (what varies from one training to the next) on one fixed test set, as in the MNIST "
              "tables: the test set's own sampling error is not in them, and is given under each "
              "table for scale. Every choice (the nets' checkpoint, the linear model's strength, "
              "the seed shipped) was made on validation molecules.\n")
    for dataset in DATASETS:
        mine = [r for r in rows if r["dataset"] == dataset]
        if not mine:
            continue
        spec = get_dataset(dataset)
        split = molecule_split(dataset)
        metric = mine[0]["metric"]
        what = (f"{spec.target} ({spec.units}), test RMSE: lower is better"
                if metric == "rmse" else "three classes (low, medium, high), test accuracy")
        out.write(f"\n## {dataset}: {what}\n\nSplit: {spec.splits}; here {len(split.train)} "
                  f"train, {len(split.validation)} validation and {len(split.test)} test "
                  "molecules.\n\n")
        out.write("| model | test | 95% interval | seeds | s a seed | against the forest | "
                  "published | verdict |\n|---|---|---|---|---|---|---|---|\n")
        for r in mine:
            figure = _fmt(r["mean"], metric) + (
                f" ± {_fmt(r['std'], metric).rstrip('%')}" if r["seeds"] > 1 else "")
            interval = (f"{_fmt(r['ci_low'], metric)} - {_fmt(r['ci_high'], metric)}"
                        if r["ci_low"] != "" else
                        ("deterministic" if RECIPES[f"{r['model']}@{dataset}"].deterministic
                         else "one seed"))
            against = ""
            if r["vs_rf"]:
                span = (f" [{_fmt_diff(r['vs_rf_low'], metric)}, "
                        f"{_fmt_diff(r['vs_rf_high'], metric)}]" if r["vs_rf_low"] != "" else "")
                against = f"{_fmt_diff(r['vs_rf_difference'], metric)}{span}: {r['vs_rf']}"
            published = (f"{_fmt(r['published'], metric)} ({r['published_source']}, below)"
                         if r["published"] != "" else "")
            out.write(f"| {r['model']}: {MODEL_WORDS[r['model']]} | {figure} | {interval} | "
                      f"{r['seeds']} | {r['seconds_a_seed']:.1f} | {against} | {published} | "
                      f"{r['vs_published']} |\n")
        out.write(f"\nNot in the intervals: {test_set_noise(dataset)}.\n")
    if PUBLISHED:
        out.write("\n## The published figures, and how they differ from these runs\n\n")
        for p in PUBLISHED:
            rows = ", ".join(p.models)
            out.write(f"- **{p.label}** ({p.dataset}, judging {rows}): {p.source}: "
                      f"\"{p.quote}\" ({p.note}).\n")
    return out.getvalue()


def _write_csv(path, fields, rows):
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def write_report(reference: bool = False, folder=None) -> list:
    """Write the three tables; the paths written (none from a store without a molecule run:
    empty tables must not replace full ones)."""
    client = MlflowClient()
    found = client.get_experiment_by_name(EXPERIMENT)
    rows = seed_rows(client, None if found is None else found.experiment_id)
    if not rows:
        return []
    folder = folder or (RESULTS if reference else results_folder())
    folder.mkdir(parents=True, exist_ok=True)
    summary = summary_rows(rows)
    _write_csv(folder / "molecules_seeds.csv", SEED_FIELDS, rows)
    _write_csv(folder / "molecules.csv", FIELDS, summary)
    with atomic_path(folder / "molecules.md") as tmp:
        tmp.write_text(markdown(summary))
    return [folder / "molecules_seeds.csv", folder / "molecules.csv", folder / "molecules.md"]
