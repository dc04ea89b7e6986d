"""The `zoo` command: what a user of the library does with it.

    zoo list
    zoo info conv3_bn | conv3_bn.mnist
    zoo predict digit.png other.jpg recording.wav [--model conv3_bn.mnist] [--top 3]
    zoo predict "CCO" "c1ccccc1O" --model smiles_cnn.freesolv   (molecules, as SMILES)
    zoo evaluate conv3_bn.mnist [--out folder] [--robustness]   (and every test error, listed)
    zoo explain conv3_bn.mnist 7 [--out folder]
    zoo explain smiles_cnn.freesolv "CCO"   (which atoms or characters moved a molecule's answer)
    zoo explain --serve [conv3_bn.mnist] [--port 8050]   (the live explainer, zoo/explain_ui)
    zoo export conv3_bn.mnist --format saved_model|onnx|litert [--out folder]

`zoo predict` reads its files before anything else and answers pictures through ONNX Runtime
from an export cached on first use (zoo/runtime.py): about a second a call, no TensorFlow.

Training-suite work (reproductions, searches, exports, tracking the explainer in MLflow) is the
suite's command: `python -m reproductions --help`. `zoo list`, `zoo info` and `zoo --help` read
plain data and answer without importing Keras or TensorFlow.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import zoo
from zoo.data import DataError
from zoo.files import WriteError, make_folder
from zoo.molecules import weights as molecule_weights
from zoo.ports import port_number
from zoo.weights import WeightName, WeightsError

# The weight a file goes to when --model is not given, by what the file holds (a WAV header),
# not by its name; its preprocessing then follows from that weight's card.
# For pictures, the first of these that ships: the record ensemble (issue 14), else conv3_bn.
DEFAULT_WEIGHTS = {"audio": ("audio_conv.fsdd",),
                   "picture": ("conv7_bn_ensemble.mnist", "conv3_bn.mnist")}
KIND_WORDS = {"audio": ("a WAV recording", "recordings"), "picture": ("a picture", "pictures")}


def weight_for_kind(kind: str) -> str:
    """The weight `zoo predict` gives a file of `kind` ("audio", "picture") without --model: by
    what the input is, where zoo.weights.shipped_name reads a name the user gave."""
    shipped = set(zoo.list_weights())
    return next(n for n in DEFAULT_WEIGHTS[kind] if n in shipped)


def _spread(card) -> str:
    """The recipe's figure behind a weight, with a spread only where there is one."""
    if card.name.arch.endswith("_ensemble"):
        return f"one model of {card.recipe_seeds} members"
    if card.recipe_mean is None or not card.recipe_seeds:
        return "no recipe: built, not trained"
    if card.recipe_seeds == 1:
        return f"recipe {100 * card.recipe_mean:.2f}%, one seed"
    return (f"recipe {100 * card.recipe_mean:.2f}% ± {100 * card.recipe_std:.2f} over "
            f"{card.recipe_seeds} seeds")


def _list(args):
    models, weights = zoo.list_models(), zoo.list_weights()
    width = max(map(len, models))  # each column as wide as its longest name
    for name in models:
        info = zoo.model_info(name)
        print(f"{name:{width}} {info['params']:>9,} params  {info['summary']}")
    print()
    width = max(map(len, weights))
    for name in weights:
        card = zoo.weight_info(name)
        print(f"{name:{width}} test accuracy {100 * card.test_accuracy:.2f}%  ({_spread(card)})")
    names = molecule_weights.list_weights()
    if names:
        print("\nmolecules (zoo predict SMILES --model NAME):")
        width = max(map(len, names))
    for name in names:
        card = molecule_weights.weight_info(name)
        what = card.target or "solubility class"
        print(f"{name:{width}} {what}: {card.figure()} ({card.dataset})")
    return 0


def _info(args):
    if molecule_weights.is_molecule_name(args.name):
        facts = molecule_weights.weight_info(args.name).to_manifest()
        facts["classes"] = ", ".join(facts["classes"]) or "none (a value)"
    elif WeightName.is_weight_name(args.name):
        card = zoo.weight_info(args.name)
        facts = card.to_manifest()
        if card.name.arch.endswith("_ensemble"):  # one model: no mean or spread over seeds
            facts = {("members" if k == "recipe_seeds" else k): v for k, v in facts.items()
                     if k not in ("recipe_mean", "recipe_std")}
        facts |= {"classes": ", ".join(card.classes), "input_kind": card.input_kind,
                  "preprocessing": card.preprocessing or "none"}
    else:
        facts = zoo.model_info(args.name)
        facts["classes"] = ", ".join(facts["classes"])
        facts["weights"] = ", ".join(zoo.list_weights(f"{args.name}.*")) or "none shipped"
    width = max(map(len, facts))
    for key, value in facts.items():
        print(f"{key:{width}}  {value}")
    return 0


