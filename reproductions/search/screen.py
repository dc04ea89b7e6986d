"""Screenings: variants of a recipe, as data, trained and judged on validation figures only.

    python -m reproductions screen conv3_bn_fast            # trains the missing (variant, seed) pairs
    python -m reproductions screen conv3_bn_fast --report   # only writes the table, from the store
    python -m reproductions screen conv3_bn_fast --reference  # the committed table (deliberate)

A screening is a data file, reproductions/recipes/screening/<name>.json: a base recipe and its
variants, each the base with some fields replaced (reproductions.recipes.derive, as `--set` does),
so each has its own name and hash, and the seeds it is screened on, which no reported run of the
recipe uses. Every run is blind: the process never holds the test set (train_run(blind=True)),
so only validation figures (the 5,000 images held out of training) exist to choose by. A file
with a "rule" has the choice made by code (`choose`): among the variants whose mean wall time a
seed is inside the rule's budget, the best mean final value of its objective (validation loss:
far less noisy than accuracy on 5,000 images, where one image is 0.02 points; validation accuracy
where the variants' training targets differ, as distillation's do, so that their losses do not
compare). A budget is on
the reference machine kind; with "reference_pace": <recipe>, a run made elsewhere has its wall
scaled to that kind by its training images a second against the committed reference runs of
that recipe (mnist_seeds.csv), which train the same net on the same batches (issue 28). The file's
"chosen" must name the rule's choice (tests/test_screening.py checks it against the committed
per-run CSV); the chosen variant becomes a recipe, and only then are its reported seeds trained.

Runs are tracked like reproductions (resumable, skipped when FINISHED), in the MLflow store
named by MLFLOW_TRACKING_URI. Writes <name>_screening.md (the table) and <name>_screening.csv
(every run: variant, hash, seed, run id, validation loss and accuracy, wall) beside the store
(tracking.store.results_folder), or with --reference the committed ones in reproductions/results;
a store with no run of the screening writes nothing.
"""

from __future__ import annotations

import csv
import statistics
import sys

from reproductions import RESULTS
from reproductions.recipes import Screening, get_recipe, load_screening
from reproductions.report.pace import check_same_work, on_reference_kind, reference_pace
from reproductions.run import interrupt
from reproductions.run.train import train_run
from tracking.runs import experiment_for, finished_runs, last_value
from tracking.store import results_folder
from zoo.files import open_for_writing, write_text

COLUMNS = ("variant", "recipe_hash", "seed", "run_id", "final_val_loss", "final_val_accuracy",
           "wall_s", "images_per_second", "machine")


def run_rows(screening: Screening) -> list[dict]:
    """One row per FINISHED run of each variant on its screening seeds (validation only)."""
    experiment = experiment_for(get_recipe(screening.base))
    rows = []
    for name, recipe in screening.variants.items():
        runs = finished_runs(experiment, recipe)
        for seed in sorted(s for s in runs if s in recipe.seeds):
            rows.append({"variant": name, "recipe_hash": recipe.hash(), "seed": seed,
                         "run_id": runs[seed].info.run_id,
                         "final_val_loss": last_value(runs[seed], "val_loss"),
                         "final_val_accuracy": last_value(runs[seed], "val_accuracy"),
                         "wall_s": runs[seed].data.metrics["wall_s"],
                         "images_per_second": runs[seed].data.metrics.get("images_per_second"),
                         "machine": runs[seed].data.tags.get("machine", "")})
    return rows


def rule_pace(screening: Screening, results=None) -> float | None:
    """The pace on the reference kind of the rule's reference recipe, after checking that every
    variant trains the same net the same way; None when the rule names none."""
    name = (screening.rule or {}).get("reference_pace")
    if name is None:
        return None
    for variant in screening.variants.values():
        check_same_work(variant, name)
    return reference_pace(name, results)


def scaled_wall(row: dict, reference_ips: float | None) -> float:
    """A run's wall on the reference kind: as measured, or scaled by its pace against it."""
    wall = float(row["wall_s"])
    if reference_ips is None:
        return wall
    if row.get("images_per_second") in (None, ""):
        raise ValueError(f"run {row.get('run_id', '?')} ({row['variant']}, seed {row['seed']}) "
                         "logged no images_per_second: its time cannot be scaled to the "
                         "reference kind; train it again")
    return on_reference_kind(wall, float(row["images_per_second"]), reference_ips)


def choose(rows: list[dict], rule: dict, variants, reference_ips: float | None = None
           ) -> str | None:
    """The rule's choice from per-run rows: among variants with every screening seed run and a
    mean wall time a seed inside the budget (on the reference kind: `reference_ips` scales it,
    required when the rule names a reference pace), the best mean final objective (the lowest
    validation loss, or the highest validation accuracy); None if none."""
    # objective: the column and its sign (lower is better). val_accuracy is for variants whose
    # training targets differ (distillation's soft targets move the loss's scale, not its
    # ranking of images); mean loss breaks its ties, which 5,000 images make common.
    key, sign = {"val_loss": ("final_val_loss", 1), "val_accuracy": ("final_val_accuracy", -1)}[
        rule["objective"]]
    if rule.get("reference_pace") and reference_ips is None:
        raise ValueError(f"the rule's budget is on the reference kind: give the pace of "
                         f"{rule['reference_pace']} there (reference_pace)")
    best = None
    for name, recipe in variants.items():
        mine = [r for r in rows if r["variant"] == name]
        if sorted(int(r["seed"]) for r in mine) != sorted(recipe.seeds):
            continue
        if statistics.fmean(scaled_wall(r, reference_ips) for r in mine) > rule["max_wall_s"]:
            continue
        score = (sign * statistics.fmean(float(r[key]) for r in mine),
                 statistics.fmean(float(r["final_val_loss"]) for r in mine))
        if best is None or score < best[0]:
            best = (score, name)
    return best and best[1]


