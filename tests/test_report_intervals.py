"""``report``'s 95% intervals over problems for each pass@1 cell (tests/fixtures/report/)."""

from __future__ import annotations

import json
from pathlib import Path

from lm_eval_octopack.report import build_report, render_markdown
from lm_eval_octopack.report.intervals import HELDOUT_TITLE, TITLE, heldout_rows, interval_rows, per_problem_pass_at_1
from lm_eval_octopack.report.model import SampleRecord

RUN_DIR = Path(__file__).parent / "fixtures" / "report" / "run1"


def record(task_id: str, statuses: list[str]) -> SampleRecord:
    return SampleRecord(
        "humanevalexplainsynthesize-go", "HumanEvalExplain", "go", 0, task_id, None, None, None, statuses
    )


def test_each_cell_with_samples_gets_an_interval_and_its_footnote_counts():
    rows = interval_rows(build_report([RUN_DIR]))
    assert rows == [["HumanEvalFix", "Python", "50.0", "[12.5, 87.5]", "4", "2"]]
    markdown = render_markdown(build_report([RUN_DIR]))
    assert f"## {TITLE}" in markdown and "| HumanEvalFix | Python | 50.0 | [12.5, 87.5] | 4 | 2 |" in markdown


def test_rows_of_one_problem_are_pooled():
    # explain-synthesize: one row per description, one sample each; problems are task ids
    records = [record("Go/0", ["passed"]), record("Go/0", ["failed"]), record("Go/1", ["passed"])]
    assert per_problem_pass_at_1(records) == ([0.5, 1.0], [2, 1])


def write_heldout_run(directory: Path, items: dict[str, list[float]]) -> Path:
    """A results file and lm-eval-style samples files (``"metrics": ["acc"]``, per-doc ``acc``) per task."""
    date = "2025-01-01T00-00-00.000000"
    directory.mkdir()
    for task, scores in items.items():
        lines = [{"doc_id": i, "filter": "none", "metrics": ["acc"], "acc": score} for i, score in enumerate(scores)]
        (directory / f"samples_{task}_{date}.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    results = {task: {"acc,none": sum(scores) / len(scores), "acc_stderr,none": 0.0} for task, scores in items.items()}
    (directory / f"results_{date}.json").write_text(json.dumps({"results": results, "config": {}}))
    return directory


def test_held_out_cells_get_intervals_over_items_and_groups_aggregate_as_their_yaml(tmp_path):
    # constant members make every group interval exact: mmlu is micro (3 of 4 items pass), bbh the plain mean
    run = write_heldout_run(
        tmp_path / "run",
        {
            "instructeval_mmlu_5shot_anatomy": [1, 1, 1],
            "instructeval_mmlu_5shot_virology": [0],
            "instructeval_bbh_3shot_snarks": [1, 1, 1],
            "instructeval_bbh_3shot_navigate": [0],
            "instructeval_crass_3shot": [1, 0],
        },
    )
    rows = {row[0]: row[1:] for row in heldout_rows(build_report([run]))}
    assert rows["instructeval_mmlu_5shot (Avg.)"] == ["acc", "75.0", "[75.0, 75.0]", "4"]
    assert rows["instructeval_bbh_3shot (Avg.)"] == ["acc", "50.0", "[50.0, 50.0]", "4"]
    assert rows["instructeval_mmlu_5shot_anatomy"] == ["acc", "100.0", "[100.0, 100.0]", "3"]
    assert rows["instructeval_crass_3shot"] == ["acc", "50.0", "[0.0, 100.0]", "2"]
    assert len(rows) == 7
    markdown = render_markdown(build_report([run]))
    assert (
        f"## {HELDOUT_TITLE}" in markdown
        and "| instructeval_mmlu_5shot (Avg.) | acc | 75.0 | [75.0, 75.0] | 4 |" in markdown
    )
