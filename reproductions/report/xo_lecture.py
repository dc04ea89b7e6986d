"""The lecture's X/O example, walked through with the zoo's `xo_lecture` net, then compared with
`xo` trained on generated images.  `make reproduce-xo` runs the training first, then this.

Prints, and logs to MLflow (experiment zoo-xo): the X and O images, the three features, each
7x7 filtered map (mean of products, in ninths and as the slides print them, truncated to two
decimals), the ReLU maps, the 4x4 pooled maps and the vote. The vote weights are the project's
own, derived from the pooled templates (the slides never published theirs; see zoo/models/xo.py).
Writes xo_lecture.md and xo_filters.png beside the store (tracking.store.results_folder), or
with --reference the committed ones in reproductions/results, which need the store's xo runs.
"""

from __future__ import annotations

import io
import sys

import keras
import mlflow
import numpy as np

import zoo
import zoo.data
from reproductions.report import tables as report
from reproductions.recipes import RECIPES
from tracking import run_tags
from tracking.runs import artifact_file, experiment_for, finished_runs
from tracking.store import results_folder
from zoo import plots
from zoo.files import write_text
from zoo.models.xo import CLASSES, FEATURES, O_IMAGE, X_IMAGE, lecture_kernel

RESULTS = report.RESULTS


def _grid(a, fmt):
    return "\n".join("    " + " ".join(fmt(v) for v in row) for row in a)


def _truncated(v):
    return f"{np.trunc(v * 100 + np.sign(v) * 1e-6) / 100:5.2f}"


def walkthrough(out) -> dict:
    model = zoo.create_model("xo_lecture")
    names = ("features", "relu", "pool", "vote")
    probe = keras.Model(model.input, [model.get_layer(n).output for n in names])
    stages = dict(zip(names, probe.predict(np.stack([X_IMAGE, O_IMAGE]), verbose=0)))
    for f_name, feature in FEATURES.items():
        print(f"feature {f_name}:\n{_grid(feature, lambda v: f'{v:+.0f}')}", file=out)
    votes = {}
    for i, (label, image) in enumerate((("X", X_IMAGE), ("O", O_IMAGE))):
        print(f"\n=== the {label} (# = +1, stroke; . = -1, background)", file=out)
        print(_grid(image, lambda v: "#" if v > 0 else "."), file=out)
        for f, f_name in enumerate(FEATURES):
            filtered = stages["features"][i, :, :, f]
            print(f"\n{label} filtered by {f_name}, in ninths (mean of the 9 products):", file=out)
            print(_grid(np.round(filtered * 9), lambda v: f"{v:+3.0f}"), file=out)
            print("  as the slides print them (truncated):", file=out)
            print(_grid(filtered, _truncated), file=out)
            print("  after ReLU:", file=out)
            print(_grid(stages["relu"][i, :, :, f], _truncated), file=out)
            print("  after 2x2 max pooling, edge windows kept (7x7 -> 4x4):", file=out)
            print(_grid(stages["pool"][i, :, :, f], _truncated), file=out)
        p = stages["vote"][i]
        votes[label] = p
        print(f"\nvote for the {label}: X {p[0]:.3f}, O {p[1]:.3f} -> {CLASSES[p.argmax()]}",
              file=out)
    return votes


def run(args=None) -> int:
    """The `xo-lecture` verb."""
    recipe = RECIPES["xo"]
    exp = experiment_for(recipe)
    # a user's walk-through goes beside the store; the committed page only on purpose, and
    # never without the trained xo's line and picture
    folder = RESULTS if getattr(args, "reference", False) else results_folder()
    rows = report.collect("xo")
    xo_row = rows[0] if rows else None
    if folder == RESULTS and xo_row is None:
        print("error: no FINISHED run of xo in this store: the committed page needs them "
              "(`make reproduce-xo` trains them)", file=sys.stderr)
        return 2
    text = io.StringIO()
    votes = walkthrough(text)
    print(text.getvalue())
    loaded = zoo.data.load_dataset("xo")
    x_test, y_test = loaded.test
    lecture_acc = zoo.weights.accuracy(zoo.create_model("xo_lecture"), x_test, y_test)

    with mlflow.start_run(experiment_id=exp, run_name="xo_lecture walkthrough",
                          tags={**run_tags(), "model": "xo_lecture",
                                "data_source": loaded.provenance.source}):
        mlflow.log_metrics({"vote_X_for_X": float(votes["X"][0]),
                            "vote_O_for_O": float(votes["O"][1]),
                            "generated_test_accuracy": lecture_acc})
        mlflow.log_text(text.getvalue(), "walkthrough.txt")
        learned = None
        if xo_row:
            newest = max(finished_runs(exp, recipe).values(), key=lambda r: r.info.start_time)
            with artifact_file(newest.info.run_id, "model/xo.keras") as path:
                model = zoo.weights.load_file(path)
            learned = model.get_layer("features").get_weights()[0]
            fig = plots.kernels({"lecture": lecture_kernel()[:, :, 0, :],
                                 "learned": learned[:, :, 0, :]},
                                "the lecture's three features and those xo learned")
            plots.save(fig, folder / "xo_filters.png", dpi=90)
            mlflow.log_artifact(str(folder / "xo_filters.png"))

    lines = [
        "# The lecture's X/O example",
        "",
        ("Generated by `python -m reproductions xo-lecture --reference` from the store of the "
         "reference runs (`make reproduce-xo` writes a user's copy beside its store)"
         if folder == RESULTS else
         "Generated by `make reproduce-xo` (`python -m reproductions xo-lecture`) from this store")
        + "; the full "
        "walk-through (every 7x7, ReLU and pooled map) is printed by that command and logged to "
        "MLflow as walkthrough.txt. Its numbers equal the lecture's (tests/test_xo.py checks them).",
        "",
        f"- Vote of `xo_lecture` (derived weights, the project's own): the X gets "
        f"X {votes['X'][0]:.3f} / O {votes['X'][1]:.3f}; the O gets X {votes['O'][0]:.3f} / "
        f"O {votes['O'][1]:.3f}.",
        f"- Held-out generated X/O set ({loaded.provenance.source}): `xo_lecture`, hand-set "
        f"features, {100 * lecture_acc:.2f}%.",
    ]
    if xo_row:
        lines.append(
            f"- `xo`, trainable features, recipe `xo` over seeds {xo_row['seeds']}: "
            f"{100 * xo_row['mean_test_acc']:.2f}% ± {100 * xo_row['std_test_acc']:.2f} "
            f"(min {100 * xo_row['min_test_acc']:.2f}%), against the 99% bar: "
            f"{xo_row['verdict_text']}.")
        lines += ["", "![the lecture's features and the learned ones](xo_filters.png)"]
    write_text(folder / "xo_lecture.md", "\n".join(lines) + "\n")
    print(f"wrote {folder / 'xo_lecture.md'}")
    return 0
