"""A recipe's figure over its seeds, computed once: the results tables (reproductions/report.py)
and the recipe's parent run in MLflow (tracking/parents.py) both take it from `summarize`, so the
two cannot disagree.

From the newest FINISHED run of each seed of one recipe version (tracking.runs.finished_runs),
all trained on the same data (the `data_digest` tag: the arrays in the order the run used them;
seeds trained on other data are never merged): the final test accuracy's mean, sample standard
deviation (n-1), 95% interval of the mean (Student t with n-1 degrees of freedom: mean ± t * std
/ sqrt(n)), the test set's own binomial standard error at the mean (sqrt(p (1 - p) / n_test):
the sampling error of a test set of its size, which no number of seeds removes), and the verdict
against the recipe's target, as issue 12 defines it:

    reached       the mean is at or above the target
    within noise  the mean is below, but the target lies inside the interval
    short         the whole interval is below the target
    undecided     one seed only: below the target, and no interval to judge the gap by
    no bar        the recipe has no target (measured only)

A recipe here is anything with name, model, hash(), target_acc, target_source and published
(reproductions.recipes.Recipe): tracking does not import the training suite. Published recipes
read the test set at every evaluation, so their runs also carry the max over training (the
sources' own, optimistic measure); chosen recipes read it once, at the end, and have none.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

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


def verdict(mean: float, interval, target: float | None) -> str:
    if target is None:
        return "no bar"
    if mean >= target:
        return "reached"
    if interval is None:
        return "undecided"
    return "within noise" if interval[1] >= target else "short"


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
    wall_s: tuple[float, ...]
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
    def verdict(self) -> str:
        return verdict(self.mean, self.interval, self.target_acc)

    def verdict_text(self) -> str:
        """The verdict with the gap in percentage points: "within noise (0.03 points below)"."""
        if self.target_acc is None or self.verdict == "reached":
            return self.verdict
        gap = 100 * (self.target_acc - self.mean)
        return f"{self.verdict} ({gap:.2f} points below)" if gap >= 0.01 else \
            f"{self.verdict} ({gap:.3f} points below)"

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
        if self.binomial_se is not None:
            out["test_accuracy_binomial_se"] = self.binomial_se
        if self.interval:
            out["test_accuracy_ci95_low"], out["test_accuracy_ci95_high"] = self.interval
        if self.target_acc is not None:
            out["target_acc"] = self.target_acc
        return out

    def tags(self) -> dict[str, str]:
        """The words as MLflow tags of the parent run (the target verbatim, as in the recipe)."""
        return {"verdict": self.verdict, "target_acc": str(self.target_acc),
                "target_source": self.target_source, "seeds": " ".join(map(str, self.seeds)),
                "protocol": self.protocol, "summary": self.line()}


class MixedData(ValueError):
    """A recipe's seeds were trained on different data: their figures are not one sample."""


def summarize(recipe, by_seed: dict) -> RecipeSummary | None:
    """The summary of `by_seed` ({seed: FINISHED MLflow run}); None without runs. Raises
    MixedData if the seeds were trained on different data (another source or order)."""
    if not by_seed:
        return None
    seeds = tuple(sorted(by_seed))
    runs = [by_seed[s] for s in seeds]
    digests = {r.data.tags.get("data_digest") for r in runs}
    if len(digests) > 1:
        raise MixedData(f"recipe {recipe.name}: its seeds were trained on different data "
                        f"({', '.join(sorted(map(str, digests)))}); remove the runs of the other "
                        "data from the store, or use a store of their own")
    n_test = {r.data.metrics.get("test_examples") for r in runs}
    return RecipeSummary(
        recipe=recipe.name, recipe_hash=recipe.hash(), model=recipe.model, seeds=seeds,
        run_ids=tuple(r.info.run_id for r in runs),
        test_accuracy=tuple(r.data.metrics["test_accuracy"] for r in runs),
        peak_test_accuracy=tuple(r.data.metrics.get("peak_test_accuracy") for r in runs),
        final_val_accuracy=tuple(r.data.metrics.get("final_val_accuracy") for r in runs),
        wall_s=tuple(r.data.metrics["wall_s"] for r in runs),
        images_per_second=tuple(r.data.metrics.get("images_per_second") for r in runs),
        machines=tuple(sorted({r.data.tags.get("machine", "?") for r in runs})),
        target_acc=recipe.target_acc, target_source=recipe.target_source,
        published=bool(getattr(recipe, "published", False)), data_digest=digests.pop(),
        n_test=int(n_test.pop()) if len(n_test) == 1 and None not in n_test else None)
