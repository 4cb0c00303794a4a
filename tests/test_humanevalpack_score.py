"""`lm-eval-octopack score`: saved generations in, verdicts and pass@k out."""

from __future__ import annotations

import json

import pytest

from lm_eval_octopack.humanevalpack.data import load_rows
from lm_eval_octopack.humanevalpack.prompts import prompt_base
from lm_eval_octopack.humanevalpack.score import main

PROBLEMS = 4


@pytest.fixture()
def rows(humanevalpack_dir):
    return load_rows("python", str(humanevalpack_dir))[:PROBLEMS]


def write(path, data):
    path.write_text(json.dumps(data))
    return path


def score(tmp_path, humanevalpack_dir, task, generations, *extra):
    """These files hold the first problems only: ``--allow-partial`` (tests/test_robustness.py pins the refusal)."""
    out = tmp_path / "verdicts.json"
    code = main(
        [
            "--task",
            task,
            "--generations",
            str(generations),
            "--data-dir",
            str(humanevalpack_dir),
            "--output",
            str(out),
            "--allow-partial",
            *extra,
        ]
    )
    return code, (json.loads(out.read_text()) if out.exists() else None)


def test_reference_saved_final_code_is_detected_and_scored(tmp_path, humanevalpack_dir, rows):
    final = [[prompt_base(r, "fixtests", "python").rstrip() + "\n" + r["canonical_solution"]] * 3 for r in rows]
    final[1] = [prompt_base(rows[1], "fixtests", "python").rstrip() + "\n" + rows[1]["buggy_solution"]] * 3
    code, result = score(tmp_path, humanevalpack_dir, "humanevalfixtests-python", write(tmp_path / "g.json", final))
    assert code == 0
    assert result["format"] == "final" and result["problems_scored"] == PROBLEMS and result["samples"] == 12
    assert result["pass@k"]["pass@1"] == pytest.approx(3 / 4)
    failing = {(v["task_id"], v["sample"]) for v in result["verdicts"] if not v["passed"]}
    assert failing == {("Python/1", 0), ("Python/1", 1), ("Python/1", 2)}


def test_completions_only_are_post_processed_like_model_output(tmp_path, humanevalpack_dir, rows):
    completions = [["\n" + r["canonical_solution"] + "\n\nprint('trailing text is cut')"] for r in rows]
    completions.append([])  # a partial file: problems without samples are left out of pass@k
    code, result = score(
        tmp_path, humanevalpack_dir, "humanevalsynthesize-python", write(tmp_path / "c.json", completions)
    )
    assert code == 0 and result["format"] == "completion"
    assert result["problems_scored"] == PROBLEMS and result["pass@k"] == {"pass@1": 1.0}


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "cannot read"),
        (json.dumps({"a": 1}), "list (one per problem)"),
        (json.dumps([[1, 2]]), "must be a string"),
    ],
)
def test_malformed_generation_files_get_a_clear_error(tmp_path, humanevalpack_dir, capsys, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    code, _ = score(tmp_path, humanevalpack_dir, "humanevalfixtests-python", path)
    assert code == 2 and message in capsys.readouterr().err


def test_unknown_task_and_generation_only_task_are_refused(tmp_path, humanevalpack_dir, capsys):
    path = write(tmp_path / "g.json", [["x"]])
    assert score(tmp_path, humanevalpack_dir, "humanevalfixtests-cobol", path)[0] == 2
    assert "unknown task" in capsys.readouterr().err
    assert score(tmp_path, humanevalpack_dir, "humanevalexplaindescribe-python", path)[0] == 2
    assert "only generates descriptions" in capsys.readouterr().err


def test_our_samples_files_are_rescored_identically(tmp_path, humanevalpack_dir):
    from lm_eval import simple_evaluate
    from lm_eval.utils import handle_non_serializable

    from lm_eval_octopack import plugin

    results = simple_evaluate(
        model="octopack-reference",
        model_args="solution=buggy",
        tasks=["humanevalfix-python"],
        limit=2,
        task_manager=plugin.task_manager(metadata={"data_dir": str(humanevalpack_dir)}),
        confirm_run_unsafe_code=True,
        bootstrap_iters=0,
        log_samples=True,
    )
    samples = tmp_path / "samples_humanevalfix-python_2026-01-01T00-00-00.jsonl"
    samples.write_text(
        "".join(
            json.dumps(r, default=handle_non_serializable) + "\n" for r in results["samples"]["humanevalfix-python"]
        )
    )
    code, result = score(tmp_path, humanevalpack_dir, "humanevalfixtests-python", samples)
    assert code == 0 and result["samples"] == 40
    logged = [v["status"] for r in results["samples"]["humanevalfix-python"] for v in r["verdicts"]]
    assert [v["status"] for v in result["verdicts"]] == logged


def test_unreachable_data_is_a_readable_error(monkeypatch):
    from lm_eval_octopack.humanevalpack.data import DataUnavailableError

    monkeypatch.delenv("OCTOPACK_DATA_DIR", raising=False)
    with pytest.raises(DataUnavailableError, match="data_dir"):
        load_rows("rust")  # the Hub is unreachable in tests (HF_HUB_OFFLINE=1)
    with pytest.raises(DataUnavailableError, match="go.jsonl"):
        load_rows("go", "/nonexistent")


def test_time_lost_to_timeouts_is_one_line_on_stderr(tmp_path, humanevalpack_dir, rows, capsys, monkeypatch):
    monkeypatch.setenv("OCTOPACK_CACHE_DIR", str(tmp_path / "cache"))  # an empty store: everything executes
    hang = "\n    while True:\n        pass\n"
    completions = [["\n" + r["canonical_solution"]] for r in rows]
    completions[0] = [hang]
    code, result = score(
        tmp_path,
        humanevalpack_dir,
        "humanevalsynthesize-python",
        write(tmp_path / "c.json", completions),
        "--run-timeout",
        "1",
    )
    out, err = capsys.readouterr()
    assert code == 0 and result["pass@k"] == {"pass@1": 0.75} and "timeout" not in result
    assert out.startswith("humanevalsynthesize-python: 4 problems scored") and "went to timeouts" not in out
    [line] = err.strip().splitlines()
    assert line.startswith("lm-eval-octopack score: timeouts: 1 of 4 executed programs timed out, 1 re-run alone; ")
    assert line.endswith("s of run time went to timeouts")
