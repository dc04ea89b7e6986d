"""A recipe's figure over its seeds, computed once: the results tables (reproductions/report.py)
and the recipe's parent run in MLflow (tracking/parents.py) both take it from `summarize`, so the
two cannot disagree.

From the newest FINISHED run of each seed of one recipe version (tracking.runs.finished_runs):
the final test accuracy's mean, sample standard deviation (n-1) and 95% interval of the mean
(Student t with n-1 degrees of freedom: mean ± t * std / sqrt(n)), and the verdict against the
recipe's target, as issue 12 defines it:

    reached       the mean is at or above the target
    within noise  the mean is below, but the target lies inside the interval
    short         the whole interval is below the target
    undecided     one seed only: below the target, and no interval to judge the gap by
    no bar        the recipe has no target (measured only)

A recipe here is anything with name, model, hash(), target_acc and target_source
(reproductions.recipes.Recipe): tracking does not import the training suite.
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
    peak_test_accuracy: tuple[float, ...]
    wall_s: tuple[float, ...]
    machines: tuple[str, ...]
    target_acc: float | None
    target_source: str

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
               "peak_test_accuracy_mean": statistics.fmean(self.peak_test_accuracy),
               "wall_s_mean": statistics.fmean(self.wall_s), "n_seeds": float(self.n_seeds)}
        if self.interval:
            out["test_accuracy_ci95_low"], out["test_accuracy_ci95_high"] = self.interval
        if self.target_acc is not None:
            out["target_acc"] = self.target_acc
        return out

    def tags(self) -> dict[str, str]:
        """The words as MLflow tags of the parent run (the target verbatim, as in the recipe)."""
        return {"verdict": self.verdict, "target_acc": str(self.target_acc),
                "target_source": self.target_source, "seeds": " ".join(map(str, self.seeds)),
                "summary": self.line()}


def summarize(recipe, by_seed: dict) -> RecipeSummary | None:
    """The summary of `by_seed` ({seed: FINISHED MLflow run}); None without runs."""
    if not by_seed:
        return None
    seeds = tuple(sorted(by_seed))
    runs = [by_seed[s] for s in seeds]
    return RecipeSummary(
        recipe=recipe.name, recipe_hash=recipe.hash(), model=recipe.model, seeds=seeds,
        run_ids=tuple(r.info.run_id for r in runs),
        test_accuracy=tuple(r.data.metrics["test_accuracy"] for r in runs),
        peak_test_accuracy=tuple(r.data.metrics["peak_test_accuracy"] for r in runs),
        wall_s=tuple(r.data.metrics["wall_s"] for r in runs),
        machines=tuple(sorted({r.data.tags.get("machine", "?") for r in runs})),
        target_acc=recipe.target_acc, target_source=recipe.target_source)
