from math import comb

import pytest

from lm_eval_octopack.humanevalpack.metrics import (
    estimate_pass_at_k,
    mean_pass_at_ks,
    pass_at_ks,
    summarize_verdicts,
)


@pytest.mark.parametrize(
    "n,c,k", [(20, 0, 1), (20, 3, 1), (20, 3, 10), (20, 19, 10), (20, 20, 1), (5, 2, 5), (100, 7, 100)]
)
def test_estimator_equals_the_combinatorial_definition(n, c, k):
    assert estimate_pass_at_k(n, c, k) == pytest.approx(1 - comb(n - c, k) / comb(n, k))


def test_pass_at_1_is_the_fraction_correct():
    assert estimate_pass_at_k(20, 7, 1) == pytest.approx(7 / 20)


def test_k_larger_than_n_is_refused_not_reported_as_one():
    with pytest.raises(ValueError, match="at least 5 samples"):
        estimate_pass_at_k(1, 1, 5)
    assert pass_at_ks(1, 1) == {"pass@1": 1.0}
    assert set(pass_at_ks(20, 3)) == {"pass@1", "pass@10"}


def test_mean_reports_only_ks_every_problem_supports_and_skips_empty_problems():
    result = mean_pass_at_ks([(20, 10), (10, 0), (0, 0)])
    assert set(result) == {"pass@1", "pass@10"}
    assert result["pass@1"] == pytest.approx((0.5 + 0.0) / 2)
    assert mean_pass_at_ks([]) == {}


def test_verdict_summary_counts_statuses_in_a_fixed_order():
    per_doc = [[{"status": "passed"}, {"status": "timeout"}], [{"status": "passed"}, {"status": "compile_error"}]]
    assert summarize_verdicts(per_doc) == "passed=2 compile_error=1 timeout=1"
