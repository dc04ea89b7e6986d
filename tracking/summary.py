"""A recipe's figure over its seeds, computed once: the results tables (reproductions/report/tables.py)
and the recipe's parent run in MLflow (tracking/parents.py) both take it from `summarize`, so the
two cannot disagree.

From the newest FINISHED run of each declared seed of one recipe version (tracking.runs
.finished_runs; a run of a seed the recipe does not declare is listed apart, never averaged in),
all trained on the same data (the `data_digest` tag: the arrays in the order the run used them;
seeds trained on other data are never merged): the final test accuracy's mean, sample standard
deviation (n-1), 95% interval of the mean (Student t with n-1 degrees of freedom: mean ± t * std
/ sqrt(n)), the test set's own binomial standard error at the mean (sqrt(p (1 - p) / n_test):
the sampling error of a test set of its size, which no number of seeds removes), and the verdict
against the recipe's target. The verdict is two-sided and judged on exact counts of correct
test answers (a target of 0.9905 on 10,000 images is 9,905 answers; no float rounding decides a
tie):

    above         the whole 95% interval of the mean is at or above the target
    within noise  the interval contains the target
    short         the whole interval is below the target
    undecided     fewer than two seeds: no interval to judge by
    no bar        the recipe has no target (measured only)

The interval is over seeds (what varies from one training to the next); the target was measured
on the same test set, so the test set's own sampling error is shown beside it, not added to it.
Beside the word: the mean's distance to the target, in points and in test images.

A recipe here is anything with name, model, hash(), target_acc, target_source and published
(reproductions.recipes.Recipe): tracking does not import the training suite. Published recipes
read the test set on their source's cadence, so their runs also carry the max over those tests
(the sources' own, optimistic measure), judged by the same rule beside the final figure
(peak_judged); where the source lists its own runs' maxima, against_source_runs compares ours
with them as two samples (Welch's interval of the difference of means: neither side's variance
is known to equal the other's, and Student's pooled interval would assume it). Chosen recipes
read the test set once, at the end, and have no max.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from fractions import Fraction

CONFIDENCE = 0.95


def t_interval(values: list[float], confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    """(low, high): the Student-t interval of the mean of `values`; None under two values."""
    n = len(values)
    if n < 2:
        return None
    from scipy.stats import t  # scipy only where an interval is computed

    mean, std = statistics.fmean(values), statistics.stdev(values)
    half = float(t.ppf((1 + confidence) / 2, n - 1)) * std / math.sqrt(n)
    return mean - half, mean + half


def binomial_se(p: float, n_test: int | None) -> float | None:
    """The standard error of an accuracy p measured on n_test independent examples."""
    return math.sqrt(p * (1 - p) / n_test) if n_test else None


def correct_answers(accuracy: float, n_test: int) -> int:
    """The count of correct test answers an accuracy stands for (MLflow keeps it as a float)."""
    count = round(accuracy * n_test)
    if abs(accuracy * n_test - count) > 1e-3:  # not a count over n_test: a wrong n_test
        raise ValueError(f"accuracy {accuracy!r} is not a whole number of answers out of {n_test}")
    return count


@dataclass(frozen=True)
class Verdict:
    """A two-sided verdict and the mean's distance to the target (None: no target)."""

    word: str  # above / within noise / short / undecided / no bar
    gap_images: Fraction | None  # mean - target, in test answers
    gap_points: float | None  # mean - target, in percentage points

    def text(self) -> str:
        """"within noise (+0.01 points, +1.3 images)": the word, then the signed distance."""
        if self.gap_images is None:
            return self.word
        images = float(self.gap_images)
        return (f"{self.word} ({self.gap_points:+.2f} points, "
                f"{images:+.1f} image{'' if abs(images) == 1 else 's'})")


