"""The robustness card of every shipped weight: reproductions/results/robustness.csv and the
"Robustness" section of zoo/MODELS.md (both generated, never typed).

    python -m reproductions robustness          # make robustness; evaluation only, ~2 minutes

For each shipped MNIST weight, zoo.robustness measures the test accuracy with the test set moved,
turned and made noisy (see that module for how). The X/O and audio weights get a row that says
why they are not measured. MODELS.md is rewritten from the cards by models_md.py, which adds
the section from this CSV (and holds the CSV's reader and writer, which both verbs use).
"""

from __future__ import annotations

import zoo
import zoo.data
from reproductions.ship.models_md import CSV, MODELS_MD, read_csv, write_csv, write_models_md
from zoo import robustness



def _is_convolutional(model) -> bool:
    return any("Conv" in type(layer).__name__ for layer in _layers(model))


def _layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):  # an ensemble's members
            yield from _layers(layer)


def measure(names=None) -> list[dict]:
    rows, data = [], {}
    for name in names or zoo.list_weights():
        card = zoo.weight_info(name)
        row = {"weight": name, "params": card.params}
        if card.input_kind in robustness.SKIPPED:
            rows.append(row | {"note": robustness.SKIPPED[card.input_kind]})
            print(f"{name}: skipped")
            continue
        if card.dataset not in data:
            data[card.dataset] = zoo.data.load(card.dataset)[1]
        model = zoo.load(name)
        result = robustness.robustness(model, *data[card.dataset])
        row |= {"convolutional": "yes" if _is_convolutional(model) else "no",
                **{k: f"{v:.4f}" for k, v in result.items()}, "note": ""}
        rows.append(row)
        print(f"{name}: " + ", ".join(f"{k} {100 * v:.2f}%" for k, v in
                                      robustness.summary(result).items()), flush=True)
    return rows




def run(args) -> int:
    """The `robustness` verb."""
    names = list(args.weights) or None  # shipped weights, checked while parsing
    rows = measure(names)
    if names:  # a partial run keeps the other weights' rows
        rows = [r for r in read_csv() if r["weight"] not in names] + rows
        rows.sort(key=lambda r: r["weight"])
    write_csv(rows)
    write_models_md(list(zoo.weights.cards().values()))
    print(f"wrote {CSV} and {MODELS_MD}")
    return 0
