"""The paired statistics of ``compare`` on constructed data whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from lm_eval_octopack.humanevalpack.metrics import estimate_pass_at_k
from lm_eval_octopack.stats import format_comparison, mean_interval, paired_comparison


def simulated_pass_at_1(rng: np.random.Generator, probabilities: np.ndarray, samples: int) -> np.ndarray:
    """Per-problem pass@1 estimates of a model whose true pass rate on problem i is probabilities[i]."""
    return rng.binomial(samples, probabilities) / samples


def test_identical_runs_give_p_one_and_a_zero_interval():
    values = np.random.default_rng(1).random(164)
    result = paired_comparison([values], [values.copy()], iterations=2000)
    assert result.difference == 0.0
    assert result.p_value == 1.0
    assert result.low == 0.0 and result.high == 0.0
    assert result.problems == 164


def test_a_large_constructed_difference_is_significant_and_inside_the_interval():
    rng = np.random.default_rng(2)
    difficulty = rng.beta(2, 2, size=164)
    a = simulated_pass_at_1(rng, difficulty * 0.5, 20)
    b = simulated_pass_at_1(rng, difficulty, 20)
    result = paired_comparison([a], [b], iterations=4000)
    assert result.p_value < 0.01
    assert result.low < result.difference < result.high
    assert result.low > 0.15  # true difference: 0.5 * E[difficulty] = 0.25
    assert result.low < 0.25 < result.high


def test_few_differing_problems_use_the_exact_sign_flip_distribution():
    # 3 problems, all B - A = -1: of the 8 sign assignments only the two extremes reach |mean| = 1
    result = paired_comparison([[1.0, 1.0, 1.0]], [[0.0, 0.0, 0.0]])
    assert result.p_value == pytest.approx(2 / 8)
    assert (result.low, result.high) == (-1.0, -1.0)


def test_a_group_is_the_mean_of_its_members_resampled_within_each():
    small = ([1.0, 1.0], [0.0, 0.0])  # member 1: difference -1 on 2 problems
    large = ([0.5] * 50, [0.5] * 50)  # member 2: no difference on 50 problems
    result = paired_comparison([small[0], large[0]], [small[1], large[1]], iterations=2000)
    assert result.difference == pytest.approx(-0.5)  # plain mean over tasks, not over the 52 problems
    assert (result.low, result.high) == (-0.5, -0.5)  # member 1 always resamples to -1
    assert result.p_value == pytest.approx(0.5)  # 2 problems differ: 4 assignments, 2 as extreme
    assert result.problems == 52


def test_the_same_seed_gives_the_same_numbers():
    rng = np.random.default_rng(3)
    a, b = rng.random(60), rng.random(60)
    assert paired_comparison([a], [b], seed=7) == paired_comparison([a], [b], seed=7)
    assert "p=" in format_comparison(paired_comparison([a], [b], iterations=500))


def test_mismatched_problem_counts_are_refused():
    with pytest.raises(ValueError):
        paired_comparison([[1.0, 0.0]], [[1.0]])


def test_interval_coverage_and_test_size_on_synthetic_runs_with_known_truth():
    """95% intervals cover the true difference about 95% of the time; under no difference the test
    rejects at 5% about 5% of the time. 200 seeded replications of 80 problems x 5 samples."""
    rng = np.random.default_rng(4)
    covered, rejected_null, replications = 0, 0, 200
    for _ in range(replications):
        difficulty = rng.beta(2, 2, size=80)
        a = simulated_pass_at_1(rng, difficulty, 5)
        b = simulated_pass_at_1(rng, difficulty * 0.8, 5)  # true difference: -0.2 * E[difficulty] = -0.1
        shifted = paired_comparison([a], [b], iterations=600, seed=int(rng.integers(1 << 31)))
        covered += shifted.low <= -0.1 <= shifted.high
        same = simulated_pass_at_1(rng, difficulty, 5)
        null = paired_comparison([a], [same], iterations=600, seed=int(rng.integers(1 << 31)))
        rejected_null += null.p_value < 0.05
    assert 0.88 <= covered / replications <= 0.99
    assert rejected_null / replications <= 0.10


def test_mean_interval_of_one_run_contains_its_mean():
    values = [estimate_pass_at_k(20, c, 1) for c in range(21)]
    low, high = mean_interval(values, iterations=2000)
    assert low < np.mean(values) < high
    assert mean_interval([0.5, 0.5, 0.5]) == (0.5, 0.5)