def judge(correct: list[int], n_test: int, target: float | None,
          confidence: float = CONFIDENCE) -> Verdict:
    """The verdict on counts of correct answers out of n_test, one count per seed.

    The mean count and the target count are exact fractions (the target from its decimal
    digits: 0.9905 -> 9905/10000 of n_test), so ties are exact; the interval's half-width is
    t * s / sqrt(n), exactly zero when every seed has the same count."""
    if target is None:
        return Verdict("no bar", None, None)
    n = len(correct)
    mean = Fraction(sum(correct), n)
    bar = Fraction(str(target)) * n_test  # str: the decimal the source wrote, not the float
    gap = mean - bar
    points = float(100 * gap / n_test)
    if n < 2:
        return Verdict("undecided", gap, points)
    variance = sum((Fraction(c) - mean) ** 2 for c in correct) / (n - 1)
    if variance == 0:
        low = high = mean
    else:
        from scipy.stats import t  # scipy only where an interval is computed

        half = float(t.ppf((1 + confidence) / 2, n - 1)) * math.sqrt(variance) / math.sqrt(n)
        low, high = float(mean) - half, float(mean) + half
    word = "above" if low >= bar else "short" if high < bar else "within noise"
    return Verdict(word, gap, points)


def judge_accuracies(accuracies: list[float], n_test: int, target: float | None) -> Verdict:
    """judge() from accuracies measured on n_test examples."""
    return judge([correct_answers(a, n_test) for a in accuracies], n_test, target)


@dataclass(frozen=True)
class RecipeSummary:
    recipe: str
    recipe_hash: str
    model: str
    seeds: tuple[int, ...]
    run_ids: tuple[str, ...]
    test_accuracy: tuple[float, ...]  # final, one per seed, in seed order
    peak_test_accuracy: tuple[float | None, ...]  # max over training; None: a chosen recipe
    final_val_accuracy: tuple[float | None, ...]  # None: a published recipe (no validation)
    wall_s: tuple[float, ...]  # training only: the source-cadence tests are test_eval_s
    test_eval_s: tuple[float | None, ...]  # None: runs that predate the figure, chosen recipes
    images_per_second: tuple[float | None, ...]
    machines: tuple[str, ...]
    target_acc: float | None
    target_source: str
    published: bool
    data_digest: str | None
    n_test: int | None  # test examples (None: runs that predate the figure)

    @property
    def n_seeds(self) -> int:
        return len(self.seeds)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.test_accuracy)

    @property
    def std(self) -> float:
        return statistics.stdev(self.test_accuracy) if self.n_seeds > 1 else 0.0

    @property
    def mean_peak(self) -> float | None:
        """The mean max over training; None unless every run read the test set during it."""
        peaks = self.peak_test_accuracy
        return statistics.fmean(peaks) if peaks and None not in peaks else None

    @property
    def binomial_se(self) -> float | None:
        return binomial_se(self.mean, self.n_test)

    @property
    def protocol(self) -> str:
        return "published" if self.published else "chosen"

    @property
    def interval(self) -> tuple[float, float] | None:
        return t_interval(list(self.test_accuracy))

    @property
    def judged(self) -> Verdict:
        """The two-sided verdict on counts of correct answers (n_test: the runs' test set)."""
        if self.target_acc is None:
            return Verdict("no bar", None, None)
        if self.n_test is None:
            raise ValueError(f"{self.recipe}: its runs do not say how many test examples they "
                             "read (test_examples); retrain them to judge on counts")
        return judge_accuracies(list(self.test_accuracy), self.n_test, self.target_acc)

    @property
    def verdict(self) -> str:
        return self.judged.word

    @property
    def peak_judged(self) -> Verdict | None:
        """The same two-sided verdict on the max over training (the sources' own measure,
        optimistic: picked on the test set); None for a chosen recipe, which has no such max."""
        if self.mean_peak is None or self.target_acc is None or self.n_test is None:
            return None
        return judge_accuracies(list(self.peak_test_accuracy), self.n_test, self.target_acc)

    def verdict_text(self) -> str:
        """The verdict with the mean's distance to the target: "above (+0.16 points, +16.3
        images)"."""
        return self.judged.text()

    def line(self) -> str:
        """One line for people: figure, interval, seeds, verdict against the target."""
        ci = self.interval
        text = (f"{100 * self.mean:.2f}% ± {100 * self.std:.2f} final test accuracy over "
                f"{self.n_seeds} seed{'s' if self.n_seeds > 1 else ''} "
                f"({' '.join(map(str, self.seeds))})")
        if ci:
            text += f", 95% interval of the mean {100 * ci[0]:.2f}-{100 * ci[1]:.2f}%"
        if self.target_acc is not None:
            text += f"; target {self.target_acc} ({self.target_source}): {self.verdict_text()}"
        return text

    def metrics(self) -> dict[str, float]:
        """The figures as MLflow metrics of the parent run."""
        out = {"test_accuracy_mean": self.mean, "test_accuracy_std": self.std,
               "test_accuracy_min": min(self.test_accuracy),
               "test_accuracy_max": max(self.test_accuracy),
               "wall_s_mean": statistics.fmean(self.wall_s), "n_seeds": float(self.n_seeds)}
        if self.mean_peak is not None:
            out["peak_test_accuracy_mean"] = self.mean_peak
        if self.peak_judged is not None:
            out["peak_target_gap_points"] = self.peak_judged.gap_points
        if self.binomial_se is not None:
            out["test_accuracy_binomial_se"] = self.binomial_se
        if self.interval:
            out["test_accuracy_ci95_low"], out["test_accuracy_ci95_high"] = self.interval
        if self.target_acc is not None:
            out["target_acc"] = self.target_acc
            if self.n_test is not None:
                out["target_gap_points"] = self.judged.gap_points
                out["target_gap_images"] = float(self.judged.gap_images)
        return out

    def tags(self) -> dict[str, str]:
        """The words as MLflow tags of the parent run (the target verbatim, as in the recipe)."""
        peak = {} if self.peak_judged is None else {
            "peak_verdict_optimistic": self.peak_judged.text()}
        return peak | {"verdict": self.verdict, "verdict_text": self.verdict_text(),
                "target_acc": str(self.target_acc),
                "target_source": self.target_source, "seeds": " ".join(map(str, self.seeds)),
                "protocol": self.protocol, "summary": self.line()}


