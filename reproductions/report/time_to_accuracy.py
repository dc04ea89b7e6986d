"""Time to accuracy: every MNIST recipe's final test accuracy against its wall time per seed,
from the MLflow runs (generated, never typed).

    python -m reproductions time-to-accuracy      # make time-to-accuracy

For each recipe of the MNIST family with runs of its current version on its declared seeds (the
store's, or with --reference the committed per-seed file mnist_seeds.csv, so that the committed
plot re-renders without the store), one point: the mean final test accuracy over its seeds (bars: min to max) at the
mean wall time per seed (training and evaluation, as the runs log it; bars: min to max), on a log
time axis, with the lecture's 99.5% and the record 99.7% as lines; with --reference, each shipped
ensemble timed on the reference kind too (`ensemble_points`), and issue 28's single nets there
by their runs' pace (the `wall` column says which). A point is on the Pareto
front when no other recipe is at least as accurate in at most its time (and better in one).
Writes time_to_accuracy.png and .csv (the points behind it) beside the store's tables (like
`report`); with --reference, the committed reproductions/results/time_to_accuracy.*.
"""

from __future__ import annotations

import csv
import sys
import statistics
from pathlib import Path

from reproductions import RESULTS
from reproductions.recipes import RECIPES
from reproductions.report.pace import on_reference_kind, reference_pace
from reproductions.report.tables import committed_rows, store_rows
from tracking.summary import declared
from zoo.files import open_for_writing

LINES = ((0.995, "99.5%: the lecture's net (Görner 4.2)"), (0.997, "99.7%: the lecture's record"))
COLUMNS = ("recipe", "model", "seeds", "mean_test_acc", "min_test_acc", "max_test_acc",
           "mean_wall_s", "min_wall_s", "max_wall_s", "wall", "pareto")
AS_RUN, PACED = "as run", "on the reference kind, by pace"


def points(rows: list[dict], family: str = "mnist", recipes=None,
           paced: dict[str, float] | None = None) -> list[dict]:
    """One dict per recipe of `family` with per-seed rows (tables' seed rows) of its current
    version on its declared seeds, Pareto membership included. `paced`: {recipe: the reference
    kind's images a second} for recipes whose walls are shown on the reference kind (issue 28's
    single nets, timed there by their pace: reproductions/report/pace.py)."""
    paced = paced or {}
    found = []
    for recipe in (recipes or RECIPES).values():
        if recipe.family != family:
            continue
        mine, _ = declared(recipe, [r for r in rows if r["recipe"] == recipe.name
                                    and r["recipe_hash"] == recipe.hash()])
        if not mine:
            continue
        acc = [float(r["final_test_acc"]) for r in mine]
        wall = [float(r["wall_s"]) for r in mine]
        if recipe.name in paced:
            wall = [on_reference_kind(w, float(r["images_per_second"]), paced[recipe.name])
                    for w, r in zip(wall, mine)]
        found.append({"recipe": recipe.name, "model": recipe.model, "seeds": len(mine),
                      "mean_test_acc": statistics.fmean(acc), "min_test_acc": min(acc),
                      "max_test_acc": max(acc), "mean_wall_s": statistics.fmean(wall),
                      "min_wall_s": min(wall), "max_wall_s": max(wall),
                      "wall": PACED if recipe.name in paced else AS_RUN})
    return pareto(found)


def ensemble_points(results: Path = RESULTS) -> list[dict]:
    """One point per shipped ensemble whose spread file gives its members' time on the reference
    kind (`ensemble --pace-of`): its test accuracy at all its members' training time, the
    price of one ensemble (an ensemble file without that column was timed on whatever machine
    trained it, so it is left out rather than put on the reference kind's axis)."""
    from reproductions.report.record_doc import read_spread

    found = []
    for path in sorted(results.glob("*_ensemble.csv")):
        recipe = RECIPES.get(path.stem.removesuffix("_ensemble"))
        _, n, whole = read_spread(path)
        if recipe is None or "members_wall_s_mean_reference_kind" not in whole:
            continue
        acc, wall = (float(whole["mean_test_acc"]),
                     float(whole["members_wall_s_mean_reference_kind"]))
        found.append({"recipe": f"{recipe.name} x{n}, averaged",
                      "model": f"{recipe.model}_ensemble", "seeds": n,
                      "mean_test_acc": acc, "min_test_acc": acc, "max_test_acc": acc,
                      "mean_wall_s": wall, "min_wall_s": wall, "max_wall_s": wall,
                      "wall": PACED})
    return found


