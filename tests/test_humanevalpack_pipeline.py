"""HumanEvalPack through lm-eval end to end (self-check model, real data, small --limit)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from lm_eval_octopack.humanevalpack import describe_source, explain_stage
from lm_eval_octopack.humanevalpack.options import RunOptions
from lm_eval_octopack.humanevalpack.postprocess import postprocess_description
from lm_eval_octopack.humanevalpack.tasks import SampleResult


def evaluate(tasks, metadata, limit=None, solution="canonical", **kwargs):
    from lm_eval import simple_evaluate

    from lm_eval_octopack import plugin

    return simple_evaluate(
        model="octopack-reference",
        model_args=f"solution={solution}",
        tasks=tasks,
        limit=limit,
        task_manager=plugin.task_manager(metadata=metadata),
        confirm_run_unsafe_code=True,
        bootstrap_iters=0,
        **kwargs,
    )


def test_sample_results_survive_pickling_as_their_code():
    import pickle

    sample = SampleResult("print(1)", {"status": "passed"})
    assert pickle.loads(pickle.dumps(sample)) == "print(1)"


def test_options_come_from_metadata_then_environment(monkeypatch):
    monkeypatch.setenv("OCTOPACK_PROMPT", "octocoder")
    monkeypatch.setenv("OCTOPACK_WORKERS", "3")
    options = RunOptions.from_metadata({"prompt": "wizardcoder", "pretrained": "ignored-model-arg"})
    assert options.prompt == "wizardcoder" and options.workers == 3
    assert options.limits("rust").run_timeout == 300 and options.limits("python").run_timeout == 10
    assert RunOptions.from_doc({"octopack_options": options.to_json()}) == options
    with pytest.raises(ValueError, match="canonical"):
        RunOptions.from_metadata({"check_references": "yes"})


def test_fix_tasks_log_per_sample_verdicts(humanevalpack_dir):
    results = evaluate(
        ["humanevalfix-python"], {"data_dir": str(humanevalpack_dir)}, limit=2, solution="buggy", log_samples=True
    )
    assert results["results"]["humanevalfix-python"]["pass@1,execution"] == 0.0
    record = results["samples"]["humanevalfix-python"][0]
    assert len(record["verdicts"]) == 20
    assert {v["status"] for v in record["verdicts"]} == {"failed"}
    assert "AssertionError" in record["verdicts"][0]["detail"]
    assert record["filtered_resps"][0][0].startswith("from typing import List")


def test_template_is_chosen_per_run_without_editing_yaml(humanevalpack_dir):
    from lm_eval_octopack import plugin

    tm = plugin.task_manager(metadata={"data_dir": str(humanevalpack_dir), "prompt": "octocoder"})
    task = tm.load(["humanevalsynthesize-java"])["tasks"]["humanevalsynthesize-java"]
    doc = next(iter(task.test_docs()))
    assert task.doc_to_text(doc).startswith("Question: Write a Java function")


def test_explain_runs_both_stages_in_one_call_for_go_and_rust(humanevalpack_dir):
    from lm_eval import simple_evaluate

    from lm_eval_octopack import plugin

    metadata = {"data_dir": str(humanevalpack_dir)}
    results = explain_stage.run_with_describe_stage(
        simple_evaluate,
        model="octopack-reference",
        model_args="solution=canonical",
        tasks=["humanevalexplainsynthesize-go", "humanevalexplainsynthesize-rust"],
        limit=2,
        metadata=metadata,
        confirm_run_unsafe_code=True,
        bootstrap_iters=0,
        log_samples=True,
        task_manager=plugin.task_manager(metadata=metadata),
    )
    for lang in ("go", "rust"):
        assert results["results"][f"humanevalexplaindescribe-{lang}"]["nonempty,description"] == 1.0
        synth = results["samples"][f"humanevalexplainsynthesize-{lang}"]
        assert len(synth) == 2 * 20  # every description of the 2 problems, sampled once
        assert results["results"][f"humanevalexplainsynthesize-{lang}"]["pass@1,execution"] == 1.0
        doc = synth[0]["doc"]
        assert doc["description"] == postprocess_description(doc, lang, doc["docstring"])
        assert doc["description"] in doc["prompt_text"]


def test_explain_two_step_route_reads_a_samples_directory(humanevalpack_dir, tmp_path):
    from lm_eval.utils import handle_non_serializable

    stage_one = evaluate(
        ["humanevalexplaindescribe-python"], {"data_dir": str(humanevalpack_dir)}, limit=1, log_samples=True
    )
    # what `--log_samples --output_path tmp_path` writes
    samples_file = tmp_path / "model" / "samples_humanevalexplaindescribe-python_2026-01-01T00-00-00.jsonl"
    samples_file.parent.mkdir()
    samples_file.write_text(
        "".join(
            json.dumps(record, default=handle_non_serializable) + "\n"
            for record in stage_one["samples"]["humanevalexplaindescribe-python"]
        )
    )
    descriptions = describe_source.load_descriptions(str(tmp_path), "python")
    assert list(descriptions) == [0] and len(descriptions[0]) == 20
    stage_two = evaluate(
        ["humanevalexplainsynthesize-python"], {"data_dir": str(humanevalpack_dir), "describe_samples": str(tmp_path)}
    )
    assert stage_two["results"]["humanevalexplainsynthesize-python"]["pass@1,execution"] == 1.0


def test_explain_synthesize_without_descriptions_says_what_to_do(humanevalpack_dir):
    with pytest.raises(describe_source.DescriptionsError, match="describe_samples"):
        evaluate(["humanevalexplainsynthesize-js"], {"data_dir": str(humanevalpack_dir)}, limit=1)


def test_reference_format_descriptions_are_accepted(tmp_path):
    path = tmp_path / "descriptions.json"
    path.write_text(json.dumps([["a", "b"], [], ["c"]]))
    assert describe_source.load_descriptions(str(path), "python") == {0: ["a", "b"], 2: ["c"]}
    path.write_text(json.dumps({"not": "a list"}))
    with pytest.raises(describe_source.DescriptionsError, match="one per problem"):
        describe_source.load_descriptions(str(path), "python")


def run_cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "lm_eval_octopack.cli", *args], capture_output=True, text=True, env=env, timeout=600
    )


def test_cli_refuses_code_tasks_without_unsafe_confirmation_before_loading_a_model():
    result = run_cli("--model", "hf", "--model_args", "pretrained=/nonexistent", "--tasks", "humanevalfix-python")
    assert result.returncode == 2
    assert "--confirm_run_unsafe_code" in result.stderr


def test_doctor_rejects_unknown_languages():
    result = run_cli("doctor", "cobol")
    assert result.returncode == 2 and "unknown language" in result.stderr


def test_cli_skips_the_builtin_task_index_only_for_our_own_task_names():
    from lm_eval_octopack.cli import only_our_tasks

    assert only_our_tasks(["humanevalfix-python", "instructeval_hhh"], [])
    assert not only_our_tasks(["humanevalfix-python", "hellaswag"], [])
    assert not only_our_tasks(["humaneval*"], [])  # a glob may mean lm-eval's own humaneval tasks too
    assert not only_our_tasks(["humanevalfix-python"], ["--include_path", "/my/tasks"])
