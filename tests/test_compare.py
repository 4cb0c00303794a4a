"""``lm-eval-octopack compare``: constructed runs with known answers, provenance warnings, and the whole
command on two real self-check runs of the mini data (canonical vs buggy solutions)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lm_eval_octopack.data import MINI_DATA_DIR
from lm_eval_octopack.provenance import differences, provenance_warnings, run_provenance
from lm_eval_octopack.report.compare import compare_runs, load_run, main_compare, render_markdown

DATE = "2025-01-01T00-00-00.000000"


def write_run(directory: Path, passed: dict[str, list[int]], samples: int = 10, **config) -> Path:
    """A results file + samples files: ``passed[task][i]`` of ``samples`` samples pass on problem i."""
    directory.mkdir(parents=True)
    results, configs = {}, {}
    for task, counts in passed.items():
        language = task.rsplit("-", 1)[1]
        lines = []
        for index, count in enumerate(int(count) for count in counts):
            verdicts = [
                {"sample": s, "status": "passed" if s < count else "failed", "passed": s < count}
                for s in range(samples)
            ]
            lines.append(
                {
                    "doc_id": index,
                    "doc": {"task_id": f"{language}/{index}"},
                    "filter": "execution",
                    "pass@1": count / samples,
                    "verdicts": verdicts,
                }
            )
        (directory / f"samples_{task}_{DATE}.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
        results[task] = {"pass@1,execution": float(np.mean(counts)) / samples, "pass@10,execution": 0.0}
        configs[task] = {
            "dataset_kwargs": {"language": language},
            "repeats": samples,
            "generation_kwargs": {"temperature": config.get("temperature", 0.2)},
            "metadata": {"prompt": config.get("prompt", "instruct")},
        }
    run_config = {
        "model": "hf",
        "model_args": f"pretrained={config.get('model', 'org/m')}",
        "limit": config.get("limit"),
        "random_seed": config.get("seed", 0),
    }
    payload = {"results": results, "configs": configs, "config": run_config, "lm_eval_version": "0.4.13"}
    path = directory / f"results_{DATE}.json"
    path.write_text(json.dumps(payload))
    return path


def rows_by_name(comparison) -> dict[tuple[str, str], object]:
    return {(row.name, row.metric): row.result for row in comparison.rows}


def test_identical_runs_show_no_difference(tmp_path):
    counts = list(np.random.default_rng(0).integers(0, 11, size=40))
    passed = {"humanevalfix-python": counts, "humanevalfix-js": counts[::-1]}
    comparison = compare_runs(load_run(write_run(tmp_path / "a", passed)), load_run(write_run(tmp_path / "b", passed)))
    rows = rows_by_name(comparison)
    for key in [("humanevalfix-python", "pass@1"), ("humanevalfix-python", "pass@10"), ("humanevalfix", "pass@1")]:
        assert rows[key].difference == 0 and rows[key].p_value == 1.0
        assert rows[key].low == rows[key].high == 0
    assert comparison.warnings == []


def test_a_large_difference_is_found_per_task_and_in_the_group(tmp_path):
    rng = np.random.default_rng(1)
    strong = {f"humanevalfix-{lang}": list(rng.integers(6, 11, size=30)) for lang in ("python", "js", "go")}
    weak = {task: [count // 3 for count in counts] for task, counts in strong.items()}
    comparison = compare_runs(
        load_run(write_run(tmp_path / "a", strong)), load_run(write_run(tmp_path / "b", weak)), iterations=2000
    )
    rows = rows_by_name(comparison)
    python = rows[("humanevalfix-python", "pass@1")]
    assert python.score_a == pytest.approx(np.mean(strong["humanevalfix-python"]) / 10)
    assert python.p_value < 0.01 and python.high < 0
    group = rows[("humanevalfix", "pass@1")]
    members = [rows[(task, "pass@1")].difference for task in strong]
    assert group.difference == pytest.approx(np.mean(members))
    assert group.problems == 90 and group.p_value < 0.01
    assert "humanevalfix (Avg.)" in render_markdown(comparison)


def test_problems_missing_from_one_run_are_left_out_with_a_warning(tmp_path):
    run_a = load_run(write_run(tmp_path / "a", {"humanevalfix-python": [10, 0, 5]}))
    run_b = load_run(write_run(tmp_path / "b", {"humanevalfix-python": [10, 0]}, limit=2))
    comparison = compare_runs(run_a, run_b)
    assert rows_by_name(comparison)[("humanevalfix-python", "pass@1")].problems == 2
    assert any("paired on the 2 problems" in warning for warning in comparison.warnings)
    assert any("run B was made with --limit 2" in warning for warning in comparison.warnings)
    assert "--limit 2: a subset" in run_b.describe()


def test_one_ablated_knob_is_quiet_and_a_second_one_warns(tmp_path):
    passed = {"humanevalfix-python": [3, 4]}
    base = load_run(write_run(tmp_path / "a", passed))
    prompt = load_run(write_run(tmp_path / "b", passed, prompt="octocoder", model="org/other"))
    both = load_run(write_run(tmp_path / "c", passed, prompt="octocoder", temperature=0.8))
    assert compare_runs(base, prompt).warnings == []  # the model's identity is not a difference
    assert [d["knob"] for d in compare_runs(base, prompt).differences] == ["prompt"]
    warnings = compare_runs(base, both).warnings
    assert any("prompt" in w for w in warnings) and any("temperature" in w for w in warnings)
    ablating_prompt = compare_runs(base, both, ablated=["prompt"]).warnings
    assert len(ablating_prompt) == 1 and "temperature" in ablating_prompt[0]


def test_local_data_is_compared_by_file_hash_not_path():
    def provenance(data_dir: str, digest: str) -> dict:
        results = {"configs": {"t-python": {"metadata": {"data_dir": data_dir}}}, "config": {}}
        return run_provenance(results, sidecar={"dataset_files": {data_dir: {"python": digest}}})

    assert differences(provenance("/x", "abc"), provenance("/y", "abc")) == []
    found = differences(provenance("/x", "abc"), provenance("/x", "def"))
    assert [item["knob"] for item in found] == ["dataset_files"]
    assert provenance_warnings(found) == []  # one knob
    assert provenance_warnings(found, ablated=["prompt"])


def test_the_command_writes_markdown_and_json(tmp_path, capsys):
    write_run(tmp_path / "a", {"humanevalfix-python": [10, 10, 0]})
    write_run(tmp_path / "b", {"humanevalfix-python": [0, 10, 0]})
    out = tmp_path / "out"
    code = main_compare(
        [
            str(tmp_path / "a"),
            str(tmp_path / "b"),
            "--markdown",
            str(out / "c.md"),
            "--json",
            str(out / "c.json"),
            "--iterations",
            "500",
        ]
    )
    assert code == 0
    data = json.loads((out / "c.json").read_text())
    row = data["rows"][0]
    assert row["task"] == "humanevalfix-python" and row["difference"] == pytest.approx(-1 / 3)
    assert "sign-flip" in data["method"] and "bootstrap" in data["method"]
    assert "| humanevalfix-python | pass@1 | 66.7 | 33.3 | -33.3 |" in (out / "c.md").read_text()
    assert "Paired comparison" in capsys.readouterr().out
    assert main_compare([str(tmp_path / "a"), str(tmp_path / "nowhere")]) == 2


def self_check_run(output: Path, solution: str) -> None:
    command = [
        sys.executable,
        "-m",
        "lm_eval_octopack.cli",
        "--model",
        "octopack-reference",
        "--model_args",
        f"pretrained=selfcheck,solution={solution}",
        "--tasks",
        "humanevalfix-python,humanevalsynthesize-python",
        "--limit",
        "3",
        "--metadata",
        json.dumps({"data_dir": str(MINI_DATA_DIR)}),
        "--confirm_run_unsafe_code",
        "--output_path",
        str(output),
        "--log_samples",
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    completed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]


@pytest.mark.slow
def test_compare_two_self_check_runs_of_the_mini_data(tmp_path, capsys):
    self_check_run(tmp_path / "canonical", "canonical")
    self_check_run(tmp_path / "buggy", "buggy")
    sidecars = list((tmp_path / "buggy").rglob("provenance_*.json"))
    assert len(sidecars) == 1
    sidecar = json.loads(sidecars[0].read_text())
    assert "python" in sidecar["toolchains"] and sidecar["verdict_rules_version"] >= 1
    assert list(sidecar["dataset_files"].values())[0]["python"]

    json_path = tmp_path / "compare.json"
    code = main_compare([str(tmp_path / "canonical"), str(tmp_path / "buggy"), "--json", str(json_path)])
    assert code == 0
    data = json.loads(json_path.read_text())
    rows = {(row["task"], row["metric"]): row for row in data["rows"]}
    for task in ["humanevalfix-python", "humanevalsynthesize-python"]:
        row = rows[(task, "pass@1")]
        assert (row["score_a"], row["score_b"], row["difference"]) == (1.0, 0.0, -1.0)
        assert row["problems"] == 3 and row["p_value"] == pytest.approx(0.25)  # exact: 2 of 8 sign patterns
        assert (row["low"], row["high"]) == (-1.0, -1.0)
    assert rows[("humanevalpack", "pass@1")]["p_value"] == pytest.approx(2 / 64)
    assert [d["knob"] for d in data["differences"]] == ["solution"]
    assert all("--limit 3" in w for w in data["warnings"]) and len(data["warnings"]) == 2
    assert data["a"]["limit"] == 3
    console = capsys.readouterr().out
    assert "not comparable to published numbers" in console


def test_a_run_without_sidecar_is_not_flagged_for_every_toolchain(tmp_path):
    with_sidecar = write_run(tmp_path / "a", {"humanevalfix-python": [3, 4]})
    (tmp_path / "a" / f"provenance_{DATE}.json").write_text(
        json.dumps({"toolchains": {"python": {"python": "3.11"}}, "sandbox": "bwrap"})
    )
    without = load_run(write_run(tmp_path / "b", {"humanevalfix-python": [3, 4]}))
    comparison = compare_runs(load_run(with_sidecar), without)
    assert comparison.differences == []
    assert comparison.warnings == [
        "recorded by one run only, not compared: sandbox, toolchains "
        "(a run made before provenance was recorded, or one without code execution, lacks them)"
    ]


def test_held_out_style_tasks_are_paired_over_items(tmp_path):
    def held_out_run(directory: Path, scores: list[float]) -> Path:
        directory.mkdir()
        lines = [
            {"doc_id": i, "filter": "none", "metrics": ["exact_match"], "exact_match": score}
            for i, score in enumerate(scores)
        ]
        (directory / f"samples_instructeval_crass_3shot_{DATE}.jsonl").write_text(
            "".join(json.dumps(line) + "\n" for line in lines)
        )
        results = {
            "instructeval_crass_3shot": {"exact_match,none": float(np.mean(scores)), "exact_match_stderr,none": 0.1}
        }
        path = directory / f"results_{DATE}.json"
        path.write_text(json.dumps({"results": results, "configs": {}, "config": {}}))
        return path

    run_a = load_run(held_out_run(tmp_path / "a", [1.0] * 30 + [0.0] * 10))
    run_b = load_run(held_out_run(tmp_path / "b", [0.0] * 40))
    [row] = compare_runs(run_a, run_b).rows
    assert (row.name, row.metric, row.result.problems) == ("instructeval_crass_3shot", "exact_match", 40)
    assert row.result.difference == pytest.approx(-0.75) and row.result.p_value < 0.01


def test_the_data_source_the_loader_records_is_compared_by_revision_and_hashes():
    def provenance(source: dict) -> dict:
        return run_provenance(
            {
                "configs": {"t-go": {"metadata": {"data_dir": source.get("local"), "data_source": [source]}}},
                "config": {},
            }
        )

    local_a = {"local": "/a", "files": {"go.jsonl": "abc"}}
    local_b = {"local": "/b", "files": {"go.jsonl": "abc"}}
    assert differences(provenance(local_a), provenance(local_b)) == []
    hub_old = {"hub": "bigcode/humanevalpack", "revision": "1" * 40, "files": {"go.parquet": "abc"}}
    hub_new = {**hub_old, "revision": "2" * 40}
    assert [d["key"] for d in differences(provenance(hub_old), provenance(hub_new))] == ["tasks.t-go.dataset.revision"]


def write_heldout_run(directory: Path, items: dict[str, list[float]]) -> Path:
    """lm-eval-style held-out results and samples files: per-doc ``acc`` for each task."""
    directory.mkdir()
    for task, scores in items.items():
        lines = [{"doc_id": i, "filter": "none", "metrics": ["acc"], "acc": score} for i, score in enumerate(scores)]
        (directory / f"samples_{task}_{DATE}.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    results = {task: {"acc,none": float(np.mean(scores)), "acc_stderr,none": 0.1} for task, scores in items.items()}
    path = directory / f"results_{DATE}.json"
    path.write_text(json.dumps({"results": results, "configs": {}, "config": {}}))
    return path


def held_out_suites(first: list[float], second: list[float]) -> dict[str, list[float]]:
    return {
        "instructeval_mmlu_5shot_anatomy": first,
        "instructeval_mmlu_5shot_virology": second,
        "instructeval_bbh_3shot_snarks": first,
        "instructeval_bbh_3shot_navigate": second,
        "instructeval_hhh_harmless": first,
        "instructeval_hhh_honest": second,
    }


def test_held_out_groups_are_paired_within_members_and_aggregated_as_their_yaml(tmp_path):
    items = held_out_suites([1.0] * 30, [0.0] * 10)
    same = rows_by_name(
        compare_runs(
            load_run(write_heldout_run(tmp_path / "a", items)), load_run(write_heldout_run(tmp_path / "b", items))
        )
    )
    for group in ("instructeval_mmlu_5shot", "instructeval_bbh_3shot", "instructeval_hhh"):
        result = same[(group, "acc")]
        assert (result.difference, result.p_value, result.low, result.high, result.problems) == (0, 1.0, 0, 0, 40)
    worse = rows_by_name(
        compare_runs(
            load_run(write_heldout_run(tmp_path / "c", items)),
            load_run(write_heldout_run(tmp_path / "d", held_out_suites([0.0] * 30, [0.0] * 10))),
        )
    )
    # mmlu pools its items (weight_by_size): 30 of 40 lost; bbh and hhh average their members: (1 + 0) / 2 lost
    assert worse[("instructeval_mmlu_5shot", "acc")].difference == pytest.approx(-0.75)
    assert worse[("instructeval_bbh_3shot", "acc")].difference == pytest.approx(-0.5)
    assert worse[("instructeval_hhh", "acc")].difference == pytest.approx(-0.5)
    assert all(
        worse[(group, "acc")].p_value < 0.01 and worse[(group, "acc")].high < 0
        for group in ("instructeval_mmlu_5shot", "instructeval_bbh_3shot", "instructeval_hhh")
    )


def test_the_markdown_sets_both_runs_provenance_side_by_side(tmp_path):
    a = write_run(tmp_path / "a", {"humanevalfix-python": [3, 4]})
    b = write_run(tmp_path / "b", {"humanevalfix-python": [3, 4]}, prompt="octocoder", limit=2)
    markdown = render_markdown(compare_runs(load_run(a), load_run(b)))
    assert "| Setting | A | B |" in markdown
    assert "| Prompt template | instruct | octocoder |" in markdown
    assert "| --limit | none | 2 (a subset of the problems) |" in markdown
    assert "| Toolchains | unknown | unknown |" in markdown  # no sidecar, nothing recorded: unknown, no crash


def test_an_empty_recorded_mapping_is_no_difference_from_an_absent_one():
    from lm_eval_octopack import provenance as prov

    with_empty = {"seeds": {}, "sandbox": "bwrap"}
    without = {"sandbox": "bwrap"}
    assert prov.flatten(with_empty) == prov.flatten(without) == {"sandbox": '"bwrap"'}
    assert prov.differences(with_empty, without, []) == []