@dataclass(frozen=True)
class TwoSamples:
    """Our seeds' maxima over training against the maxima of the source's own runs (the same
    measure): Welch's interval of the difference of means (unequal variances, Welch-
    Satterthwaite degrees of freedom) and its two-sided word."""

    ours: tuple[float, ...]
    theirs: tuple[float, ...]
    low: float
    high: float

    @property
    def difference(self) -> float:
        return statistics.fmean(self.ours) - statistics.fmean(self.theirs)

    @property
    def word(self) -> str:
        return "above" if self.low > 0 else "short" if self.high < 0 else "within noise"

    def text(self) -> str:
        return (f"{self.word} ({100 * self.difference:+.2f} points, 95% Welch interval "
                f"{100 * self.low:+.2f} to {100 * self.high:+.2f})")


def against_source_runs(ours: list[float], theirs: list[float],
                        confidence: float = CONFIDENCE) -> TwoSamples | None:
    """Welch's interval of mean(ours) - mean(theirs); None under two values on either side."""
    if len(ours) < 2 or len(theirs) < 2:
        return None
    from scipy.stats import ttest_ind  # scipy only where an interval is computed

    interval = ttest_ind(ours, theirs, equal_var=False).confidence_interval(confidence)
    return TwoSamples(tuple(ours), tuple(theirs), float(interval.low), float(interval.high))


class MixedData(ValueError):
    """A recipe's seeds were trained on different data: their figures are not one sample."""


