"""Knowledge distillation (issue 28): one net trained on what a shipped teacher (an ensemble)
says of each training image, not on the label alone.

The recipe's `distill` is (teacher, its sha256 prefix, alpha, temperature). Before training, the
teacher's probabilities p on the training images (the same 55,000 its members trained on: the
validation split stays unseen by teacher and student) are softened, q = softmax(log p / T), and
mixed with the label: target = alpha * q + (1 - alpha) * one_hot(label). The student is trained on
the cross-entropy to that target (Hinton et al. 2015 with the student's own temperature left at 1,
so no T^2 rescaling is needed). The targets are computed once, on the images as stored: an
augmented image (turned, zoomed, moved) keeps the target of its original, as the label does,
which saves a teacher's forward pass for every training step (four nets' worth for an ensemble
of four).

Label smoothing (a recipe's `label_smoothing`, Szegedy et al. 2016) is the same training with a
teacher that gives every class the same probability: `smoothed` makes its targets.

Validation and test labels stay plain class numbers: the loss and accuracy below take either a
row of class probabilities or a class number, so the validation loss of a distilled student is
the same cross-entropy to the label as any other recipe's, and screenings compare them.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

import zoo
from zoo.data import DataError


class TeacherError(DataError):
    """The recipe's teacher is not the weight it pins, or learned from other images: the run's
    training targets cannot be made, a data error (the command says so and exits 2)."""


def _dense(y_true, y_pred):
    """Targets as rows of class probabilities: a class number becomes its one-hot row."""
    classes = y_pred.shape[-1]
    if len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == classes:
        return ops.cast(y_true, y_pred.dtype)
    return ops.one_hot(ops.cast(ops.reshape(y_true, (-1,)), "int32"), classes, dtype=y_pred.dtype)


@keras.saving.register_keras_serializable(package="reproductions")
def soft_cross_entropy(y_true, y_pred):
    """Cross-entropy to a row of target probabilities (or to a class number)."""
    return keras.losses.categorical_crossentropy(_dense(y_true, y_pred), y_pred)


@keras.saving.register_keras_serializable(package="reproductions")
def accuracy(y_true, y_pred):
    """Whether the predicted class is the target's most likely one (the label's, for a class
    number): named `accuracy` so that histories keep their keys (val_accuracy)."""
    target = ops.argmax(_dense(y_true, y_pred), axis=-1)
    return ops.cast(ops.equal(ops.argmax(y_pred, axis=-1), target), "float32")


def teacher_probabilities(student, teacher: str, sha256_prefix: str, x) -> np.ndarray:
    """The shipped teacher's probabilities on `x` (the student recipe's training images), after
    checking it is the weight pinned and that it learned from the same training images: the
    same data set and validation split, so the student's validation images are unseen by both."""
    from reproductions.recipes import RECIPES

    try:
        card = zoo.weight_info(teacher)
    except zoo.WeightsError as err:
        raise TeacherError(f"the teacher {teacher!r} is not a shipped weight ({err}); "
                           "see `zoo list`") from None
    taught = RECIPES.get(card.recipe)
    if taught is None or (taught.dataset, taught.validation_size) != (student.dataset,
                                                                     student.validation_size):
        raise TeacherError(
            f"the teacher {teacher} was trained by recipe {card.recipe!r}, not on "
            f"{student.name}'s training images ({student.dataset}, less a validation split of "
            f"{student.validation_size:,}): the student's validation images may be ones the "
            "teacher learned; pick a teacher trained on the same split")
    if not card.sha256.startswith(sha256_prefix):
        raise TeacherError(f"the teacher {teacher} is now sha256 {card.sha256[:12]}, not the "
                           f"{sha256_prefix} this recipe pins: it was re-shipped, so a student "
                           "trained from it is another recipe (give it the new hash and a new "
                           "name)")
    model = zoo.load(teacher)  # checked against its card (size and sha256)
    return model.predict(x, batch_size=1000, verbose=0)


def smoothed(labels, epsilon: float, classes: int) -> np.ndarray:
    """Label smoothing's targets, (1 - epsilon) * one_hot(label) + epsilon / classes, float32:
    distillation from a teacher that gives every class the same probability (alpha = epsilon)."""
    uniform = np.full((len(labels), classes), 1.0 / classes)
    return targets(uniform, labels, epsilon, 1.0)


def targets(probabilities, labels, alpha: float, temperature: float) -> np.ndarray:
    """alpha * softmax(log p / T) + (1 - alpha) * one_hot(label), float32, one row an image."""
    p = np.asarray(probabilities, dtype=np.float64)
    logits = np.log(np.clip(p, 1e-12, 1.0)) / temperature
    soft = np.exp(logits - logits.max(axis=1, keepdims=True))
    soft /= soft.sum(axis=1, keepdims=True)
    hard = np.eye(p.shape[1])[np.asarray(labels)]
    return (alpha * soft + (1 - alpha) * hard).astype(np.float32)