def _kind_of_file(path: str) -> str:
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        return "picture"  # _predict's own checks name the file in their error
    return "audio" if head[:4] == b"RIFF" and head[8:12] == b"WAVE" else "picture"


# Modules that bring Keras (explain), matplotlib (plots) or Pillow (images) are imported inside
# the verbs that use them, so that `zoo list`, `zoo info` and `zoo --help` stay plain data.

def _predict(args):
    """Every input is read and checked first (pictures need no TensorFlow), then each weight
    answers its inputs: picture weights through ONNX Runtime from a cached export (zoo.runtime),
    recordings and --keras through Keras."""
    from zoo.images import ImageError
    from zoo.runtime import FAST_KINDS

    if args.model is not None and molecule_weights.is_molecule_name(args.model):
        return _predict_molecules(args)
    inputs, failed = [], 0  # (path, card, array, notes) of the files that read
    for path in args.files:
        kind = _kind_of_file(path)
        card = zoo.weight_info(args.model or weight_for_kind(kind))
        wants = "audio" if card.input_kind == "audio" else "picture"
        notes = []
        try:
            _refuse_a_smiles_without_its_weight(path)
            if not Path(path).exists():
                raise DataError(f"{path}: no such file (give a picture of a digit or a WAV "
                                "recording; check the path)")
            if card.preprocessing is not None and kind != wants:
                one, many = KIND_WORDS[kind]
                raise DataError(
                    f"{path} is {one}, but {card.name} takes {KIND_WORDS[wants][1]}; leave "
                    f"--model out ({many} go to {weight_for_kind(kind)}) or name a weight for "
                    f"{many} (zoo list)")
            if card.input_kind not in FAST_KINDS:
                _quiet_keras()  # a recording's spectrogram is TensorFlow's
            inputs.append((path, card, card.read_input(path, notes), notes))
        except (ImageError, DataError) as err:
            print(f"error: {err}", file=sys.stderr)
            failed += 1
    predictors = {}  # one per weight, built on first use
    for path, card, x, notes in inputs:
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        name = str(card.name)
        if name not in predictors:
            predictors[name] = _predictor(card, args.keras)
        probs = predictors[name](x[None])[0]
        top = np.argsort(probs)[::-1][:args.top]
        print(f"{path}: " + ", ".join(f"{card.classes[i]} ({probs[i]:.3f})" for i in top),
              flush=True)
    return 2 if failed else 0  # a bad input, as argparse's own refusals


def _refuse_a_smiles_without_its_weight(text: str):
    """A SMILES string given as an input without a molecule weight: say what to add."""
    if Path(text).exists() or not molecule_weights.list_weights():
        return
    from zoo.molecules.featurize import MoleculeError, parse

    try:
        parse(text)
    except MoleculeError:
        return  # not a molecule either: _predict names the missing file
    raise DataError(f"{text!r} is not a file but reads as a molecule (SMILES); name a molecule "
                    f"weight: zoo predict {text!r} --model "
                    f"{molecule_weights.list_weights()[0]} (zoo list shows them)")


def _predict_molecules(args):
    """SMILES strings through a molecule weight: each read and checked first (a bad one is a
    message, the others are answered), then one model answers them all, with units."""
    from zoo.molecules.featurize import MoleculeError

    card = molecule_weights.weight_info(args.model)
    good, inputs, failed = [], [], 0
    for text in args.files:
        try:
            if Path(text).is_file():
                raise MoleculeError(f"{text} is a file, but {card.name} reads a molecule as a "
                                    f"SMILES string: zoo predict 'CCO' --model {card.name}")
            inputs.append(molecule_weights.inputs_of(card, [text]))
            good.append(text)
        except MoleculeError as err:
            print(f"error: {err}", file=sys.stderr)
            failed += 1
    if good:
        _quiet_keras()
        for answer in molecule_weights.predict(card.name, good, inputs=np.concatenate(inputs)):
            if card.task == "classification":
                order = np.argsort(answer.probabilities)[::-1][:args.top]
                said = ", ".join(f"{card.classes[i]} ({answer.probabilities[i]:.3f})"
                                 for i in order)
                print(f"{answer.smiles}: solubility {said}", flush=True)
            else:
                print(f"{answer.smiles}: {card.target} {answer.value:.2f} {card.units} "
                      f"({card.name}; {card.figure()})", flush=True)
    return 2 if failed else 0