def table(screening: Screening, rows: list[dict] | None = None, results=None) -> str:
    rows = run_rows(screening) if rows is None else rows
    lines = [f"# How {screening.name} was chosen (generated by `python -m reproductions screen "
             f"{screening.name}`)",
             "", "Final validation loss and accuracy (5,000 images held out of training) of "
             "each screened variant; the runs are blind (the process never holds the test set). "
             "Wall: training and evaluation, seconds a seed. Every run: "
             f"{screening.name}_screening.csv.", ""]
    reference_ips = rule_pace(screening, results)
    if screening.rule:
        chosen = choose(rows, screening.rule, screening.variants, reference_ips)
        lines += [f"Rule: {screening.rule['why']}. Its choice: **{chosen}**"
                  + ("" if chosen == screening.chosen else
                     " (the file names none yet: set its \"chosen\")" if screening.chosen is None
                     else f" (the file still names {screening.chosen}: update its \"chosen\")")
                  + ".", ""]
    made_on = f"Runs made on: {'; '.join(sorted({r['machine'] for r in rows})) or 'none yet'}"
    if reference_ips is not None:
        lines += [f"{made_on}. Reference pace: "
                  f"{reference_ips:,.0f} training images a second, the mean of "
                  f"{screening.rule['reference_pace']}'s committed runs on its declared seeds "
                  "(mnist_seeds.csv); a run's wall on the reference kind is its wall times its "
                  "own images a second over that pace.", ""]
    elif rows:
        lines += [f"{made_on}; walls as measured there.", ""]
    if screening.status:
        lines += [f"Where the recipe stands: {screening.status}", ""]
    if screening.recipe:
        reported = ", ".join(map(str, get_recipe(screening.recipe).seeds))
        lines += [f"Reported seeds of {screening.recipe}: {reported}; screening seeds are never "
                  "reported seeds" + (f", with one exception, kept as it happened: "
                                      f"{screening.overlap_note}." if screening.overlap_note
                                      else "."), ""]
    scaled = " | wall s on the reference kind" if reference_ips is not None else ""
    lines += [
             "| variant | what changes | seeds | val loss: each seed (mean) "
             f"| val accuracy %: each seed (mean) | wall s{scaled} |",
             "|---|---|---|---|---|---|" + ("---|" if scaled else "")]
    for name, recipe in screening.variants.items():
        mine = [r for r in rows if r["variant"] == name]
        if not mine:
            continue
        seeds = [r["seed"] for r in mine]
        loss = [float(r["final_val_loss"]) for r in mine]
        acc = [float(r["final_val_accuracy"]) for r in mine]
        wall = " / ".join(f"{float(r['wall_s']):.0f}" for r in mine)
        if scaled:
            wall += " | " + " / ".join(f"{scaled_wall(r, reference_ips):.0f}" for r in mine)
        mark = "**" if name == screening.chosen else ""
        lines.append(f"| {mark}{name}{mark} | {recipe.notes} | {', '.join(map(str, seeds))} | "
                     f"{_each_and_mean(loss, '.4f')} | {_each_and_mean([100 * a for a in acc])} | "
                     f"{wall} |")
    return "\n".join(lines) + "\n"


def _each_and_mean(values, spec=".2f"):
    each = " / ".join(format(v, spec) for v in values)
    return each if len(values) == 1 else f"{each} ({format(sum(values) / len(values), spec)})"


def run(args) -> int:
    """The `screen` verb (arguments: its room's verbs.py)."""
    try:
        screening = load_screening(args.name)
    except ValueError as err:
        args.verb_parser.error(str(err))
    try:  # before any training: a rule whose budget cannot be scaled is refused now
        pace = rule_pace(screening)
    except ValueError as err:
        args.verb_parser.error(str(err))
    if not args.report:
        try:  # Ctrl-C: the run stops at a batch's end, KILLED with its checkpoint, as reproduce's
            with interrupt.deferred(twice_stops_at_once=True):
                for recipe in screening.variants.values():
                    for seed in recipe.seeds:
                        interrupt.check()
                        train_run(recipe, seed, log_mlflow_model=False, blind=True)
        except KeyboardInterrupt:
            print(f"\ninterrupted: finished runs are kept, the current one resumes when "
                  f"`screen {screening.name}` runs again", file=sys.stderr)
            return 130
    rows = run_rows(screening)
    if not rows:  # an empty table must not replace one: nothing lost
        print(f"error: no FINISHED run of screening {screening.name}'s variants in this store: "
              f"nothing to tabulate (`screen {screening.name}` trains them)", file=sys.stderr)
        return 2
    # a user's screening goes beside the store; the committed table only on purpose
    folder = RESULTS if args.reference else results_folder()
    out = folder / f"{screening.name}_screening.md"
    write_text(out, table(screening, rows))
    with open_for_writing(out.with_suffix(".csv"), newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {out} and {out.with_suffix('.csv')}")
    if screening.rule:
        choice = choose(rows, screening.rule, screening.variants, pace)
        print(f"the rule's choice: {choice} (the file names {screening.chosen})")
    return 0
