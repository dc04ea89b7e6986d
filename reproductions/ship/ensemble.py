"""The ensemble of a recipe's trained members, shipped as one Keras model, and its honest spread.

    python -m reproductions ensemble conv7_bn_cosine   # make zoo-ensemble (its declared seeds)

Members are the FINISHED runs of the recipe (one per seed) in the MLflow store: their `.keras`
artifacts are loaded, averaged into one model by zoo.models.ensemble.ensemble (named
"<net>_ensemble", shipped as "<net>_ensemble.mnist" with its card in the manifest and MODELS.md),
and the spread is written to reproductions/results/<recipe>_ensemble.csv: the test accuracy of
every k-member sub-ensemble of the members, for each k (k = 1: the single nets). The spread of
sub-ensembles drawn from n members is not that of independent ensembles (they share members);
`disjoint` gives the independent figure when enough members were trained (2 groups of 4 from 8).

    python -m reproductions ensemble conv7_bn_cosine --screening conv7_bn_views

With --screening, the candidate that `python -m reproductions ensemble-screen <name>` chose blind
on validation (recipes/ensembles/<name>.json) ships instead: its members, each reading the
picture through its views, under the name the file declares, its spread in
results/<name>_ensemble.csv. Its members may come from several recipes that train the recipe's
net on its data; they are then named recipe:seed (reproductions.run.members.Member).
"""

from __future__ import annotations

import csv
import itertools
import json
import statistics
from dataclasses import dataclass

import numpy as np

from reproductions.ship.naming import ensemble_name



@dataclass(frozen=True)
class Spread:
    k: int
    groups: tuple  # each group of member seeds
    accuracies: tuple  # the test accuracy of each group's averaged probabilities

    @property
    def mean(self) -> float:
        return statistics.fmean(self.accuracies)

    @property
    def std(self) -> float:
        return statistics.stdev(self.accuracies) if len(self.accuracies) > 1 else 0.0


def _accuracy(probs, y) -> float:
    return float(np.mean(np.asarray(probs).argmax(axis=1) == np.asarray(y)))


def _check(member_probs: dict, y, k: int) -> None:
    if not 1 <= k <= len(member_probs):
        raise ValueError(f"k must be between 1 and the {len(member_probs)} members, got {k}")
    for seed, probs in member_probs.items():
        if np.shape(probs) != (len(y), np.shape(probs)[-1]):
            raise ValueError(f"member {seed}: probabilities of shape {np.shape(probs)}, expected "
                             f"one row for each of the {len(y)} labels")


def sub_ensembles(member_probs: dict, y, k: int) -> Spread:
    """Every k-member sub-ensemble of the members ({seed: (n, classes) probabilities}): the test
    accuracy of each one's mean probabilities."""
    _check(member_probs, y, k)
    groups = tuple(itertools.combinations(sorted(member_probs), k))
    return Spread(k, groups, tuple(_accuracy(np.mean([member_probs[s] for s in g], axis=0), y)
                                   for g in groups))


def disjoint(member_probs: dict, y, k: int) -> Spread:
    """Ensembles of k members that share none: seeds in order, cut into groups of k (a remainder
    smaller than k is left out)."""
    _check(member_probs, y, k)
    seeds = sorted(member_probs)
    groups = tuple(tuple(seeds[i:i + k]) for i in range(0, len(seeds) - k + 1, k))
    return Spread(k, groups, tuple(_accuracy(np.mean([member_probs[s] for s in g], axis=0), y)
                                   for g in groups))


