"""The example scripts run offline on the mini data and produce what their docstrings promise."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture
def example(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))  # the scripts import their sibling _common.py

    def load(name: str):  # noqa: ANN202
        spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


def samples_of(run_dir: Path, task: str) -> list[dict]:
    [path] = run_dir.glob(f"*/samples_{task}_*.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_prompt_format_sweep_changes_only_the_template(example, tmp_path):
    scores = example("prompt_format_sweep").main(
        [
            "--limit",
            "1",
            "--templates",
            "instruct",
            "octocoder",
            "--tasks",
            "humanevalsynthesize-python",
            "--output-dir",
            str(tmp_path),
        ]
    )
    assert scores == {"instruct": {"humanevalsynthesize-python": 1.0}, "octocoder": {"humanevalsynthesize-python": 1.0}}
    prompt_of = {
        t: samples_of(tmp_path / t, "humanevalsynthesize-python")[0]["arguments"]["gen_args_0"]["arg_0"]
        for t in ("instruct", "octocoder")
    }
    assert prompt_of["octocoder"].startswith("Question: Write a Python function `sum_two")
    assert prompt_of["instruct"].startswith("Write a Python function `sum_two")
    assert "| octocoder | 100.0 | +0.0 [+0.0, +0.0], p=1.000 |" in (tmp_path / "summary.md").read_text()
    assert "HumanEvalSynthesize | 100.0" in (tmp_path / "octocoder" / "report.md").read_text()


def test_temperature_n_sweep_sets_temperature_and_repeats(example, tmp_path):
    rows = example("temperature_n_sweep").main(
        ["--limit", "1", "--temperatures", "0.7", "--n", "1", "3", "--output-dir", str(tmp_path)]
    )
    assert rows == [[0.7, 1, "humanevalfix-python", "100.0"], [0.7, 3, "humanevalfix-python", "100.0"]]
    for n in (1, 3):
        [record] = samples_of(tmp_path / f"t0.7_n{n}", "humanevalfix-python")
        assert len(record["verdicts"]) == n
        assert record["arguments"]["gen_args_0"]["arg_1"]["temperature"] == 0.7
    assert (tmp_path / "t0.7_n3" / "report.md").exists() and "| 0.7 | 3 |" in (tmp_path / "summary.md").read_text()


def test_fix_tests_vs_docs_compares_both_fix_variants(example, tmp_path):
    rows = example("fix_tests_vs_docs").main(["--limit", "2", "--languages", "python", "--output-dir", str(tmp_path)])
    assert rows == [["python", "100.0", "100.0", "+0.0"]]
    fixdocs_prompt = samples_of(tmp_path, "humanevalfixdocs-python")[0]["arguments"]["gen_args_0"]["arg_0"]
    assert '"""' in fixdocs_prompt and "def check" not in fixdocs_prompt  # docstring given, tests not
    report = (tmp_path / "report.md").read_text()
    assert "HumanEvalFix | 100.0" in report and "HumanEvalFixDocs | 100.0" in report
    assert "| python | 100.0 | 100.0 | +0.0 | +0.0 [+0.0, +0.0], p=1.000 |" in (tmp_path / "summary.md").read_text()
    assert list(tmp_path.glob("*/provenance_*.json"))  # the sidecar beside the results file


@pytest.mark.slow
def test_full_pack_fills_table_2_in_six_languages(example, tmp_path):
    results = example("full_pack").main(["--limit", "1", "--output-dir", str(tmp_path)])
    for scenario in ("fixtests", "explainsynthesize", "synthesize"):
        for lang in ("python", "js", "java", "go", "cpp", "rust"):
            assert results["results"][f"humaneval{scenario}-{lang}"]["pass@1,execution"] == 1.0
    report = (tmp_path / "report.md").read_text()
    for row in ("HumanEvalFix", "HumanEvalExplain", "HumanEvalSynthesize"):
        assert f"| {row} | 100.0 | 100.0 | 100.0 | 100.0 | 100.0 | 100.0 | 100.0 |" in report


@pytest.mark.slow
def test_python_api_in_memory_returns_a_dataframe(example, tmp_path):
    pytest.importorskip("transformers")
    table = example("python_api_in_memory").main(
        [
            "--limit",
            "1",
            "--gen-kwargs",
            "max_gen_toks=8",
            "--tasks",
            "humanevalfix-python",
            "humanevalsynthesize-js",
            "--output-dir",
            str(tmp_path),
        ]
    )
    assert list(table.columns) == ["task", "scenario", "language", "pass@1"]
    assert list(table["language"]) == ["python", "js"]
    assert table["pass@1"].between(0.0, 1.0).all()
    assert (tmp_path / "report.md").read_text().startswith("# HumanEvalPack results")
