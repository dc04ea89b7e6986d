"""What the live explainer keeps between requests (the Lab): loaded nets and their probes, the
data sets, and the explanation of one request, from the weight's name and the input asked for.

The server is threaded; the Lab runs one forward pass at a time, under a lock. Nothing here
knows of Flask: zoo.explain_ui.routes turns requests into Lab calls.
"""

from __future__ import annotations

import random
import threading
import time

import numpy as np

import zoo
import zoo.data
from zoo.explain import Explainer
from zoo.explain_ui.answer import to_json
from zoo.explain_ui.inputs import InputError, UnknownWeight, decode_picture, fsdd_file


class Lab:
    """What the server keeps between requests: loaded nets and their probes, the data sets."""

    def __init__(self):
        self._lock = threading.Lock()  # one forward pass at a time: 2 cores, one teacher
        self._explainers: dict[str, Explainer] = {}
        self._mnist = None
        self._wrong: dict[str, np.ndarray] = {}
        self._molecule_nets: dict = {}

    @staticmethod
    def weights() -> list[dict]:
        rows = []
        for name in zoo.list_weights():
            card = zoo.weight_info(name)  # classes and input kind: the card's, never guessed
            rows.append({"name": name, "dataset": card.dataset, "kind": card.input_kind,
                         "accuracy": card.test_accuracy, "classes": list(card.classes)})
        return rows

    def explainer(self, name: str) -> Explainer:
        if name not in self._explainers:
            if name not in zoo.list_weights():
                raise UnknownWeight(f"unknown model {name!r}; shipped weights: "
                                    f"{', '.join(zoo.list_weights())}")
            self._explainers[name] = Explainer(zoo.load(name), zoo.weight_info(name).classes)
        return self._explainers[name]

    def mnist(self):
        if self._mnist is None:
            (_, _), self._mnist = zoo.data.load_mnist()
        return self._mnist

    def misclassified(self, name: str) -> np.ndarray:
        """Indices of the MNIST test images weight `name` gets wrong (computed once)."""
        if name not in self._wrong:
            x, y = self.mnist()
            model = self.explainer(name).model
            pred = model.predict(x, batch_size=1000, verbose=0).argmax(axis=1)
            self._wrong[name] = np.flatnonzero(pred != y)
        return self._wrong[name]

    def resolve(self, name: str, kind: str, source: dict):
        """(image as the model sees it, true class index or None, caption, extra fields)."""
        what, value = source.get("kind"), source.get("value")
        if kind == "mnist" and what == "picture":
            return decode_picture(value), None, "your drawing, converted the MNIST way", {}
        if kind == "mnist" and what == "mnist":
            x, y = self.mnist()
            extra = {}
            if value == "misclassified":
                wrong = self.misclassified(name)
                if not len(wrong):
                    raise InputError(f"{name} gets every MNIST test image right")
                value = int(random.choice(wrong))
                extra = {"index": value}
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < len(x):
                raise InputError(f"an MNIST test image is an index from 0 to {len(x) - 1}, "
                                 f"not {value!r}")
            caption = f"MNIST test image {value}" + (
                f", one that {name} gets wrong" if extra else "")
            return x[value], int(y[value]), caption, extra
        if kind == "xo" and what == "xo":
            from zoo.data.xo import make_xo
            from zoo.models.xo import CLASSES, O_IMAGE, X_IMAGE

            if value in CLASSES:
                return (X_IMAGE if value == "X" else O_IMAGE), CLASSES.index(value), \
                    f"the lecture's {value}", {}
            if value == "generated":
                seed = random.randrange(10**6)
                (images, labels), _ = make_xo(1, seed=seed)
                return images[0], int(labels[0]), \
                    f"a generated {CLASSES[labels[0]]} (zoo.data.xo, seed {seed})", {}
            raise InputError(f"an X/O example is X, O or generated, not {value!r}")
        if kind == "audio" and what == "fsdd":
            from zoo.data.fsdd import _order, spectrogram_of_file

            path = fsdd_file(value)
            return spectrogram_of_file(path), _order(value)[0], \
                f"FSDD recording {value} (log-mel spectrogram)", {}
        wanted = {"mnist": "a drawing, a picture or an MNIST test image",
                  "xo": "an X/O example", "audio": "an FSDD recording"}[kind]
        raise InputError(f"{name} takes {wanted}, not {what!r}")

    def explain(self, name: str, source: dict) -> dict:
        if not isinstance(name, str):
            raise InputError("say which model: {\"model\": \"conv3_bn.mnist\", ...}")
        if not isinstance(source, dict):
            raise InputError("say what to explain: {\"input\": {\"kind\": ..., \"value\": ...}}")
        name = zoo.weights.shipped_name(name)  # "lenet5": its shipped default, as `zoo explain`
        with self._lock:
            start = time.perf_counter()
            explainer = self.explainer(name)
            kind = zoo.weight_info(name).input_kind
            image, truth, caption, extra = self.resolve(name, kind, source)
            answer = to_json(explainer(image), kind)
            answer.update(extra, model=name, caption=caption, truth=truth,
                          server_ms=round(1000 * (time.perf_counter() - start), 1))
        return answer

    @staticmethod
    def molecule_weights() -> list[dict]:
        from zoo.molecules import weights

        return [{"name": c.name, "dataset": c.dataset, "task": c.task, "figure": c.figure()}
                for c in map(weights.weight_info, weights.list_weights())]

    def molecule(self, name, smiles) -> dict:
        """Which atoms (image nets) or characters (text net) moved a molecule weight's answer."""
        from zoo.molecules import explain, featurize, weights

        if not isinstance(name, str) or not weights.is_molecule_weight(name):
            raise UnknownWeight(f"unknown molecule weight {name!r}; shipped: "
                                f"{', '.join(weights.list_weights())}")
        if not isinstance(smiles, str):
            raise InputError("a molecule is a SMILES string: {\"model\": ..., \"smiles\": \"CCO\"}")
        featurize.parse(smiles)  # a bad SMILES: MoleculeError, a 400, before any net runs
        with self._lock:
            start = time.perf_counter()
            if name not in self._molecule_nets:
                self._molecule_nets[name] = weights.load(name)
            e = explain.explain_molecule(name, smiles, self._molecule_nets[name])
            answer = explain.to_json(e, name)
            answer["server_ms"] = round(1000 * (time.perf_counter() - start), 1)
        return answer
