"""Weight averaging (issue 28, a recipe's ema_momentum): validation reads the averaged weights,
which are the weights the run ends with, and averaging leaves the training itself alone; with
ema_bn_batches, BatchNorm's statistics are recomputed for the average (SWA's update)."""

import dataclasses

import keras
import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from reproductions.recipes import Recipe
from reproductions.run.prepare import AveragedValidation, refresh_batchnorm
from tests.test_reproduction import final_weights, same

# a short averaged run of conv3 on 1,000 training images
AVERAGED = Recipe("quick_averaged", "conv3", None, "a test recipe", pixel_scale=1 / 256,
                  steps=40, eval_every=20, train_subset=1000, seeds=(1,), ema_momentum=0.9)
# the same with BatchNorm, refreshed for the average on 3 batches
AVERAGED_BN = dataclasses.replace(AVERAGED, name="quick_averaged_bn", model="conv3_bn",
                                  ema_bn_batches=3)


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


@pytest.mark.parametrize("recipe", [AVERAGED, AVERAGED_BN], ids=lambda r: r.name)
def test_an_averaged_run_reports_the_average(recipe, mlflow_store, tmp_path):
    """A short run end to end: its last logged validation loss is the averaged net's, which is
    the model it logs (with its BatchNorm statistics refreshed, for AVERAGED_BN)."""
    from reproductions.run.prepare import build_model, load_data
    from reproductions.run.train import train_run

    result = train_run(recipe, 1, checkpoint_root=tmp_path / "ckpt", blind=True)
    client = MlflowClient()
    run = client.get_run(result["run_id"])
    assert run.info.status == "FINISHED" and run.data.params["ema_momentum"] == "0.9"
    model = build_model(recipe)
    model.set_weights(final_weights(run.info.run_id, recipe.model))
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


# ---- BatchNorm refreshed for the average (ema_bn_batches) -------------------------------------

def _bn_data():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(256, 8)).astype("float32"), rng.integers(0, 3, size=256)
    return x, y


def _bn_batches(x, y, count=4, size=32):
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((x, y)).batch(size).take(count)


def _bn_model():
    # BatchNorm right after the first layer, dropout after it: the statistics have a numpy
    # oracle, and dropout's random state is something the refresh must give back
    return keras.Sequential([keras.Input((8,)), keras.layers.Dense(6, name="dense"),
                             keras.layers.BatchNormalization(momentum=0.9, name="bn"),
                             keras.layers.ReLU(), keras.layers.Dropout(0.3),
                             keras.layers.Dense(3, activation="softmax")])


def _expected_statistics(model, x, count=4, size=32):
    """What SWA's update gives: the mean over the batches of each batch's mean and (biased)
    variance of the dense layer's outputs, computed here with numpy from its weights."""
    kernel, bias = model.get_layer("dense").get_weights()
    outputs = [x[i * size:(i + 1) * size] @ kernel + bias for i in range(count)]
    return (np.mean([o.mean(axis=0) for o in outputs], axis=0),
            np.mean([o.var(axis=0) for o in outputs], axis=0))


def _bn_fit(batches):
    keras.utils.set_random_seed(5)
    model = _bn_model()
    model.compile(keras.optimizers.Adam(0.05, use_ema=True, ema_momentum=0.9),
                  "sparse_categorical_crossentropy")
    x, y = _bn_data()
    val = (x[:64] + 0.5, y[:64])
    history = model.fit(x, y, batch_size=32, epochs=3, validation_data=val, verbose=0,
                        shuffle=False, callbacks=[AveragedValidation(batches)])
    return model, history.history, val


def test_refresh_batchnorm_gives_the_mean_of_the_batches_statistics():
    keras.utils.set_random_seed(3)
    model = _bn_model()
    x, y = _bn_data()
    refresh_batchnorm(model, _bn_batches(x, y))
    bn = model.get_layer("bn")
    mean, variance = _expected_statistics(model, x)
    np.testing.assert_allclose(bn.moving_mean.numpy(), mean, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), variance, rtol=1e-3, atol=1e-6)
    assert bn.momentum == 0.9  # given back


def test_the_refresh_leaves_training_alone_and_the_run_ends_with_its_statistics():
    x, y = _bn_data()
    refreshed, history, val = _bn_fit(_bn_batches(x, y))
    plain, _, _ = _bn_fit(None)
    # the same training, to the bit: the same averaged weights and dropout's random state
    for a, b in zip(refreshed.trainable_variables, plain.trainable_variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    states = [(a.numpy(), b.numpy()) for a, b in zip(refreshed.non_trainable_variables,
                                                     plain.non_trainable_variables)
              if "seed_generator" in a.path]
    assert states and all(np.array_equal(a, b) for a, b in states)
    # the run ends with the statistics of the average on the refresh batches ...
    bn = refreshed.get_layer("bn")
    mean, variance = _expected_statistics(refreshed, x)
    np.testing.assert_allclose(bn.moving_mean.numpy(), mean, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), variance, rtol=1e-3, atol=1e-6)
    assert not np.allclose(plain.get_layer("bn").moving_mean.numpy(), mean, rtol=1e-3)
    # ... which the last validation read
    assert history["val_loss"][-1] == pytest.approx(refreshed.evaluate(*val, verbose=0),
                                                    rel=1e-6)


def test_ema_bn_batches_goes_with_ema_momentum():
    plain = Recipe("plain", "conv3_bn", None, "test")
    with pytest.raises(ValueError, match="ema_bn_batches is a number of batches >= 1"):
        dataclasses.replace(plain, ema_bn_batches=10)  # no averaging to refresh for
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="ema_bn_batches is a number of batches >= 1"):
            dataclasses.replace(plain, ema_momentum=0.999, ema_bn_batches=bad)
    averaged = dataclasses.replace(plain, ema_momentum=0.999)
    assert "ema_bn_batches" not in averaged.training_config()
    assert dataclasses.replace(averaged, ema_bn_batches=100).hash() != averaged.hash()
