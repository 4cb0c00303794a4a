"""pass@k, the unbiased estimator of the Codex paper, as the reference computes it.

An ``error`` verdict (the harness could not execute the program) is not a failure: pass@k is only computed
when no sample has one (:func:`refuse_unscored`), since counting them as failures would understate the score.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from lm_eval_octopack.executors.errors import UnscoredSamples

DEFAULT_KS: tuple[int, ...] = (1, 10, 100)


def estimate_pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of k samples drawn from n (c of them correct) passes.

    Only defined for ``k <= n``; the reference reports a k only when every problem has at
    least k samples, and so do we (see :func:`pass_at_ks`)."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples, got {n}")
    if n - c < k:
        return 1.0
    result = 1.0
    for i in range(n - c + 1, n + 1):
        result *= 1.0 - k / i
    return 1.0 - result


def pass_at_ks(n: int, c: int, ks: Iterable[int] = DEFAULT_KS) -> dict[str, float]:
    """``{"pass@k": value}`` for every k in ks that n samples can support."""
    return {f"pass@{k}": estimate_pass_at_k(n, c, k) for k in ks if k <= n}


def mean_pass_at_ks(counts: Sequence[tuple[int, int]], ks: Iterable[int] = DEFAULT_KS) -> dict[str, float]:
    """Mean over problems of pass@k, for the ks that *every* problem supports.

    ``counts`` holds (n, c) per problem; problems with n == 0 are left out."""
    scored = [(n, c) for n, c in counts if n > 0]
    if not scored:
        return {}
    smallest = min(n for n, _ in scored)
    usable = [k for k in ks if k <= smallest]
    return {f"pass@{k}": sum(estimate_pass_at_k(n, c, k) for n, c in scored) / len(scored) for k in usable}


def summarize_verdicts(per_doc: Sequence[Sequence[dict]]) -> str:
    """lm-eval aggregation for the per-sample ``verdicts`` lists: a one-line status count."""
    counts = Counter(record["status"] for records in per_doc for record in records)
    order = ("passed", "failed", "compile_error", "timeout", "error")
    return " ".join(f"{status}={counts[status]}" for status in order if counts[status]) or "no samples"


def refuse_unscored(statuses: Iterable[str], first_detail: str = "") -> None:
    """Raise ``UnscoredSamples`` when any status is ``error``: such a run has no pass@k."""
    counts = Counter(statuses)
    if counts["error"]:
        cause = f" First error: {first_detail.strip().splitlines()[0][:300]}" if first_detail.strip() else ""
        raise UnscoredSamples(
            f"{counts['error']} of {counts.total()} samples could not be executed (status 'error': the harness or "
            f"machine failed, not the programs), so no pass@k is reported.{cause}",
            errors=counts["error"],
            samples=counts.total(),
        )