def _quiet_keras():
    from zoo.quiet import import_keras_quietly

    import_keras_quietly()


def _predictor(card, keras: bool):
    """x -> probabilities for one weight: ONNX Runtime for pictures (unless --keras), Keras
    otherwise."""
    from zoo.runtime import CACHE_ENV, FAST_KINDS, cache_dir, onnx_predictor

    if not keras and card.input_kind in FAST_KINDS:
        def building(card):
            print(f"note: {card.name} has no usable ONNX export in {cache_dir()} yet (first use, "
                  "or the file changed): exporting it once, a few seconds; later calls answer "
                  "in a fraction of one", file=sys.stderr)
        try:
            return onnx_predictor(card, on_build=building)
        except OSError as err:  # a cache that cannot be written: the answer still comes
            print(f"note: cannot keep the export in {cache_dir()} ({err.strerror or err}): "
                  f"answering with Keras this time; set {CACHE_ENV} to a folder you can write "
                  "for the fast path", file=sys.stderr)
    _quiet_keras()
    model = zoo.load(str(card.name))
    return lambda x: model.predict(x, verbose=0)


def _not_for_molecules(name: str, verb: str) -> None:
    """evaluate and export take picture and audio weights; a molecule weight is told where its
    figures and its answers are, not that it does not exist."""
    if molecule_weights.is_molecule_name(name):
        raise WeightsError(f"{name} is a molecule weight: zoo {verb} takes picture and audio "
                           "weights. Its figures come from `python -m reproductions molecules` "
                           f"(docs/molecules.md); its answers from `zoo predict 'CCO' --model "
                           f"{name}`")


def _evaluate(args):
    import zoo.data
    from zoo import plots

    _not_for_molecules(args.name, "evaluate")
    card = zoo.weight_info(args.name)
    if args.robustness:
        return _robustness(card)
    out = make_folder(args.out)  # an --out that is a file: refused before anything loads
    # the data first: a bad ZOO_DATA_DIR is refused (a DataError, main's message) before the
    # model is loaded for nothing
    (_, _), (x_test, y_test) = zoo.data.load(card.dataset)
    model = zoo.load(str(card.name))
    probs = model.predict(x_test, batch_size=1000, verbose=0)
    pred = probs.argmax(axis=1)
    acc = float(np.mean(pred == y_test))
    print(f"{card.name}: test accuracy {100 * acc:.2f}% on {len(y_test)} images "
          f"(manifest: {100 * card.test_accuracy:.2f}%)")
    for c, label in enumerate(card.classes):
        mask = y_test == c
        print(f"  class {label}: {100 * np.mean(pred[mask] == c):.2f}% of {mask.sum()}")
    fig = plots.confusion_matrix(y_test, pred, card.classes, f"{card.name} on the test set")
    print(f"wrote {plots.save(fig, out / f'{card.name}-confusion.png', dpi=90)}")
    wrong = np.flatnonzero(pred != y_test)
    listed = _write_errors(out / f"{card.name}-errors.csv", wrong, y_test, pred, probs,
                           card.classes)
    print(f"wrote {listed} (the {len(wrong)} test examples it gets wrong, by their index in "
          "the test set)")
    if card.input_kind != "audio":  # a recording's errors are in the CSV, not drawn
        shown = min(len(wrong), ERRORS_DRAWN)
        grid = plots.misclassified_grid(x_test, y_test, pred, probs.max(axis=1), card.classes,
                                        limit=shown, title=f"{card.name}: {shown} of its "
                                        f"{len(wrong)} test errors, true→predicted (probability)")
        print(f"wrote {plots.save(grid, out / f'{card.name}-errors.png', dpi=90)}")
    return 0


ERRORS_DRAWN = 36  # `zoo evaluate`'s picture of errors: the first 36, by test index


