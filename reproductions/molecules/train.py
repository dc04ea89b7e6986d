"""Training one molecule recipe on one seed, and its baselines: what a row of the table measures.

Read top to bottom: the features (drawings, SMILES codes, fingerprints, descriptors), then one
function per kind of model, each returning the same Outcome: the validation and test figures, the
seconds its training took (featurizing excluded: it is the same for every seed), and the model
(a Keras net to keep as the run's artifact, or None).

Nothing here picks on the test molecules: the nets stop on validation loss with their best
validation weights restored, the linear model's strength is the one with the best validation
figure, and the test figures are computed once, at the end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from reproductions.recipes.molecules import MoleculeRecipe
from zoo.data.molecules import MoleculeSplit, Part, molecule_split
from zoo.data.specs import get_dataset
from zoo.molecules import featurize


@dataclass
class Outcome:
    metrics: dict  # validation_* and test_*: rmse and mae (regression) or accuracy
    seconds: float  # training only
    model: object = None  # the trained Keras net (nets only)
    epochs: int = 0  # passes trained (nets only)


def figures(task: str, part: str, y_true, y_pred) -> dict:
    """The figures of one part: RMSE and MAE of values, accuracy of class probabilities/labels."""
    y_true = np.asarray(y_true)
    if task == "classification":
        labels = y_pred if np.ndim(y_pred) == 1 else np.argmax(y_pred, axis=-1)
        return {f"{part}_accuracy": float(np.mean(labels == y_true))}
    err = np.asarray(y_pred, np.float64).reshape(-1) - y_true.astype(np.float64)
    return {f"{part}_rmse": float(np.sqrt(np.mean(err ** 2))),
            f"{part}_mae": float(np.mean(np.abs(err)))}


def _both(task, split: MoleculeSplit, predict) -> dict:
    return (figures(task, "validation", split.validation.y, predict(split.validation))
            | figures(task, "test", split.test.y, predict(split.test)))


# ---- features ---------------------------------------------------------------------------------

def fingerprints(part: Part, recipe: MoleculeRecipe) -> np.ndarray:
    from rdkit.Chem import rdFingerprintGenerator

    gen = rdFingerprintGenerator.GetMorganGenerator(radius=recipe.fingerprint_radius,
                                                    fpSize=recipe.fingerprint_bits)
    return np.stack([gen.GetFingerprintAsNumPy(featurize.parse(s)) for s in part.smiles]
                    ).astype(np.float32)


def descriptors(part: Part) -> np.ndarray:
    """RDKit's ~200 descriptors of each molecule (float64; a few can be inf or nan)."""
    from rdkit.Chem import Descriptors

    rows = [Descriptors.CalcMolDescriptors(featurize.parse(s)) for s in part.smiles]
    return np.array([[row[k] for k in sorted(row)] for row in rows], np.float64)


# ---- the baselines ----------------------------------------------------------------------------

def train_mean(recipe, split, task, seed) -> Outcome:
    start = time.perf_counter()
    if task == "classification":
        guess = np.bincount(split.train.y).argmax()
        predict = lambda part: np.full(len(part), guess)  # noqa: E731
    else:
        guess = float(np.mean(split.train.y))
        predict = lambda part: np.full(len(part), guess)  # noqa: E731
    return Outcome(_both(task, split, predict), time.perf_counter() - start)


def train_calc(recipe, split, task, seed) -> Outcome:
    """FreeSolv's own `calc`: the alchemical estimate of each molecule, nothing learned."""
    return Outcome(_both(task, split, lambda part: part.extra), 0.0)


def train_rf(recipe, split, task, seed) -> Outcome:
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    x = {p: fingerprints(getattr(split, p), recipe) for p in ("train", "validation", "test")}
    kind = RandomForestClassifier if task == "classification" else RandomForestRegressor
    forest = kind(n_estimators=recipe.trees, random_state=seed, n_jobs=2)
    start = time.perf_counter()
    forest.fit(x["train"], split.train.y)
    seconds = time.perf_counter() - start
    lookup = {id(split.validation): x["validation"], id(split.test): x["test"]}
    return Outcome(_both(task, split, lambda part: forest.predict(lookup[id(part)])), seconds)