def pareto(found: list[dict]) -> list[dict]:
    """The points, by time, each marked on the Pareto front or not."""
    for p in found:
        p["pareto"] = not any(
            q is not p and q["mean_wall_s"] <= p["mean_wall_s"]
            and q["mean_test_acc"] >= p["mean_test_acc"]
            and (q["mean_wall_s"] < p["mean_wall_s"] or q["mean_test_acc"] > p["mean_test_acc"])
            for q in found)
    return sorted(found, key=lambda p: p["mean_wall_s"])


def figure(found: list[dict]):
    from adjustText import adjust_text

    from zoo import plots

    plt = plots.plt
    fig, ax = plt.subplots(figsize=(9, 6))
    labels = []
    # test ERROR on a log axis, labelled as accuracy: 92% and 99.7% both stay readable (on a
    # linear accuracy axis the softmax squeezes every convnet into one blur at the top)
    for p in found:
        x, err = p["mean_wall_s"], 100 * (1 - p["mean_test_acc"])
        ax.errorbar(x, err, xerr=[[x - p["min_wall_s"]], [p["max_wall_s"] - x]],
                    yerr=[[err - 100 * (1 - p["max_test_acc"])],
                          [100 * (1 - p["min_test_acc"]) - err]],
                    fmt="o", color="C3" if p["pareto"] else "C0", capsize=3)
        mark = "*" if p["wall"] == PACED else ""
        labels.append(ax.text(x, err, f"{p['recipe']} ({p['seeds']}){mark}", fontsize=8))
    front = [p for p in found if p["pareto"]]
    ax.step([p["mean_wall_s"] for p in front], [100 * (1 - p["mean_test_acc"]) for p in front],
            where="post", color="C3", alpha=0.6, label="Pareto front")
    for value, label in LINES:
        ax.axhline(100 * (1 - value), ls="--", color="grey", lw=1)
        ax.text(0.01, 100 * (1 - value), label, transform=ax.get_yaxis_transform(),
                va="bottom", fontsize=8, color="grey")
    ax.set_xscale("log")
    ax.set_xlim(right=5 * max(p["max_wall_s"] for p in found))  # room for the last label
    ax.set_yscale("log")
    ticks = [a for a in (0.90, 0.92, 0.95, 0.98, 0.99, 0.995, 0.997, 0.998)]
    ax.set_yticks([100 * (1 - a) for a in ticks], [f"{100 * a:g}%" for a in ticks])
    ax.minorticks_off()
    ax.invert_yaxis()  # better is up
    ax.set_xlabel("wall time per seed, s (training and evaluation; an ensemble: all its members; "
                  "log scale)\n*: on the reference kind, by its runs' pace")
    ax.set_ylabel("final test accuracy (mean over seeds; bars: min-max; log scale of the error)")
    ax.set_title("MNIST recipes: time to accuracy (python -m reproductions time-to-accuracy)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="lower right")
    fig.tight_layout()
    # recipes of about the same time and accuracy (the 99.5% cluster) would print their names
    # over each other: adjustText moves each label off the others and the points, with a line
    # back to its point
    adjust_text(labels, ax=ax, arrowprops={"arrowstyle": "-", "color": "grey", "lw": 0.5})
    return fig


def write(found: list[dict], out: Path = RESULTS / "time_to_accuracy") -> tuple[Path, Path]:
    from zoo import plots

    png, table = out.with_suffix(".png"), out.with_suffix(".csv")
    with open_for_writing(table, newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(found)
    plots.save(figure(found), png, dpi=100)
    return png, table


def run(args) -> int:
    """The `time-to-accuracy` verb."""
    from tracking import check_store

    check_store()
    paced = {}
    if args.reference:  # the record's single nets on the reference kind, as docs/record.md has
        from reproductions.report.record_doc import RECIPE, SINGLE_NETS

        paced = {name: reference_pace(RECIPE) for name in SINGLE_NETS if name != RECIPE}
    found = points(committed_rows("mnist") if args.reference else store_rows("mnist"),
                   paced=paced)
    if args.reference and found:  # the shipped ensembles, at their members' time
        found = pareto(found + ensemble_points(RESULTS))
    if not found:
        where = ("the committed reproductions/results/mnist_seeds.csv" if args.reference else
                 "the MLflow store (MLFLOW_TRACKING_URI)")
        print(f"error: no FINISHED MNIST runs in {where}; train recipes first "
              "(make reproduce-mnist)", file=sys.stderr)
        return 2
    from tracking.store import results_folder

    folder = RESULTS if args.reference else results_folder()
    folder.mkdir(parents=True, exist_ok=True)
    png, table = write(found, Path(args.out) if args.out else folder / "time_to_accuracy")
    print(f"wrote {png} and {table}")
    return 0
