"""``report``'s 95% intervals over problems for each pass@1 cell (tests/fixtures/report/)."""

from __future__ import annotations

from pathlib import Path

from lm_eval_octopack.report import build_report, render_markdown
from lm_eval_octopack.report.intervals import TITLE, interval_rows, per_problem_pass_at_1
from lm_eval_octopack.report.model import SampleRecord

RUN_DIR = Path(__file__).parent / "fixtures" / "report" / "run1"


def record(task_id: str, statuses: list[str]) -> SampleRecord:
    return SampleRecord("humanevalexplainsynthesize-go", "HumanEvalExplain", "go", 0, task_id, None, None, None,
                        statuses)


def test_each_cell_with_samples_gets_an_interval_and_its_footnote_counts():
    rows = interval_rows(build_report([RUN_DIR]))
    assert rows == [["HumanEvalFix", "Python", "50.0", "[12.5, 87.5]", "4", "2"]]
    markdown = render_markdown(build_report([RUN_DIR]))
    assert f"## {TITLE}" in markdown and "| HumanEvalFix | Python | 50.0 | [12.5, 87.5] | 4 | 2 |" in markdown


def test_rows_of_one_problem_are_pooled():
    # explain-synthesize: one row per description, one sample each; problems are task ids
    records = [record("Go/0", ["passed"]), record("Go/0", ["failed"]), record("Go/1", ["passed"])]
    assert per_problem_pass_at_1(records) == ([0.5, 1.0], [2, 1])