def _write_errors(path, wrong, y_test, pred, probs, classes) -> Path:
    """Every test example the weight gets wrong, one row each: its index in the test set (as
    `zoo explain <weight> <index>` takes it for MNIST and FSDD), true and predicted class, and
    the probability the weight gave each of the two."""
    import csv

    from zoo.files import open_for_writing

    with open_for_writing(path, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["test_index", "true", "predicted", "p_predicted", "p_true"])
        writer.writerows([int(i), classes[y_test[i]], classes[pred[i]],
                          f"{probs[i, pred[i]]:.4f}", f"{probs[i, y_test[i]]:.4f}"]
                         for i in wrong)
    return Path(path)


def _robustness(card):
    import zoo.data
    from zoo import robustness

    if card.input_kind in robustness.SKIPPED:
        print(f"error: {card.name}: {robustness.SKIPPED[card.input_kind]}", file=sys.stderr)
        return 2
    model = zoo.load(str(card.name))
    (_, _), (x_test, y_test) = zoo.data.load(card.dataset)
    result = robustness.robustness(model, x_test, y_test)
    print(f"{card.name}: test accuracy under shifts, rotations and noise "
          f"({len(y_test)} images each)")
    for name, acc in result.items():
        print(f"  {name:14} {100 * acc:6.2f}%  ({100 * (acc - result['clean']):+.2f})")
    return 0


def explain_to(model_name: str, input_spec: str, out_root) -> tuple[Path, Path, str, str]:
    """Render the explainer page of `model_name` for `input_spec` under `out_root`; returns
    (page, its folder, the model's label, what the input is in words: "MNIST test image 7,
    labelled 9"). Shared with the suite's `explain --track`."""
    from zoo.explain import explain, resolve_input, resolve_model

    subject = resolve_model(model_name)
    image, truth, caption = resolve_input(input_spec, subject.input_kind)
    out = Path(out_root) / f"{subject.slug}-{Path(input_spec).stem}"
    page = explain(subject.model, image, out, subject.label, truth, caption,
                   classes=subject.classes)
    described = caption if truth is None else \
        f"{caption}, labelled {subject.classes[truth] if subject.classes else truth}"
    return page, out, subject.label, described


def _explain(args):
    if args.serve:
        from zoo.explain_ui import serve  # Flask, only for the live page

        if args.input is not None:  # the page takes its inputs; one given here would be lost
            print(f"error: zoo explain --serve takes no input ({args.input!r}): draw or pick "
                  "one on the page, or leave --serve out to explain it here", file=sys.stderr)
            return 2
        return serve(args.host, args.port, args.model)
    if args.model is None or args.input is None:
        print("error: zoo explain needs a model and an input (or --serve)", file=sys.stderr)
        return 2
    if molecule_weights.is_molecule_name(args.model):
        return _explain_molecule(args)
    import warnings

    from zoo.audio import RecordingNote

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RecordingNote)
            page, _, label, described = explain_to(args.model, args.input, args.out)
    except (ValueError, DataError) as err:  # a bad input, an unknown weight
        print(f"error: {err}", file=sys.stderr)
        return 2
    for said in caught:  # a recording's notes as `zoo predict` prints them; others as they were
        if issubclass(said.category, RecordingNote):
            print(f"note: {said.message}", file=sys.stderr)
        else:
            warnings.showwarning(said.message, said.category, said.filename, said.lineno)
    print(f"{label} on {described}: wrote {page}")
    return 0


def _explain_molecule(args):
    """A molecule weight on a SMILES string: which atoms or characters moved its answer."""
    from zoo.molecules.explain import write_explanation
    from zoo.molecules.featurize import MoleculeError, parse

    try:
        parse(args.input)  # a bad SMILES is refused before Keras loads
        _quiet_keras()
        page = write_explanation(args.model, args.input, args.out)
    except MoleculeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{args.model} on {args.input}: wrote {page}")
    return 0


def _export(args):
    from zoo.export import export, read_metadata

    _not_for_molecules(args.name, "export")
    path = export(args.name, args.format, args.out)
    card = read_metadata(path)
    print(f"wrote {path} ({args.format}): input {card['input']['name']} "
          f"{card['input']['dtype']} {tuple(card['input']['shape'])}, classes "
          f"{' '.join(card['classes'])}")
    return 0