def spread_rows(member_probs: dict, y, wall_s: dict | None = None,
                reference_wall_s: dict | None = None) -> list[dict]:
    """The CSV: for each k, the sub-ensembles' mean, std, min, max and count; then the disjoint
    groups where there are at least two. With `wall_s` ({seed: the member run's training and
    evaluation seconds}), each row also has its groups' training time, all members together
    (mean and max over the groups): what an ensemble of k costs on the machine that trained it;
    with `reference_wall_s` (the same, scaled to the reference kind: reproductions.report.pace),
    what it costs there."""
    rows = []
    for k in range(1, len(member_probs) + 1):
        for kind, spread in (("every sub-ensemble", sub_ensembles(member_probs, y, k)),
                             ("disjoint groups", disjoint(member_probs, y, k))):
            if kind == "disjoint groups" and (k == 1 or len(spread.groups) < 2):
                continue  # single members are already the k = 1 sub-ensembles
            rows.append({"k": k, "kind": kind, "count": len(spread.groups),
                         "mean_test_acc": f"{spread.mean:.5f}", "std_test_acc": f"{spread.std:.5f}",
                         "min_test_acc": f"{min(spread.accuracies):.5f}",
                         "max_test_acc": f"{max(spread.accuracies):.5f}",
                         "groups": " ".join("+".join(map(str, g)) for g in spread.groups)})
            for suffix, walls in (("", wall_s), ("_reference_kind", reference_wall_s)):
                if walls is not None:
                    totals = [sum(walls[s] for s in g) for g in spread.groups]
                    rows[-1] |= {f"members_wall_s_mean{suffix}": f"{statistics.fmean(totals):.1f}",
                                 f"members_wall_s_max{suffix}": f"{max(totals):.1f}"}
    return rows




def ship(members: dict, recipe, x_test, y_test, facts: dict, screening=None,
         threads: dict | None = None, pace_of: str | None = None):
    """Save the ensemble of `members` ({seed or Member: keras.Model}) as the weight of `recipe`'s
    ensemble and return its WeightCard. `facts`: data_sha256, keras_version, tensorflow_version,
    git_commit, as the member runs were tagged (the caller checks they agree). `screening`: an
    ensemble screening (reproductions.recipes.ensemble_screening) whose chosen candidate these
    members are: they read its views, under the name the screening declares. `threads`: {recipe:
    the TensorFlow threads its members trained with}, named in the card's command, as is
    `pace_of`, the recipe whose pace scaled the members' time in the spread file."""
    import zoo
    from reproductions.recipes.notes import with_threads
    from zoo.data.idx import sha256_of
    from zoo.files import atomic_path
    from zoo.models.ensemble import ensemble
    from zoo.weights import WEIGHTS_DIR, WeightCard, WeightName, accuracy, load_file

    name = ensemble_name(recipe) if screening is None else WeightName.parse(screening.weight)
    if name.arch != ensemble_name(recipe).arch:
        raise ValueError(f"an ensemble of {recipe.name} nets must ship as a weight of "
                         f"{ensemble_name(recipe).arch}, not {name}")
    zoo.registry.get_spec(name.arch)  # "<net>_ensemble" must be a registered model
    seeds = sorted(members)
    by_recipe = {}  # {recipe: its seeds}: the runs to train first
    for key in seeds:
        by_recipe.setdefault(getattr(key, "recipe", recipe.name), []).append(int(
            getattr(key, "seed", key)))
    train = " && ".join(with_threads(f"make reproduce-{recipe.family} RECIPES={r} "
                                     f"SEEDS={','.join(map(str, these))}",
                                     (threads or {}).get(r)) for r, these in by_recipe.items())
    shifts = ((0, 0),) if screening is None else screening.candidates[screening.chosen].shifts
    target = WEIGHTS_DIR / f"{name}.keras"
    with atomic_path(target) as temp:
        ensemble([members[s] for s in seeds], name=name.arch, shifts=shifts).save(temp)
    model = load_file(target)  # what users load: hash-free here, the card records it next
    acc = accuracy(model, x_test, y_test)
    spec = zoo.data.get_dataset(recipe.dataset)
    return WeightCard(
        name=name, dataset=recipe.dataset, file=target.name, sha256=sha256_of(target),
        size=target.stat().st_size,
        params=sum(int(np.prod(w.shape)) for w in model.trainable_weights),
        test_accuracy=acc, recipe=recipe.name, recipe_mean=acc, recipe_std=0.0,
        recipe_seeds=len(seeds), target_acc=0.997,
        target_source="the lecture's 'record du monde', 99.7%",
        command=f"{train} && " + (
                    f"python -m reproductions ensemble {recipe.name} --seeds "
                    f"{','.join(map(str, seeds))}" if screening is None else
                    f"python -m reproductions ensemble-screen {screening.name} && python -m "
                    f"reproductions ensemble {recipe.name} --screening {screening.name}")
                + (f" --pace-of {pace_of}" if pace_of else ""),
        seed=None, mlflow_run_id=None,
        chosen=f"all {len(seeds)} members, "
               + (f"seeds {', '.join(map(str, seeds))}, " if len(by_recipe) == 1 else
                  f"{', '.join(map(str, seeds))} (recipe:seed), ") + (
            "probabilities averaged" if screening is None else
            f"each reading {len(shifts)} view(s) of the picture (candidate {screening.chosen}, "
            f"chosen on validation: results/{screening.name}_ensemble_screening.md), all "
            "probabilities averaged")
        + f"; the spread of its sub-ensembles: results/{spread_file(recipe, screening)}",
        input=spec.input, license=spec.weights_license, recipe_hash=recipe.hash(), **facts)


