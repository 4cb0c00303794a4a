"""Reports from hand-written lm-eval results/samples fixtures (tests/fixtures/report/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from lm_eval_octopack.report import (
    bug_group_breakdown,
    bug_type_breakdown,
    build_report,
    failure_symptom_breakdown,
    main_report,
    render_console,
    render_html,
    render_markdown,
    render_png,
    status_breakdown,
    table_rows,
)
from lm_eval_octopack.report.model import parse_task
from lm_eval_octopack.report.published import published_models

RUN_DIR = Path(__file__).parent / "fixtures" / "report" / "run1"
MODEL_DIR = RUN_DIR / "org__tiny-coder"
RESULTS_FILE = MODEL_DIR / "results_2025-01-01T00-00-00.000000.json"
SAMPLES_FILE = MODEL_DIR / "samples_humanevalfixtests-python_2025-01-01T00-00-00.000000.jsonl"


def cells(rows, label: str) -> list[str]:
    row = next(row for row in rows if row.label == label)
    return [("–" if c.value is None else f"{c.value:.1f}") + ("†" if c.partial else "") for c in row.cells]


def test_task_names_map_to_table_rows():
    assert parse_task("humanevalfixtests-js") == ("HumanEvalFix", "js")
    assert parse_task("humanevalfix-cpp") == ("HumanEvalFix", "cpp")
    assert parse_task("humanevalfixdocs-rust") == ("HumanEvalFixDocs", "rust")
    assert parse_task("humanevalexplainsynthesize-go") == ("HumanEvalExplain", "go")
    assert parse_task("humanevalsynthesize-python") == ("HumanEvalSynthesize", "python")
    assert parse_task("humanevalsynthesize-kotlin") is None
    assert parse_task("instructeval_mmlu") is None


def test_table_numbers_from_a_results_directory():
    report = build_report([RUN_DIR])
    assert report.model_name == "org/tiny-coder"
    rows = table_rows(report, "pass@1")
    assert [row.label for row in rows] == [
        "HumanEvalFix",
        "HumanEvalExplain",
        "HumanEvalSynthesize",
        "HumanEvalFixDocs",
    ]
    assert cells(rows, "HumanEvalSynthesize") == ["40.0", "30.0", "20.0", "10.0", "50.0", "60.0", "35.0"]
    assert cells(rows, "HumanEvalFix") == ["50.0", "25.0", "–", "–", "–", "–", "37.5†"]
    assert cells(rows, "HumanEvalExplain") == ["–", "–", "–", "12.3", "–", "–", "12.3†"]
    assert cells(table_rows(report, "pass@10"), "HumanEvalFix")[0] == "75.0"
    assert report.metrics() == ["pass@1", "pass@10"]
    assert report.generation_only == ["humanevalexplaindescribe-python"]
    assert report.scores["humanevalfixtests-python"].n_docs == 4


def test_samples_of_the_same_run_give_the_breakdowns():
    report = build_report([RESULTS_FILE])
    assert {s.doc_id for s in report.samples} == {0, 1, 2, 3}  # stale run and "raw" filter ignored
    groups = {(row.key): row.by_language["python"] for row in bug_group_breakdown(report)}
    assert groups == {"missing": (1, 100.0), "excess": (1, 50.0), "wrong": (2, 25.0)}
    types = {row.key: row.by_language["python"][1] for row in bug_type_breakdown(report)}
    assert types["operator misuse"] == 50.0  # from verdicts: the line has no pass@1
    symptoms = {row.key: row.overall() for row in failure_symptom_breakdown(report)}
    assert symptoms == {"incorrect output": (3, pytest.approx(200 / 3)), "infinite loop": (1, 0.0)}
    [status] = status_breakdown(report)
    assert (status.scenario, status.language) == ("HumanEvalFix", "python")
    assert status.counts == {"passed": 4, "failed": 2, "compile_error": 1, "timeout": 1, "error": 0}


def test_in_memory_results_from_simple_evaluate_work_the_same():
    results = json.loads(RESULTS_FILE.read_text())
    results["samples"] = {
        "humanevalfixtests-python": [json.loads(line) for line in SAMPLES_FILE.read_text().splitlines()]
    }
    from_dict, from_file = build_report([results]), build_report([RESULTS_FILE])
    assert cells(table_rows(from_dict, "pass@1"), "HumanEvalFix") == cells(
        table_rows(from_file, "pass@1"), "HumanEvalFix"
    )
    assert status_breakdown(from_dict)[0].counts == status_breakdown(from_file)[0].counts


def test_published_rows_follow_our_rows_and_cite_a_source():
    rows = table_rows(build_report([RESULTS_FILE]), "pass@1", compare=["OctoCoder", "GPT-4"])
    labels = [row.label for row in rows]

    def octocoder_after(scenario: str) -> list[str]:
        at = labels.index(scenario)
        assert labels[at + 1 : at + 3] == ["OctoCoder (published)", "GPT-4 (published)"]
        return cells(rows[at + 1 : at + 2], "OctoCoder (published)")

    assert octocoder_after("HumanEvalSynthesize") == ["46.2", "39.2", "38.2", "30.4", "35.6", "23.4", "35.5"]
    assert octocoder_after("HumanEvalFix") == ["30.4", "28.4", "30.6", "30.2", "26.1", "16.5", "27.0"]
    assert octocoder_after("HumanEvalExplain") == ["35.1", "24.5", "27.3", "21.1", "24.1", "14.8", "24.5"]
    assert labels[-1] == "HumanEvalFixDocs"  # appendix variant: no published row
    models = published_models()
    assert all(model["source"] for model in models.values())
    assert {"BLOOMZ", "GPT-4", "WizardCoder", "StarChat-beta", "InstructCodeT5+", "CodeGeeX2"} <= set(models)
    for model in models.values():  # every Table 2 cell is filled
        for scenario in ("HumanEvalFix", "HumanEvalExplain", "HumanEvalSynthesize"):
            scores = model["scores"][scenario]
            assert set(scores) == {"python", "js", "java", "go", "cpp", "rust", "avg"}
            assert all(isinstance(value, (int, float)) for value in scores.values())


def test_markdown_and_html_contain_the_numbers():
    report = build_report([RESULTS_FILE])
    markdown = render_markdown(report, compare=["OctoCoder"])
    assert "| HumanEvalSynthesize | 40.0‡ | 30.0‡ | 20.0‡ | 10.0‡ | 50.0‡ | 60.0‡ | 35.0‡ |" in markdown  # --limit 4
    assert "| Python | JavaScript | Java | Go | C++ | Rust | Avg. |" in markdown
    assert "OctoCoder (published) | 46.2" in markdown and "Sources of published rows" in markdown
    assert "| HumanEvalFix | python | 4 | 2 | 1 | 1 | 0 | 8 |" in markdown.replace("Python", "python")
    page = render_html(report)
    assert page.startswith("<!DOCTYPE html>") and "<td>35.0‡</td>" in page and "<td>12.3†‡</td>" in page


def test_console_table_renders_numbers():
    console = Console(record=True, width=160)
    render_console(build_report([RESULTS_FILE]), compare=["StarCoder"], console=console)
    text = console.export_text()
    assert "HumanEvalSynthesize" in text and "35.0" in text and "StarCoder (published)" in text
    assert "missing" in text and "compile error" in text


def test_png_heatmap_is_written(tmp_path: Path):
    pytest.importorskip("matplotlib", reason="matplotlib is the [report] extra")
    path = render_png(build_report([RESULTS_FILE]), tmp_path / "table.png", compare=["OctoCoder"])
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 5000


def test_main_report_writes_every_format(tmp_path: Path, capsys):
    code = main_report([str(RUN_DIR), "--compare", "octocoder", "--output-dir", str(tmp_path), "--quiet"])
    assert code == 0
    assert "HumanEvalFix" in (tmp_path / "report.md").read_text()
    assert "<table>" in (tmp_path / "report.html").read_text()
    if (tmp_path / "report.png").exists():
        assert (tmp_path / "report.png").stat().st_size > 0
    assert "wrote" in capsys.readouterr().out


def test_main_report_rejects_unknown_names_and_missing_files(tmp_path: Path, capsys):
    assert main_report([str(RESULTS_FILE), "--compare", "NoSuchModel", "--quiet"]) == 2
    assert "available:" in capsys.readouterr().err
    assert main_report([str(tmp_path / "missing.json"), "--quiet"]) == 2
    assert main_report(["--list-published"]) == 0
    assert "OctoCoder" in capsys.readouterr().out


def test_explicit_samples_file_is_read(tmp_path: Path):
    results = tmp_path / "results_x.json"
    results.write_text(RESULTS_FILE.read_text())
    assert build_report([results]).samples == []
    report = build_report([results], samples=[SAMPLES_FILE])
    assert len(report.samples) == 4


def full_run_copy(tmp_path: Path) -> Path:
    """The fixture run as if made without --limit: every task scored on all its docs."""
    results = json.loads(RESULTS_FILE.read_text())
    results["config"]["limit"] = None
    results["n-samples"] = {task: {"original": 164, "effective": 164} for task in results["results"]}
    path = tmp_path / RESULTS_FILE.name
    path.write_text(json.dumps(results))
    return path


def test_a_run_with_limit_is_labelled_wherever_it_is_shown(tmp_path: Path):
    report = build_report([RESULTS_FILE])  # config.limit = 4; n-samples: humanevalfixtests-python 4 of 164
    assert report.limited_tasks["humanevalfixtests-python"] == (4, 164)
    assert report.limited_tasks["humanevalsynthesize-js"] == (None, None)  # limit set, no n-samples: sizes unknown
    assert all(score.limited for score in report.scores.values())
    markdown = render_markdown(report, compare=["OctoCoder"])
    assert "**PARTIAL RUN (--limit).**" in markdown and "humanevalfixtests-python (4 of 164 docs)" in markdown
    assert "| HumanEvalFix | 50.0‡ | 25.0‡ | – |" in markdown
    assert "| OctoCoder (published) | 30.4 | 28.4 |" in markdown  # published rows are never marked
    assert "not comparable with published numbers" in render_html(report)
    console = Console(record=True, width=200)
    render_console(report, compare=["OctoCoder"], console=console)
    text = console.export_text()
    assert "PARTIAL RUN (--limit)" in text and "Partial run (lm-eval --limit)" in text and "50.0‡" in text


def test_a_full_run_is_not_labelled(tmp_path: Path):
    report = build_report([full_run_copy(tmp_path)])
    assert report.limited_tasks == {} and not any(score.limited for score in report.scores.values())
    markdown = render_markdown(report)
    assert "PARTIAL RUN" not in markdown and "‡" not in markdown
    assert "| HumanEvalSynthesize | 40.0 | 30.0 | 20.0 | 10.0 | 50.0 | 60.0 | 35.0 |" in markdown


def test_only_the_limited_tasks_are_marked(tmp_path: Path):
    results = json.loads(full_run_copy(tmp_path).read_text())
    results["n-samples"]["humanevalsynthesize-go"] = {"original": 164, "effective": 20}
    report = build_report([results])
    assert report.limited_tasks == {"humanevalsynthesize-go": (20, 164)}
    markdown = render_markdown(report)
    assert "| HumanEvalSynthesize | 40.0 | 30.0 | 20.0 | 10.0‡ | 50.0 | 60.0 | 35.0‡ |" in markdown
    assert "| HumanEvalFix | 50.0 | 25.0 |" in markdown and "humanevalsynthesize-go (20 of 164 docs)" in markdown


def test_limited_held_out_tasks_are_named_too(tmp_path: Path):
    results = json.loads(full_run_copy(tmp_path).read_text())
    results["results"]["instructeval_crass_3shot"] = {"acc,none": 0.5}
    results["n-samples"]["instructeval_crass_3shot"] = {"original": 274, "effective": 2}
    assert "instructeval_crass_3shot (2 of 274 docs)" in render_markdown(build_report([results]))


def test_main_report_says_partial_run_on_the_console(capsys):
    assert main_report([str(RESULTS_FILE), "--compare", "OctoCoder"]) == 0
    assert "PARTIAL RUN (--limit)" in capsys.readouterr().out


def held_out_results(n_samples: bool = True) -> dict:
    scores = {
        "instructeval_mmlu_5shot_anatomy": (1.0, 3),
        "instructeval_mmlu_5shot_virology": (0.0, 1),
        "instructeval_bbh_3shot_snarks": (1.0, 3),
        "instructeval_bbh_3shot_navigate": (0.0, 1),
        "instructeval_drop_3shot": (0.3, 10),
        "instructeval_crass_3shot": (0.6, 10),
    }
    results = {task: {"acc,none": score} for task, (score, _) in scores.items()}
    results["humanevalsynthesize-python"] = {"pass@1,execution": 0.4}
    counts = {task: {"original": items, "effective": items} for task, (_, items) in scores.items()}
    return {"results": results, "n-samples": counts if n_samples else {}, "config": {}, "model_name": "m"}


def test_held_out_tables_aggregate_a_missing_group_score_from_its_members_as_its_yaml():
    # mmlu micro over items (3 of 4 pass), bbh the plain mean of its members; both partial groups (†),
    # so Table 2's Avg is marked too; HumanEval is humanevalsynthesize-python's pass@1
    markdown = render_markdown(build_report([held_out_results()]))
    assert "| m (this run) | - | 75.0† | 50.0† | 30.0 | 60.0 | 40.0 | 51.0† |" in markdown
    assert (
        "instructeval_mmlu_5shot: no group score in the results; micro over 4 items (weight_by_size) of 2 "
        "member tasks, of the group's 57" in markdown
    )
    assert "instructeval_bbh_3shot: no group score in the results; plain mean of 2 member tasks" in markdown


def test_held_out_tables_prefer_the_recorded_group_score_and_need_item_counts_for_a_micro_average():
    with_group = held_out_results()
    with_group["groups"] = {"instructeval_mmlu_5shot": {"acc,none": 0.511}}
    assert "| m (this run) | - | 51.1 | 50.0† |" in render_markdown(build_report([with_group]))
    assert "| m (this run) | - | - | 50.0† |" in render_markdown(build_report([held_out_results(n_samples=False)]))


def test_held_out_tables_label_a_limited_run_beside_the_published_rows():
    results = held_out_results()
    results["n-samples"]["instructeval_crass_3shot"] = {"original": 274, "effective": 10}
    text = render_markdown(build_report([results]))
    assert "| m, PARTIAL RUN (--limit) (this run) | - |" in text


def write_recorded_run(
    directory: Path,
    prompt: str,
    python_version: str,
    verdicts: list[list[dict]] | None = None,
    codes: list[list[str]] | None = None,
) -> Path:
    """A results file with a task config and a provenance sidecar as lm-eval-octopack writes them, and samples."""
    date = "2025-02-01T00-00-00.000000"
    directory.mkdir(parents=True)
    task = "humanevalsynthesize-python"
    verdicts = verdicts or [[{"status": "passed", "passed": True, "seconds": 0.5}]]
    lines = [
        {
            "doc_id": index,
            "doc": {"task_id": f"Python/{index}", "octopack_options": {"prompt": prompt}},
            "filter": "execution",
            "verdicts": doc_verdicts,
            **({"filtered_resps": [codes[index]]} if codes else {}),
        }
        for index, doc_verdicts in enumerate(verdicts)
    ]
    (directory / f"samples_{task}_{date}.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    config = {
        "dataset_kwargs": {"language": "python"},
        "generation_kwargs": {"temperature": 0.2},
        "metadata": {
            "version": 1.0,
            "data_source": [
                {"hub": "bigcode/humanevalpack", "revision": "abc123def456", "files": {"python.jsonl": "f" * 64}}
            ],
        },
    }
    results = {
        "results": {task: {"pass@1,execution": 1.0}},
        "configs": {task: config},
        "config": {"model": "hf", "model_args": "pretrained=org/m", "random_seed": 0},
        "lm_eval_version": "0.4.13",
    }
    (directory / f"results_{date}.json").write_text(json.dumps(results))
    sidecar = {
        "octopack_version": "9.9",
        "verdict_rules_version": 2,
        "sandbox": "bwrap",
        "toolchains": {"python": {"python": python_version}},
        "dataset_files": {},
    }
    (directory / f"provenance_{date}.json").write_text(json.dumps(sidecar))
    return directory


def test_report_prints_each_runs_provenance_and_where_two_runs_differ(tmp_path: Path):
    first = write_recorded_run(tmp_path / "a", "instruct", "3.11.7")
    second = write_recorded_run(tmp_path / "b", "octocoder", "3.12.1")
    markdown = render_markdown(build_report([first, second]))
    assert "## Provenance of run 1: org/m (" in markdown and "## Provenance of run 2: org/m (" in markdown
    for row in [
        "| Model | hf org/m |",
        "| lm-eval-octopack | 9.9 |",
        "| lm-eval | 0.4.13 |",
        "| Dataset | bigcode/humanevalpack @ abc123def456 (sha256 python.jsonl ffffffffffff) |",
        "| Toolchains | python: python=3.11.7 |",
        "| Verdict rules | 2 |",
        "| Sandbox | bwrap |",
        "| Seeds | random_seed=0 |",
        "| Prompt template | instruct |",
        "| Prompt template | octocoder |",
        "| Generation kwargs | temperature=0.2 |",
        "| --limit | none |",
        "| Backend | unknown |",
    ]:
        assert row in markdown, row
    assert (
        'Run 2 differs from run 1 in prompt, toolchains (tasks.humanevalsynthesize-python.prompt: "instruct" vs '
        '"octocoder"; toolchains.python.python: "3.11.7" vs "3.12.1").'
    ) in markdown
    console = Console(record=True, width=250)
    render_console(build_report([first, second]), console=console)
    assert "Run 2 differs from run 1 in prompt, toolchains" in console.export_text()
    assert "Run 2 differs" in render_html(build_report([first, second]))
    same = render_markdown(build_report([first, write_recorded_run(tmp_path / "c", "instruct", "3.11.7")]))
    assert "All 2 runs have the same provenance (the model aside)." in same


def test_a_run_that_records_no_provenance_reads_unknown():
    markdown = render_markdown(build_report([RESULTS_FILE]))
    assert "## Provenance: org/tiny-coder (" in markdown
    assert "| Toolchains | unknown |" in markdown and "| Dataset | unknown |" in markdown
    assert "| --limit | 4 (a subset of the problems) |" in markdown


def test_time_lost_to_timeouts_counts_each_distinct_program_once(tmp_path: Path):
    hang = {"status": "timeout", "passed": False, "seconds": 10.0}
    fine = {"status": "passed", "passed": True, "seconds": 0.5}
    # problem 0: the same hanging code twice (run once) and a passing one; problem 1: one other hang
    run = write_recorded_run(
        tmp_path / "a",
        "instruct",
        "3.11.7",
        verdicts=[[hang, hang, fine], [hang]],
        codes=[["while True: pass", "while True: pass", "return 1"], ["while 1: pass"]],
    )
    markdown = render_markdown(build_report([run]))
    assert "| HumanEvalSynthesize | Python | 3 | 2 | 20.0 | 20.5 | 98% |" in markdown


def test_timeouts_without_recorded_seconds_say_so():
    # the fixture's verdicts have no seconds (written before verdicts recorded them)
    assert "| HumanEvalFix | Python | 1 | 1 | not recorded | not recorded | – |" in render_markdown(
        build_report([RESULTS_FILE])
    )
