"""The shipped mini HumanEvalPack: real-data shape, freshness, and a perfect/buggy self-check in all 6 languages."""

from __future__ import annotations

import json

import pytest

from lm_eval_octopack.data import MINI_DATA_DIR, mini_build
from lm_eval_octopack.language_facts import language_facts

LANGUAGES = mini_build.LANGUAGES


def mini_rows(language: str) -> list[dict]:
    return [json.loads(line) for line in (MINI_DATA_DIR / f"{language}.jsonl").read_text().splitlines()]


def evaluate(tasks: list[str], solution: str, **kwargs) -> dict:
    from lm_eval import simple_evaluate

    from lm_eval_octopack import plugin

    metadata = {"data_dir": str(MINI_DATA_DIR)}
    return simple_evaluate(
        model="octopack-reference",
        model_args=f"solution={solution}",
        tasks=tasks,
        task_manager=plugin.task_manager(metadata=metadata),
        confirm_run_unsafe_code=True,
        bootstrap_iters=0,
        **kwargs,
    )


def test_files_match_their_source():
    for language in LANGUAGES:
        assert (MINI_DATA_DIR / f"{language}.jsonl").read_text() == mini_build.render(language), (
            f"{language}.jsonl is stale: run python -m lm_eval_octopack.data.mini_build"
        )


@pytest.mark.parametrize("language", LANGUAGES)
def test_rows_follow_the_dataset_conventions(language):
    rows = mini_rows(language)
    assert [row["task_id"] for row in rows] == [f"{language_facts(language).task_prefix}/{i}" for i in range(3)]
    for row in rows:
        assert row["instruction"] == (
            f"Write a {language_facts(language).display_name} function `{row['signature']}` "
            f"to solve the following problem:\n{row['docstring']}"
        )
        assert row["canonical_solution"] != row["buggy_solution"]
        assert row["entry_point"] in row["declaration"] and row["entry_point"] in row["test"]
    if language == "rust":
        assert all(row["prompt"].startswith("fn main(){}\n") and "fn main" not in row["declaration"] for row in rows)


@pytest.mark.parametrize("language", LANGUAGES)
def test_rows_have_the_real_datas_fields(language, humanevalpack_dir):
    real_row = json.loads((humanevalpack_dir / f"{language}.jsonl").read_text().splitlines()[0])
    for row in mini_rows(language):
        assert set(row) == set(real_row)
        assert {type(value) for value in row.values()} == {str}


@pytest.mark.slow
def test_canonical_passes_and_buggy_fails_in_every_language():
    fix_tasks = [f"humanevalfixtests-{language}" for language in LANGUAGES]
    synth_tasks = [f"humanevalsynthesize-{language}" for language in LANGUAGES]
    canonical = evaluate(fix_tasks + synth_tasks, "canonical")["results"]
    buggy = evaluate(fix_tasks, "buggy", log_samples=True)
    for task in fix_tasks + synth_tasks:
        assert canonical[task]["pass@1,execution"] == 1.0, task
    for task in fix_tasks:
        assert buggy["results"][task]["pass@1,execution"] == 0.0, task
        # the bugs compile and fail the assertions: wrong answers, not broken programs
        assert {v["status"] for record in buggy["samples"][task] for v in record["verdicts"]} == {"failed"}, task