def _top(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: show at least 1 class (a whole number)")
    return int(text)


def _folder(text: str) -> str:
    """--out: an empty value (an unset shell variable, `--out "$DIR"`) would write into the
    current folder; it is refused instead."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty folder name; give a folder, e.g. --out exports")
    return text


def build_parser() -> argparse.ArgumentParser:
    from zoo.export import FORMATS

    parser = argparse.ArgumentParser(
        prog="zoo", description="the ConvNet Zoo: models, shipped weights, what layers see",
        epilog="training, searches, exports, MLflow: python -m reproductions --help")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="models and shipped weights").set_defaults(run=_list)
    p = sub.add_parser("info", help="a model's facts, or a shipped weight's card")
    p.add_argument("name", help="a model (conv3_bn) or a shipped weight (conv3_bn.mnist)")
    p.set_defaults(run=_info)
    p = sub.add_parser("predict", help="classify pictures of digits (PNG, JPEG, ...) or "
                       "recordings of spoken digits (WAV, 8 kHz); with a molecule weight, "
                       "molecules given as SMILES")
    p.add_argument("files", nargs="+", metavar="input",
                   help="files; or SMILES strings (quoted) with --model <molecule weight>")
    p.add_argument("--model", default=None, help="shipped weight (zoo list); default "
                   "conv7_bn_ensemble.mnist for pictures (conv3_bn.mnist in a zoo without it), "
                   "audio_conv.fsdd for WAV recordings; molecules need one named, e.g. "
                   "smiles_cnn.freesolv")
    p.add_argument("--top", type=_top, default=3, help="how many classes to show (from 1)")
    p.add_argument("--keras", action="store_true", help="run pictures through Keras instead of "
                   "ONNX Runtime (each call then imports TensorFlow: ~7 s); recordings always are")
    p.set_defaults(run=_predict)
    p = sub.add_parser("evaluate", help="test accuracy, per class, a confusion matrix PNG and "
                       "the test examples it gets wrong (CSV, and a PNG of pictures)")
    p.add_argument("name", help="shipped weight, e.g. conv3_bn.mnist")
    p.add_argument("--out", default=".", type=_folder,
                   help="folder for the confusion matrix PNG and the errors' CSV and PNG")
    p.add_argument("--robustness", action="store_true", help="instead: accuracy on the test "
                   "set moved by 1 and 2 pixels each way, rotated by ±10 and ±20 degrees, and "
                   "with Gaussian noise (zoo/robustness.py); MNIST weights")
    p.set_defaults(run=_evaluate)
    p = sub.add_parser("explain", help="what each layer sees, as PNGs and an HTML page")
    p.add_argument("model", nargs="?", help="a shipped weight (conv3_bn.mnist) or a model name; "
                   "with --serve, the weight the page opens with")
    p.add_argument("input", nargs="?", help="an MNIST test index, X or O, or a picture of a "
                   "digit; a SMILES string for a molecule weight")
    p.add_argument("--serve", action="store_true", help="the live explainer: a local web page "
                   "to draw digits on and watch every layer answer")
    p.add_argument("--host", default="127.0.0.1", help="with --serve: address to bind")
    p.add_argument("--port", type=port_number, default=8050, help="with --serve: port")
    p.add_argument("--out", default="runs/explain", type=_folder, help="folder for the pages")
    p.set_defaults(run=_explain)
    p = sub.add_parser("export", help="a shipped weight as a TensorFlow SavedModel, ONNX or "
                       "LiteRT file, with its card in the file's metadata")
    p.add_argument("name", help="shipped weight, e.g. conv3_bn.mnist")
    p.add_argument("--format", required=True, choices=FORMATS)
    p.add_argument("--out", default="exports", type=_folder,
                   help="folder to write into (default exports/)")
    p.set_defaults(run=_export)
    return parser


def main(argv=None):
    from zoo.quiet import stop_at_closed_pipe

    for stream in (sys.stdout, sys.stderr):  # a file name that is not UTF-8 is still printed
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    return stop_at_closed_pipe(_main, argv)  # `zoo list | head` ends quietly


def _main(argv):
    from zoo.export import ExportError

    args = build_parser().parse_args(argv)
    if args.run in (_evaluate, _explain, _export):  # predict imports Keras only if it needs it
        from zoo.quiet import import_keras_quietly

        import_keras_quietly()
    try:
        return args.run(args)
    except (WeightsError, ExportError, zoo.UnknownModelError, DataError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except WriteError as err:  # a full disk, a read-only folder: what was there is still there
        where = " (--out)" if hasattr(args, "out") else ""  # the verbs that write under --out
        print(f"error: {err}{where}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