def spread_file(recipe, screening=None) -> str:
    return f"{recipe.name if screening is None else screening.name}_ensemble.csv"


def asked(args):
    """The verb's arguments checked against the catalog, the screenings and the shipped cards:
    (the recipe, the screening or None, the (recipe, seed) of each member, the weight's name).
    A bad one is a usage error. It needs neither the store nor Keras, so `python -m reproductions`
    runs it before either (the verb's `check`): a wrong seed list is answered at once."""
    import zoo.weights
    from reproductions.recipes import ENSEMBLES, RECIPES
    from reproductions.recipes.ensemble_screening import load_ensemble_screening

    if args.recipe not in RECIPES:
        args.verb_parser.error(f"unknown recipe {args.recipe!r}")
    recipe = RECIPES[args.recipe]
    screening = None
    if args.screening:  # a candidate chosen blind on validation, never on the test set read below
        if args.seeds is not None:
            args.verb_parser.error("--seeds and --screening exclude each other: the screening's "
                                   "chosen candidate names its members")
        try:
            screening = load_ensemble_screening(args.screening)
        except ValueError as err:
            args.verb_parser.error(str(err))
        if screening.ensemble != recipe.name:
            args.verb_parser.error(f"ensemble screening {screening.name} is about "
                                   f"{screening.ensemble}'s ensemble, not {recipe.name}'s")
        if screening.chosen is None:
            args.verb_parser.error(f"{screening.name} has no choice yet: run `python -m "
                                   f"reproductions ensemble-screen {screening.name}` and record "
                                   "its choice in its file")
        if screening.chosen == next(iter(screening.candidates)):
            args.verb_parser.error(f"the rule kept the shipped ensemble ({screening.chosen}): "
                                   "nothing new to ship")
        candidate = screening.candidates[screening.chosen]
        alien = [r for r in candidate.recipes if (RECIPES[r].model, RECIPES[r].dataset)
                 != (recipe.model, recipe.dataset)]
        if alien:
            args.verb_parser.error(f"{screening.chosen}'s members of {', '.join(alien)} are not "
                                   f"{recipe.model} nets of {recipe.dataset}: they cannot ship "
                                   f"as {recipe.model}'s ensemble")
        pairs = list(candidate.members)
    else:
        declared = ENSEMBLES.get(recipe.name)
        # whole numbers, checked while parsing (reproductions.__main__); none: the declared ones
        seeds = list(args.seeds) if args.seeds is not None else list(declared or ())
        if args.seeds is not None and len(seeds) < 2:
            args.verb_parser.error("an ensemble needs at least 2 member seeds")
        if tuple(sorted(seeds)) != declared:
            args.verb_parser.error(
                f"{recipe.name}'s ensemble declares its member seeds before training: "
                + (f"{', '.join(map(str, declared))}, not {', '.join(map(str, seeds))}"
                   if declared else "it declares none")
                + " (ENSEMBLES in reproductions/recipes/catalog.py)")
        pairs = [(recipe.name, seed) for seed in seeds]
    # never over another recipe's ensemble (conv7_bn_distilled pins conv7_bn_ensemble.mnist's
    # file as its teacher): one weight name, one recipe's members
    target = (ensemble_name(recipe) if screening is None else screening.weight)
    held = zoo.weights.cards().get(str(target))
    if held is not None and held.recipe != recipe.name:
        args.verb_parser.error(f"{target} is {held.recipe}'s ensemble; {recipe.name}'s would ship "
                               "over it: give it a tag of its own (reproductions/ship/naming.py)")
    return recipe, screening, pairs, target


