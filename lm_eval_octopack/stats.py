"""Paired comparisons of two runs over the same problems: difference, 95% interval, p-value.

Every score we report is a mean over problems of a per-problem value (pass@k's unbiased estimate from
that problem's n samples, or an item's score). Two runs on the same problems are therefore compared
problem by problem:

* **interval**: paired bootstrap over problems (percentile interval). Problems are resampled with
  replacement and each resampled problem brings *both* runs' values, so the interval reflects the
  spread of problems and the sampling noise inside each problem's estimate.
* **p-value**: paired sign-flip (permutation) test. Under "A and B are exchangeable on every problem"
  each per-problem difference is equally likely to have either sign; the p-value is the share of sign
  assignments whose mean difference is at least as far from 0 as the observed one (two-sided). It is
  exact (all 2^m assignments) when at most ``EXACT_LIMIT`` problems differ, Monte Carlo otherwise.

A group score (the paper's Avg.) is a plain mean over member tasks of their means over problems. Its
bootstrap resamples problems *within* each member task, and its sign flips are per problem; the group
statistic is recomputed from the members each time. Randomness is seeded: the same inputs give the same
numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import product

import numpy as np

DEFAULT_ITERATIONS = 10_000
DEFAULT_SEED = 0
CONFIDENCE = 0.95
EXACT_LIMIT = 13  # 2^13 = 8192 sign assignments: cheaper than the Monte Carlo default
METHOD = (
    "paired bootstrap over problems (95% percentile interval); "
    "paired sign-flip permutation test (two-sided p, exact when few problems differ)"
)
_CHUNK = 1000


@dataclass(frozen=True)
class PairedResult:
    """Run A vs run B on one task or group; scores are fractions in [0, 1], ``difference`` = B - A."""

    score_a: float
    score_b: float
    difference: float
    low: float
    high: float
    p_value: float
    problems: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def paired_comparison(
    strata_a: Sequence[Sequence[float]],
    strata_b: Sequence[Sequence[float]],
    iterations: int = DEFAULT_ITERATIONS,
    seed: int = DEFAULT_SEED,
    weights: Sequence[float] | None = None,
) -> PairedResult:
    """Compare per-problem values of A and B. Each stratum is one member task (a single task: one
    stratum); ``strata_a[t][i]`` and ``strata_b[t][i]`` belong to the same problem. ``weights``: one per
    stratum for a weighted group mean (lm-eval's ``weight_by_size``: the stratum sizes); default plain."""
    a_values, b_values = _as_arrays(strata_a), _as_arrays(strata_b)
    for a, b in zip(a_values, b_values, strict=True):
        if a.shape != b.shape or a.size == 0:
            raise ValueError("each stratum needs the same, non-zero number of problems in both runs")
    differences = [b - a for a, b in zip(a_values, b_values, strict=True)]
    rng = np.random.default_rng(seed)
    low, high = bootstrap_interval(differences, iterations, rng, weights)
    return PairedResult(
        score_a=group_mean(a_values, weights),
        score_b=group_mean(b_values, weights),
        difference=group_mean(differences, weights),
        low=low,
        high=high,
        p_value=sign_flip_p_value(differences, iterations, rng, weights),
        problems=sum(d.size for d in differences),
    )


def _as_arrays(strata: Sequence[Sequence[float]]) -> list[np.ndarray]:
    return [np.asarray(values, dtype=float) for values in strata]


def group_mean(strata: Sequence[np.ndarray], weights: Sequence[float] | None = None) -> float:
    """Mean (weighted by ``weights``, default plain) over strata of the mean over each stratum's problems."""
    return float(np.average([values.mean() for values in strata], weights=weights))


def _normalised(weights: Sequence[float] | None, strata: int) -> np.ndarray:
    array = np.ones(strata) if weights is None else np.asarray(weights, dtype=float)
    return array / array.sum()


def bootstrap_interval(
    differences: Sequence[np.ndarray],
    iterations: int,
    rng: np.random.Generator,
    weights: Sequence[float] | None = None,
) -> tuple[float, float]:
    """Percentile interval of the group mean difference, problems resampled within each stratum."""
    means = np.zeros(iterations)
    for weight, values in zip(_normalised(weights, len(differences)), differences, strict=True):
        means += weight * _bootstrap_means(values, iterations, rng)
    tail = (1 - CONFIDENCE) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(low), float(high)


def _bootstrap_means(values: np.ndarray, iterations: int, rng: np.random.Generator) -> np.ndarray:
    means = np.empty(iterations)
    for start in range(0, iterations, _CHUNK):
        stop = min(start + _CHUNK, iterations)
        picks = rng.integers(0, values.size, size=(stop - start, values.size))
        means[start:stop] = values[picks].mean(axis=1)
    return means


def sign_flip_p_value(
    differences: Sequence[np.ndarray],
    iterations: int,
    rng: np.random.Generator,
    weights: Sequence[float] | None = None,
) -> float:
    """Two-sided p-value of the paired sign-flip test on the group mean difference."""
    shares = _normalised(weights, len(differences))
    weighted = np.concatenate([share * values / values.size for share, values in zip(shares, differences, strict=True)])
    weighted = weighted[weighted != 0]  # a zero difference is the same under either sign
    if weighted.size == 0:
        return 1.0
    observed = abs(weighted.sum())
    tolerance = 1e-12 * max(1.0, observed)
    if weighted.size <= EXACT_LIMIT:
        signs = np.array(list(product((1.0, -1.0), repeat=weighted.size)))
        return float(np.mean(np.abs(signs @ weighted) >= observed - tolerance))
    extreme = 0
    for start in range(0, iterations, _CHUNK):
        count = min(_CHUNK, iterations - start)
        signs = rng.choice((1.0, -1.0), size=(count, weighted.size))
        extreme += int(np.sum(np.abs(signs @ weighted) >= observed - tolerance))
    return (extreme + 1) / (iterations + 1)  # the observed assignment counts as one of the draws


def format_comparison(result: PairedResult, scale: float = 100.0) -> str:
    """``"+3.1 [-0.4, +6.7], p=0.084"`` (scores x 100)."""
    diff, low, high = (scale * value for value in (result.difference, result.low, result.high))
    return f"{diff:+.1f} [{low:+.1f}, {high:+.1f}], p={format_p(result.p_value)}"


def format_p(p_value: float) -> str:
    return "<0.001" if p_value < 0.001 else f"{p_value:.3f}"


def mean_interval(
    values: Sequence[float], iterations: int = DEFAULT_ITERATIONS, seed: int = DEFAULT_SEED
) -> tuple[float, float]:
    """95% bootstrap percentile interval of one run's mean over problems (or items)."""
    array = np.asarray(values, dtype=float)
    if array.size == 0:
        raise ValueError("no problems")
    means = _bootstrap_means(array, iterations, np.random.default_rng(seed))
    tail = (1 - CONFIDENCE) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(low), float(high)


def group_mean_interval(
    strata: Sequence[Sequence[float]],
    weights: Sequence[float] | None = None,
    iterations: int = DEFAULT_ITERATIONS,
    seed: int = DEFAULT_SEED,
) -> tuple[float, float]:
    """95% interval of one run's group mean (weighted as ``group_mean``), items resampled within each member."""
    return bootstrap_interval(_as_arrays(strata), iterations, np.random.default_rng(seed), weights)