def train_linear(recipe, split, task, seed) -> Outcome:
    """Ridge (logistic for classes) on standardized descriptors; the strength with the best
    validation figure is kept. A descriptor that is inf or nan takes the training median."""
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    raw = {p: descriptors(getattr(split, p)) for p in ("train", "validation", "test")}
    train = np.where(np.isfinite(raw["train"]), raw["train"], np.nan)
    fill = np.nan_to_num(np.nanmedian(train, axis=0))
    x = {p: np.clip(np.where(np.isfinite(v), v, fill), -1e12, 1e12) for p, v in raw.items()}
    start = time.perf_counter()
    best = None
    for strength in recipe.strengths:
        model = (LogisticRegression(C=1.0 / strength, max_iter=5000)
                 if task == "classification" else Ridge(alpha=strength))
        fitted = make_pipeline(StandardScaler(), model).fit(x["train"], split.train.y)
        score = figures(task, "validation", split.validation.y, fitted.predict(x["validation"]))
        key = -score["validation_accuracy"] if task == "classification" else \
            score["validation_rmse"]
        if best is None or key < best[0]:
            best = (key, strength, fitted)
    seconds = time.perf_counter() - start
    _, strength, fitted = best
    lookup = {id(split.validation): x["validation"], id(split.test): x["test"]}
    metrics = _both(task, split, lambda part: fitted.predict(lookup[id(part)]))
    return Outcome(metrics | {"chosen_strength": strength}, seconds)


# ---- the nets ---------------------------------------------------------------------------------

def net_inputs(model: str, part: Part) -> np.ndarray:
    """What a net reads of a part's molecules: drawings, or the canonical SMILES' codes."""
    if model == "smiles_cnn":
        return featurize.encode([featurize.canonical(s) for s in part.smiles])
    return featurize.images(part.smiles)


def enumerated(part: Part, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Each training molecule as `n` random SMILES (seeded): the text net's augmentation."""
    texts, ys = [], []
    for s, y in zip(part.smiles, part.y):
        variants = featurize.enumerate_smiles(featurize.parse(s), n, seed)
        texts += variants
        ys += [y] * len(variants)
    return featurize.encode(texts), np.array(ys, part.y.dtype)


def train_net(recipe, split, task, seed) -> Outcome:
    import keras

    from zoo.molecules import nets

    spec = get_dataset(recipe.dataset)
    keras.utils.set_random_seed(seed)
    if recipe.model == "smiles_cnn":
        x_train, y_train = enumerated(split.train, recipe.enumerations, seed)
    else:
        x_train, y_train = net_inputs(recipe.model, split.train), split.train.y
    x_valid = net_inputs(recipe.model, split.validation)
    if task == "classification":
        model = getattr(nets, recipe.model)(task, classes=len(spec.classes))
        loss, metrics = "sparse_categorical_crossentropy", ["accuracy"]
    else:
        y = split.train.y.astype(np.float64)
        model = getattr(nets, recipe.model)(task, mean=float(y.mean()), std=float(y.std()))
        loss, metrics = "mean_squared_error", [keras.metrics.RootMeanSquaredError(name="rmse")]
    model.compile(keras.optimizers.Adam(recipe.learning_rate), loss, metrics=metrics)
    stop = keras.callbacks.EarlyStopping("val_loss", patience=recipe.patience,
                                         restore_best_weights=True)
    start = time.perf_counter()
    history = model.fit(x_train, y_train, batch_size=recipe.batch_size, epochs=recipe.epochs,
                        validation_data=(x_valid, split.validation.y), callbacks=[stop],
                        shuffle=True, verbose=0)
    seconds = time.perf_counter() - start
    inputs = {id(split.validation): x_valid, id(split.test): net_inputs(recipe.model, split.test)}
    # a plain call, not model.predict: predict traces a function per model, which TensorFlow
    # warns about on the console once a process has built a few nets
    predict = lambda part: keras.ops.convert_to_numpy(  # noqa: E731
        model(inputs[id(part)], training=False))
    return Outcome(_both(task, split, predict), seconds, model, len(history.history["loss"]))


TRAINERS = {"mean": train_mean, "calc": train_calc, "rf": train_rf, "linear": train_linear,
            "chemception": train_net, "mol_conv": train_net, "smiles_cnn": train_net}


def train(recipe: MoleculeRecipe, seed: int) -> tuple[Outcome, MoleculeSplit]:
    split = molecule_split(recipe.dataset)
    task = get_dataset(recipe.dataset).task
    return TRAINERS[recipe.model](recipe, split, task, seed), split