def run(args) -> int:
    """The `ensemble` verb: members from the store, the spread CSV, the shipped weight."""
    import zoo
    import zoo.data
    import zoo.weights
    from reproductions.report import record_doc
    from reproductions.ship.models_md import write_models_md
    from reproductions import RESULTS
    from reproductions.recipes import ENSEMBLES, RECIPES
    from reproductions.recipes.notes import threads_of
    from reproductions.report.pace import check_same_work, on_reference_kind, reference_pace
    from reproductions.run.members import Member, member_probabilities, trained_members
    from tracking import check_store
    from zoo.files import open_for_writing, write_text
    from zoo.weights import MANIFEST

    recipe, screening, pairs, target = asked(args)
    check_store()
    names = sorted({name for name, _ in pairs})
    runs, members = {}, {}  # by seed; by Member where the nets come from several recipes
    for name in names:
        try:
            found, models = trained_members(RECIPES[name], [s for r, s in pairs if r == name])
        except ValueError as err:
            args.verb_parser.error(str(err))
        for seed in found:
            key = seed if names == [recipe.name] else Member(seed, name)
            runs[key], members[key] = found[seed], models[seed]
    seeds = sorted(members)
    (_, _), (x_test, y_test) = zoo.data.load(recipe.dataset)
    shifts = ((0, 0),) if screening is None else screening.candidates[screening.chosen].shifts
    probs = {seed: member_probabilities(members[seed], shifts, x_test) for seed in seeds}
    tags = [{k: runs[s].data.tags.get(t) for k, t in (
        ("data_sha256", "data_sha256"), ("keras_version", "version.keras"),
        ("tensorflow_version", "version.tensorflow"), ("git_commit", "git_commit"))}
        for s in seeds]
    if any(t["data_sha256"] != tags[0]["data_sha256"] for t in tags):
        args.verb_parser.error("the members were trained on different data (data_sha256)")
    out = RESULTS / spread_file(recipe, screening)
    walls = {s: runs[s].data.metrics["wall_s"] for s in seeds}
    reference = None
    if args.pace_of:  # the members' time on the reference kind, by their pace against it
        try:
            for name in names:
                check_same_work(RECIPES[name], args.pace_of)
            pace = reference_pace(args.pace_of)
        except ValueError as err:
            args.verb_parser.error(str(err))
        unpaced = [s for s in seeds if "images_per_second" not in runs[s].data.metrics]
        if unpaced:
            args.verb_parser.error(f"member seed(s) {', '.join(map(str, unpaced))} logged no "
                                   "images_per_second: their time cannot be scaled; leave out "
                                   "--pace-of or train them again")
        reference = {s: on_reference_kind(walls[s], runs[s].data.metrics["images_per_second"],
                                          pace) for s in seeds}
    rows = spread_rows(probs, y_test, walls, reference)
    machines = " | ".join(sorted({  # where the walls were measured, as the runs' tags say
        f"{t.get('machine', 'unknown machine')} ({t.get('cpu_kind', 'unknown CPU kind')}; "
        f"TensorFlow threads: {t.get('tf_threads', 'default')})"
        for t in (runs[s].data.tags for s in seeds)}))
    rows = [row | {"machine": machines} for row in rows]
    with open_for_writing(out, newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    by_recipe = {}  # {recipe: the threads its members trained with}, where they all agree
    for member in seeds:
        by_recipe.setdefault(getattr(member, "recipe", recipe.name), set()).add(
            threads_of(runs[member].data.tags.get("tf_threads")))
    card = ship(members, recipe, x_test, y_test, tags[0], screening,
                {r: t.pop() for r, t in by_recipe.items() if len(t) == 1}, args.pace_of)
    merged = sorted([c for c in zoo.weights.cards().values() if c.name != card.name] + [card],
                    key=lambda c: str(c.name))
    write_text(MANIFEST, json.dumps([c.to_manifest() for c in merged], indent=2) + "\n")
    zoo.weights.cards.cache_clear()
    write_models_md(merged)
    print(f"{card.name}: test accuracy {100 * card.test_accuracy:.2f}%; wrote {out}, "
          f"{card.path}, {MANIFEST}")
    if recipe.name in ENSEMBLES and record_doc.update(record_doc.DOC, recipes=[recipe.name]):
        print(f"wrote the ensembles' part of {record_doc.DOC}")
    return 0
