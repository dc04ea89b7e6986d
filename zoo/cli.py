"""The `zoo` command: list the zoo, classify pictures, evaluate shipped weights.

    zoo list
    zoo predict digit.png other.jpg recording.wav [--model conv3_bn.mnist] [--top 3]
    zoo evaluate conv3_bn.mnist [--out folder]
    zoo explain conv3_bn.mnist 7 [--out folder] [--track]
    zoo tune --recipe conv3 --tuner hyperband --max-epochs 4     (reproductions/tune.py)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _list(args):
    import zoo

    for name in zoo.list_models():
        info = zoo.model_info(name)
        print(f"{name:15} {info['params']:>9,} params  {info['summary']}")
    print()
    for name in zoo.list_weights():
        card = zoo.weight_info(name)
        print(f"{name:22} test accuracy {100 * card['test_accuracy']:.2f}%  "
              f"(recipe {100 * card['recipe_mean']:.2f}% ± {100 * card['recipe_std']:.2f})")
    return 0


def _predict(args):
    import numpy as np

    import zoo
    from zoo.data.fsdd import spectrogram_of_file
    from zoo.data.idx import DataError
    from zoo.images import ImageError, mnist_from_file

    models = {}  # loaded on first use: pictures and recordings need different nets
    failed = 0
    for path in args.files:
        audio = path.lower().endswith(".wav")
        name = args.model or ("audio_conv.fsdd" if audio else "conv3_bn.mnist")
        try:
            x = spectrogram_of_file(path) if audio else mnist_from_file(path)
        except (ImageError, DataError) as err:
            print(f"error: {err}", file=sys.stderr)
            failed += 1
            continue
        if name not in models:
            models[name] = zoo.load(name)
        model = models[name]
        classes = zoo.model_info(zoo.weight_info(name)["name"].split(".")[0])["classes"]
        probs = model.predict(x[None], verbose=0)[0]
        top = np.argsort(probs)[::-1][:args.top]
        print(f"{path}: " + ", ".join(f"{classes[i]} ({probs[i]:.3f})" for i in top), flush=True)
    return 1 if failed else 0


def _evaluate(args):
    import numpy as np

    import zoo
    import zoo.data
    from zoo import plots

    card = zoo.weight_info(args.name)
    model = zoo.load(card["name"])
    (_, _), (x_test, y_test) = zoo.data.load(card["dataset"])
    pred = model.predict(x_test, batch_size=1000, verbose=0).argmax(axis=1)
    acc = float(np.mean(pred == y_test))
    print(f"{card['name']}: test accuracy {100 * acc:.2f}% on {len(y_test)} images "
          f"(manifest: {100 * card['test_accuracy']:.2f}%)")
    classes = zoo.model_info(card["name"].split(".")[0])["classes"]
    for c, label in enumerate(classes):
        mask = y_test == c
        print(f"  class {label}: {100 * np.mean(pred[mask] == c):.2f}% of {mask.sum()}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fig = plots.confusion_matrix(y_test, pred, classes, f"{card['name']} on the test set")
    path = out / f"{card['name']}-confusion.png"
    fig.savefig(path, dpi=90)
    plots.plt.close(fig)
    print(f"wrote {path}")
    return 0


def _explain(args):
    import zoo
    from zoo.explain import explain, resolve_input, resolve_model

    model, label = resolve_model(args.model)
    kind = zoo.model_info(label.split(".")[0].split(" ")[0])["input_kind"]
    try:
        image, truth, caption = resolve_input(args.input, kind)
    except (ValueError, zoo.data.DataError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    out = Path(args.out) / f"{label.split(' ')[0]}-{Path(args.input).stem}"
    page = explain(model, image, out, label, truth, caption)
    print(f"wrote {page}")
    if args.track:
        import mlflow

        from tracking import check_store, experiment_id, run_tags

        check_store("zoo-explain")
        with mlflow.start_run(experiment_id=experiment_id("zoo-explain"),
                              run_name=f"explain {label} {args.input}", tags=run_tags()):
            mlflow.log_artifacts(str(out), "explain")
        print("logged to MLflow, experiment zoo-explain")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="zoo", description="the ConvNet Zoo")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="models and shipped weights").set_defaults(run=_list)
    p = sub.add_parser("predict", help="classify pictures of digits (PNG, JPEG, ...) or "
                       "recordings of spoken digits (WAV, 8 kHz)")
    p.add_argument("files", nargs="+")
    p.add_argument("--model", default=None, help="shipped weight (zoo list); default "
                   "conv3_bn.mnist for pictures, audio_conv.fsdd for WAV files")
    p.add_argument("--top", type=int, default=3)
    p.set_defaults(run=_predict)
    p = sub.add_parser("evaluate", help="test accuracy, per class, and a confusion matrix PNG")
    p.add_argument("name", help="shipped weight, e.g. conv3_bn.mnist")
    p.add_argument("--out", default=".", help="folder for the confusion matrix PNG")
    p.set_defaults(run=_evaluate)
    p = sub.add_parser("explain", help="what each layer sees, as PNGs and an HTML page")
    p.add_argument("model", help="a shipped weight (conv3_bn.mnist) or a model name")
    p.add_argument("input", help="an MNIST test index, X or O, or a picture of a digit")
    p.add_argument("--out", default="runs/explain", help="folder for the pages")
    p.add_argument("--track", action="store_true", help="also log the page to MLflow")
    p.set_defaults(run=_explain)
    p = sub.add_parser("tune", help="a KerasTuner search around a recipe (see "
                       "python -m reproductions.tune --help)", add_help=False)
    p.set_defaults(run=None)
    args, rest = parser.parse_known_args(argv)
    if args.command == "tune":  # the search has its own arguments: hand them over as they are
        from reproductions.tune import main as tune_main

        return tune_main(rest)
    args = parser.parse_args(argv)
    from zoo.pretrained import WeightsError

    try:
        return args.run(args)
    except WeightsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
