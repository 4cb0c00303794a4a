"""The self-check model reproduces the spec's sanity table (humanevalpack.md §10) on the real
data, through lm-eval's own evaluator (``simple_evaluate``), all 6 languages x 164 problems.

Known exceptions (README, "Self-check"): Rust/32's canonical solution hangs in about half of
its runs (random polynomials) and Go/95's depends on map iteration order; both are left out of
the exact comparison. The run timeout is lowered to 20 s here (reference: up to 300 s) only to
bound the cost of those hangs in CI; no other verdict depends on it.
"""

from __future__ import annotations

import pytest

LANGS = ("python", "js", "java", "go", "cpp", "rust")
FLAKY = {("rust", 32), ("go", 95)}
ALL = set(range(164))

#: problems that FAIL, per (configuration, language). Everything else must pass.
EXPECTED_FAILURES = {
    # the reference's --check_references: prompt + canonical_solution
    "references-canonical": {"go": {27}},
    # prompt + buggy_solution: everything fails except CPP/23, whose test calls libc strlen
    "references-buggy": {lang: ALL - ({23} if lang == "cpp" else set()) for lang in LANGS},
    # a perfect model (continuation = "\n" + canonical) on fixtests
    "perfect-fixtests": {"cpp": {38}, "go": {10, 32, 38, 50, 72, 90, 158}, "rust": {137, 145}},
    # a perfect model on synthesize
    "perfect-synthesize": {"go": {27, 72, 90, 158}, "rust": {137, 145}},
    # a model echoing the buggy code on fixtests
    "buggy-fixtests": {lang: ALL - ({23} if lang == "cpp" else set()) for lang in LANGS},
}
CONFIGS = {
    "references-canonical": ("humanevalsynthesize", "canonical", {"check_references": "canonical"}),
    "references-buggy": ("humanevalsynthesize", "buggy", {"check_references": "buggy"}),
    "perfect-fixtests": ("humanevalfixtests", "canonical", {}),
    "perfect-synthesize": ("humanevalsynthesize", "canonical", {}),
    "buggy-fixtests": ("humanevalfixtests", "buggy", {}),
}


def failing_problems(samples: list[dict]) -> set[int]:
    failing = set()
    for record in samples:
        if record["filter"] == "execution" and not all(v["passed"] for v in record["verdicts"]):
            failing.add(record["doc_id"])
    return failing


@pytest.mark.slow
@pytest.mark.parametrize("config", list(CONFIGS))
def test_self_check_reproduces_the_sanity_table(config, humanevalpack_dir, tmp_path):
    from lm_eval import simple_evaluate

    from lm_eval_octopack import plugin

    prefix, solution, extra = CONFIGS[config]
    metadata = {"data_dir": str(humanevalpack_dir), "run_timeout": 20, **extra}
    tasks = [f"{prefix}-{lang}" for lang in LANGS]
    results = simple_evaluate(
        model="octopack-reference", model_args=f"solution={solution}", tasks=tasks,
        task_manager=plugin.task_manager(metadata=metadata), confirm_run_unsafe_code=True,
        log_samples=True, bootstrap_iters=0,
    )
    for lang in LANGS:
        task = f"{prefix}-{lang}"
        observed = {i for i in failing_problems(results["samples"][task]) if (lang, i) not in FLAKY}
        expected = {i for i in EXPECTED_FAILURES[config].get(lang, set()) if (lang, i) not in FLAKY}
        assert observed == expected, f"{config} {lang}: unexpected {sorted(observed ^ expected)}"
        assert results["results"][task]["sample_len"] == 164
