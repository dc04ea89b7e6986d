"""Weight averaging (issue 28, a recipe's ema_momentum): validation reads the averaged weights,
which are the weights the run ends with, and averaging leaves the training itself alone."""

import dataclasses

import keras
import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from reproductions.recipes import Recipe
from reproductions.run.prepare import AveragedValidation
from tests.test_reproduction import final_weights, same

# a short averaged run of conv3 on 1,000 training images
AVERAGED = Recipe("quick_averaged", "conv3", None, "a test recipe", pixel_scale=1 / 256,
                  steps=40, eval_every=20, train_subset=1000, seeds=(1,), ema_momentum=0.9)


def _fit(callbacks, ema=True):
    keras.utils.set_random_seed(5)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.05, use_ema=ema, ema_momentum=0.9),
                  "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(256, 8)).astype("float32"), rng.integers(0, 3, size=256)
    val = (x[:64] + 0.5, y[:64])
    history = model.fit(x, y, batch_size=32, epochs=3, validation_data=val, verbose=0,
                        shuffle=False, callbacks=callbacks)
    return model, history.history, val


def test_the_last_validation_is_that_of_the_weights_the_run_ends_with():
    model, history, val = _fit([AveragedValidation()])
    # after fit, Keras has put the average in place: the net the run yields
    assert history["val_loss"][-1] == pytest.approx(model.evaluate(*val, verbose=0), rel=1e-6)
    # without the callback, validation read the trained weights, which the run does not yield
    model, history, val = _fit([])
    assert history["val_loss"][-1] != pytest.approx(model.evaluate(*val, verbose=0), rel=1e-4)


def test_validating_on_the_average_leaves_the_training_alone():
    """The trained weights are put back after each validation: the same steps, to the bit."""
    with_it, _, _ = _fit([AveragedValidation()])
    without, _, _ = _fit([])
    for a, b in zip(with_it.get_weights(), without.get_weights()):
        np.testing.assert_array_equal(a, b)
    # and the average differs from the plain run's last weights
    plain, _, _ = _fit([], ema=False)
    assert any(not np.array_equal(a, b) for a, b in zip(with_it.get_weights(),
                                                         plain.get_weights()))


def test_a_recipe_averages_only_with_adam_and_a_validation_split():
    plain = Recipe("plain", "conv3", None, "test")
    for bad in (0.0, 1.0, 1, "0.999"):
        with pytest.raises(ValueError, match="ema_momentum is a fraction"):
            dataclasses.replace(plain, ema_momentum=bad)
    with pytest.raises(ValueError, match="optimizer 'adam' and a validation split"):
        dataclasses.replace(plain, ema_momentum=0.999, optimizer="sgd")
    with pytest.raises(ValueError, match="optimizer 'adam' and a validation split"):
        dataclasses.replace(plain, ema_momentum=0.999, validation_size=0)
    assert "ema_momentum" not in plain.training_config()  # older recipes keep their hashes
    assert dataclasses.replace(plain, ema_momentum=0.999).hash() != plain.hash()


def test_an_averaged_run_reports_the_average(mlflow_store, tmp_path):
    """A short run end to end: its last logged validation loss is the averaged net's, which is
    the model it logs."""
    from reproductions.run.prepare import build_model, load_data
    from reproductions.run.train import train_run

    recipe = AVERAGED
    result = train_run(recipe, 1, checkpoint_root=tmp_path / "ckpt", blind=True)
    client = MlflowClient()
    run = client.get_run(result["run_id"])
    assert run.info.status == "FINISHED" and run.data.params["ema_momentum"] == "0.9"
    model = build_model(recipe)
    model.set_weights(final_weights(run.info.run_id, "conv3"))
    x, y = load_data(recipe, with_test=False).val
    probabilities = model.predict(x, batch_size=1000, verbose=0)
    loss = float(np.mean(keras.losses.sparse_categorical_crossentropy(y, probabilities)))
    logged = client.get_metric_history(run.info.run_id, "val_loss")[-1].value
    assert loss == pytest.approx(logged, rel=1e-4)


class _StopAfterFirstEvaluation:
    """A progress display that stops the run after its first checkpoint, as a Ctrl-C would."""

    def epoch_done(self, recipe, seed, epoch, logs):
        raise KeyboardInterrupt

    def __getattr__(self, name):  # every other progress call: nothing to show
        return lambda *args, **kwargs: None


def test_an_averaged_run_resumed_from_its_checkpoint_ends_as_one_never_stopped(mlflow_store,
                                                                                tmp_path):
    """The average is optimizer state: the checkpoint keeps it, so a run stopped after its first
    evaluation and resumed ends with the weights of a run never stopped."""
    from reproductions.run.train import train_run

    recipe = AVERAGED
    with pytest.raises(KeyboardInterrupt):
        train_run(recipe, 1, checkpoint_root=tmp_path / "ckpt", blind=True,
                  progress=_StopAfterFirstEvaluation(), log_mlflow_model=False)
    resumed = train_run(recipe, 1, checkpoint_root=tmp_path / "ckpt", blind=True,
                        log_mlflow_model=False)
    assert MlflowClient().get_run(resumed["run_id"]).data.tags["resumed_from_epoch"] == "1"
    whole = train_run(dataclasses.replace(recipe, name="quick_averaged_whole"), 1,
                      checkpoint_root=tmp_path / "ckpt", blind=True, log_mlflow_model=False)
    assert same(final_weights(resumed["run_id"], "conv3"), final_weights(whole["run_id"], "conv3"))
