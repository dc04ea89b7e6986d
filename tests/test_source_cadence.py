"""Görner's recipes test as his scripts did (issue 31): the cadence, the number of updates and
the batch of each, pinned against the scripts' own lines, quoted here verbatim from
tensorflow-mnist-tutorial/ at commit 0394811 of GoogleCloudPlatform/tensorflow-without-a-phd
(docs/goerner-scripts.md). The steps at which the test set is read are replayed from
tensorflowvisu.animate's loop (its lines 355-364, restated below), not taken from the recipe."""

import re

import pytest

from reproductions.recipes import RECIPES

# recipe: (script, line, its animate call), (line, its batch), (line, where the quoted figure's
# iteration count is, when the script's own count is not the one that produced it)
SCRIPTS = {
    "softmax": (
        ("mnist_1.0_softmax.py", 115,
         "datavis.animate(training_step, iterations=2000+1, train_data_update_freq=10, "
         "test_data_update_freq=50, more_tests_at_start=True)"),
        (94, "    batch_X, batch_Y = mnist.train.next_batch(100)"),
        (123, "# final max test accuracy = 0.9268 (10K iterations). Accuracy should peak above "
              "0.92 in the first 2000 iterations.")),
    "mlp5": (
        ("mnist_2.1_five_layers_relu_lrdecay.py", 127,
         "datavis.animate(training_step, iterations=10000+1, train_data_update_freq=20, "
         "test_data_update_freq=100, more_tests_at_start=True)"),
        (106, "    batch_X, batch_Y = mnist.train.next_batch(100)"), None),
    "conv3": (
        ("mnist_3.0_convolutional.py", 134,
         "datavis.animate(training_step, 10001, train_data_update_freq=10, "
         "test_data_update_freq=100)"),
        (112, "    batch_X, batch_Y = mnist.train.next_batch(100)"), None),
    "conv3_dropout": (
        ("mnist_3.1_convolutional_bigger_dropout.py", 139,
         "datavis.animate(training_step, 10001, train_data_update_freq=20, "
         "test_data_update_freq=100)"),
        (118, "    batch_X, batch_Y = mnist.train.next_batch(100)"), None),
    "conv3_bn": (
        ("mnist_4.2_batchnorm_convolutional.py", 178,
         "datavis.animate(training_step, 10001, train_data_update_freq=20, "
         "test_data_update_freq=100)"),
        (155, "    batch_X, batch_Y = mnist.train.next_batch(100)"), None),
}
# conv3_bn_bf16 is conv3_bn's recipe in bfloat16: the same script
SCRIPTS["conv3_bn_bf16"] = SCRIPTS["conv3_bn"]


def animate_arguments(call: str) -> dict:
    """iterations, train and test frequencies and more_tests_at_start of an animate call, with
    animate's defaults (tensorflowvisu.py:353)."""
    args = call[call.index("(") + 1:call.rindex(")")].split(", ")[1:]
    found = {"train_data_update_freq": 20, "test_data_update_freq": 100,
             "more_tests_at_start": False}
    for arg in args:
        key, _, value = arg.rpartition("=")  # no key: "10001", the iterations by position
        found[key or "iterations"] = (value == "True" if value in ("True", "False")
                                      else sum(int(term) for term in value.split("+")))
    return found


def updates_at_tests(iterations, train_freq, test_freq, more_tests_at_start):
    """After how many updates animate() reads the test set. Its frames i = 0 ..
    iterations // train_freq; an ordinary frame calls compute_step(n) for n = i * train_freq
    + k (k < train_freq), testing when n % test_freq == 0 (or, with more_tests_at_start, when
    n < test_freq and n % train_freq == 0); the last frame calls compute_step(iterations),
    always testing. Each call tests before its update, so a test at label n sees n updates,
    except the last, which sees every update made before it."""
    updates, tested = 0, []
    for i in range(iterations // train_freq + 1):
        if i == iterations // train_freq:
            tested.append(updates)
            break
        for k in range(train_freq):
            n = i * train_freq + k
            test = n % test_freq == 0
            if more_tests_at_start and n < test_freq:
                test = n % train_freq == 0
            if test:
                tested.append(updates)
            updates += 1
    return tuple(tested)


def test_every_goerner_recipe_is_pinned_here():
    published = {name for name, r in RECIPES.items() if r.published
                 and r.target_source.startswith("Görner, tensorflow-without-a-phd")}
    assert published == set(SCRIPTS)


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_the_recipe_tests_when_its_script_tested(name):
    recipe = RECIPES[name]
    (script, line, call), (batch_line, batch), figure = SCRIPTS[name]
    args = animate_arguments(call)
    updates = args["iterations"] - 1
    if figure is not None:  # the figure came from a longer run than the script's
        updates = int(re.search(r"\((\d+)K iterations\)", figure[1]).group(1)) * 1000
    assert recipe.steps == updates
    assert recipe.batch_size == int(re.search(r"next_batch\((\d+)\)", batch).group(1))
    assert recipe.test_every == args["test_data_update_freq"]
    assert recipe.early_test_every == (args["train_data_update_freq"]
                                       if args["more_tests_at_start"] else None)
    replayed = updates_at_tests(updates + 1, args["train_data_update_freq"],
                              args["test_data_update_freq"], args["more_tests_at_start"])
    assert recipe.test_steps() == replayed
    # the recipe's notes quote the line they follow (conv3_bn_bf16 is conv3_bn's study)
    if name != "conv3_bn_bf16":
        assert f"{script}:{line} `{call}`" in recipe.notes


def test_the_replay_counts_what_the_script_notes_say():
    """docs/goerner-scripts.md's table, from its own replay: 45 tests in 1.0 as shipped, 105 in
    2.1, 101 in 3.0-4.2; the last after 2,000 or 10,000 updates."""
    assert len(updates_at_tests(2001, 10, 50, True)) == 45
    assert updates_at_tests(2001, 10, 50, True)[:7] == (0, 10, 20, 30, 40, 50, 100)
    assert updates_at_tests(2001, 10, 50, True)[-2:] == (1950, 2000)
    assert len(updates_at_tests(10001, 20, 100, True)) == 105
    assert len(updates_at_tests(10001, 10, 100, False)) == 101
    assert updates_at_tests(10001, 20, 100, False)[-2:] == (9900, 10000)


def test_a_chosen_variant_of_a_goerner_recipe_drops_his_cadence_and_keeps_its_hash():
    from reproductions.recipes.recipe import derive

    chosen = derive(RECIPES["conv3_dropout"], {"validation_size": 5000})
    assert chosen.test_every is None and chosen.source_runs == ()
    assert "test_every" not in chosen.training_config()


def test_a_cadence_that_misses_an_evaluation_is_refused():
    from dataclasses import replace

    with pytest.raises(ValueError, match="test_every must divide eval_every"):
        replace(RECIPES["conv3"], test_every=300)
    with pytest.raises(ValueError, match="early_test_every must divide"):
        replace(RECIPES["conv3"], early_test_every=30)
    with pytest.raises(ValueError, match="published recipe"):
        replace(RECIPES["conv3"], validation_size=5000)