def seed_row(recipe, seed: int, run) -> dict:
    """One FINISHED MLflow run as a row of the per-seed file (<dataset>_seeds.csv): the file the
    results tables are rendered from, so that they outlive the store the runs were made in."""
    metrics, tags = run.data.metrics, run.data.tags
    n_test = metrics.get("test_examples")
    return {"recipe": recipe.name, "recipe_hash": recipe.hash(), "seed": seed,
            "run_id": run.info.run_id, "final_test_acc": metrics["test_accuracy"],
            "max_test_acc_during_training": metrics.get("peak_test_accuracy"),
            "final_val_acc": metrics.get("final_val_accuracy"), "wall_s": metrics["wall_s"],
            "images_per_second": metrics.get("images_per_second"),
            "data_digest": tags.get("data_digest"), "machine": tags.get("machine", "?"),
            "test_examples": None if n_test is None else int(n_test),
            "test_evaluations": _count(metrics.get("test_evaluations")),
            "test_eval_s": metrics.get("test_eval_s")}


def summarize(recipe, by_seed: dict) -> RecipeSummary | None:
    """The summary of `by_seed` ({seed: FINISHED MLflow run}) over the recipe's declared seeds;
    None without runs of them. Raises MixedData if those seeds were trained on different data."""
    return summarize_rows(recipe, [seed_row(recipe, seed, run) for seed, run in by_seed.items()])


def declared(recipe, rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """(rows of the recipe's declared seeds, rows of other seeds: listed apart, never averaged)."""
    rows = sorted(rows, key=lambda r: int(r["seed"]))
    return ([r for r in rows if int(r["seed"]) in recipe.seeds],
            [r for r in rows if int(r["seed"]) not in recipe.seeds])


def summarize_rows(recipe, rows: list[dict]) -> RecipeSummary | None:
    """The summary of per-seed rows (seed_row's keys) of the recipe's current version, over its
    declared seeds only; None without a row of them. Raises MixedData if those seeds were
    trained on different data (another source or order)."""
    rows, _ = declared(recipe, [r for r in rows if r["recipe_hash"] == recipe.hash()])
    if not rows:
        return None
    digests = {r.get("data_digest") or None for r in rows}
    if len(digests) > 1:
        raise MixedData(f"recipe {recipe.name}: its seeds were trained on different data "
                        f"({', '.join(sorted(map(str, digests)))}); remove the runs of the other "
                        "data from the store, or use a store of their own")
    # ints from the store, strings from the per-seed file: one number either way
    n_test = {None if r.get("test_examples") in (None, "") else int(r["test_examples"])
              for r in rows}
    return RecipeSummary(
        recipe=recipe.name, recipe_hash=recipe.hash(), model=recipe.model,
        seeds=tuple(int(r["seed"]) for r in rows), run_ids=tuple(r["run_id"] for r in rows),
        test_accuracy=tuple(float(r["final_test_acc"]) for r in rows),
        peak_test_accuracy=tuple(_number(r.get("max_test_acc_during_training")) for r in rows),
        final_val_accuracy=tuple(_number(r.get("final_val_acc")) for r in rows),
        wall_s=tuple(float(r["wall_s"]) for r in rows),
        test_eval_s=tuple(_number(r.get("test_eval_s")) for r in rows),
        images_per_second=tuple(_number(r.get("images_per_second")) for r in rows),
        machines=tuple(sorted({r.get("machine") or "?" for r in rows})),
        target_acc=recipe.target_acc, target_source=recipe.target_source,
        published=bool(getattr(recipe, "published", False)), data_digest=digests.pop(),
        n_test=int(n_test.pop()) if len(n_test) == 1 and None not in n_test else None)


def _count(value) -> int | None:
    return None if value is None else int(value)


def _number(value) -> float | None:
    """A float, or None for a missing value (None, or "" as a CSV cell)."""
    return None if value in (None, "") else float(value)
