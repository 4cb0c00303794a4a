"""The lm-eval 0.4.13 internals that ``lm_eval_octopack.lm_eval_compat`` relies on, one test per seam (numbered
as in its docstring), against the real installed lm-eval: an upgrade that moves one of them fails here."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from plain_lm_eval import selfcheck_argv

from lm_eval_octopack import _hook, lm_eval_compat, plugin, tasks_dir
from lm_eval_octopack.data import MINI_DATA_DIR
from lm_eval_octopack.provenance import PROVENANCE_KEY, run_provenance, sidecar_path

PROVENANCE_FIELDS = {"octopack_version", "verdict_rules_version", "sandbox", "backend", "toolchains"}


def parameters(function) -> set[str]:  # noqa: ANN001
    return set(inspect.signature(function).parameters)


def method_parameters(module: str, cls: str, method: str) -> set[str]:
    """A method's parameter names read from ``module``'s source (for modules that cannot be imported here)."""
    tree = ast.parse(Path(importlib.util.find_spec(module).origin).read_text())
    found = next(node for node in ast.walk(tree) if isinstance(node, ast.ClassDef) and node.name == cls)
    function = next(node for node in found.body if isinstance(node, ast.FunctionDef) and node.name == method)
    return {arg.arg for arg in [*function.args.args, *function.args.kwonlyargs]}


@pytest.fixture(scope="module")
def mini_run() -> dict:
    """A real evaluation: the self-check model on two mini-data problems of humanevalfix-python."""
    from lm_eval import simple_evaluate

    manager = plugin.task_manager(metadata={"data_dir": str(MINI_DATA_DIR)})
    return simple_evaluate(
        model="octopack-reference",
        model_args="solution=canonical",
        tasks=["humanevalfix-python"],
        limit=2,
        task_manager=manager,
        confirm_run_unsafe_code=True,
        bootstrap_iters=0,
    )


def test_1_the_hook_targets_are_the_modules_that_define_what_we_patch():
    assert _hook._AFTER_IMPORT == lm_eval_compat.HOOKED_MODULES
    for module, action in lm_eval_compat.HOOKED_MODULES.items():
        assert importlib.util.find_spec(module) is not None and callable(getattr(plugin, action))
    import lm_eval.tasks.manager

    assert inspect.isclass(lm_eval.tasks.manager.TaskManager)


def test_2_model_names_register_as_lazy_module_class_targets():
    from lm_eval.api.registry import get_model, model_registry

    lm_eval_compat.register_lazy_models({"octopack-compat-probe": "lm_eval_octopack.models.reference:ReferenceModel"})
    plugin.register_models()
    assert "octopack-compat-probe" in model_registry
    from lm_eval_octopack.models.reference import ReferenceModel

    assert get_model("octopack-compat-probe") is ReferenceModel
    assert get_model("octopack-reference") is ReferenceModel
    assert get_model("hf").__name__ == "HFLM"  # the built-ins still resolve after ours


def test_2_the_hf_model_is_registered_from_its_models_module():
    pytest.importorskip("transformers")
    from lm_eval.api.registry import get_model

    from lm_eval_octopack.models.hf import OctopackHFLM

    plugin.register_models()
    assert get_model("octopack-hf") is OctopackHFLM


def test_3_task_manager_takes_include_path_and_include_defaults():
    from lm_eval.tasks import TaskManager

    assert {"include_path", "include_defaults", "metadata"} <= parameters(TaskManager.__init__)
    plugin.ensure_registered()
    manager = TaskManager(include_defaults=False)  # our wrapper adds our task directory
    assert "humanevalfix-python" in manager.all_tasks and "hellaswag" not in manager.all_tasks
    assert manager.include_path[0] == tasks_dir()


def test_4_skipping_the_builtin_index_leaves_only_our_tasks():
    from lm_eval.tasks import TaskManager

    plugin.ensure_registered()
    lm_eval_compat.skip_builtin_task_index(True)
    try:
        manager = TaskManager()
    finally:
        lm_eval_compat.skip_builtin_task_index(False)
    assert "humanevalfix-python" in manager.all_tasks and "hellaswag" not in manager.all_tasks


def test_5_the_cli_looks_simple_evaluate_up_on_the_package_at_run_time(monkeypatch):
    import lm_eval
    import lm_eval._cli.run
    from lm_eval.evaluator import simple_evaluate

    assert set(lm_eval_compat.SIMPLE_EVALUATE_KWARGS) <= parameters(simple_evaluate)
    source = inspect.getsource(lm_eval._cli.run)
    assert "        from lm_eval import simple_evaluate\n" in source  # imported inside the run function
    monkeypatch.setattr(lm_eval, "simple_evaluate", simple_evaluate)
    calls = []
    lm_eval_compat.wrap_simple_evaluate(lambda original, **kwargs: calls.append((original, kwargs)))
    lm_eval_compat.wrap_simple_evaluate(lambda original, **kwargs: pytest.fail("wrapped twice"))
    from lm_eval import simple_evaluate as seen_by_the_cli

    seen_by_the_cli(model="x")
    assert calls == [(simple_evaluate, {"model": "x"})]


def test_6_models_are_built_from_a_name_and_arguments_as_simple_evaluate_does():
    from lm_eval.api.model import LM

    assert {"arg_string", "additional_config"} <= parameters(LM.create_from_arg_string)
    assert {"arg_dict", "additional_config"} <= parameters(LM.create_from_arg_obj)
    plugin.register_models()
    extra = {"batch_size": None, "max_batch_size": None, "device": None}
    assert lm_eval_compat.build_model("octopack-reference", "solution=buggy", extra).solution == "buggy"
    model = lm_eval_compat.build_model("octopack-reference", {"solution": "buggy"}, extra)
    assert lm_eval_compat.build_model(model, None, extra) is model


def test_7_a_task_manager_keeps_its_search_paths_and_metadata():
    manager = plugin.task_manager(metadata={"data_dir": "/d"})
    like = lm_eval_compat.task_manager_like(manager, {"prompt": "octocoder"})
    assert like.include_path == manager.include_path
    assert like.metadata == {"data_dir": "/d", "prompt": "octocoder"}


def test_8_results_have_the_per_task_sections_and_sample_records_we_merge(mini_run):
    assert set(lm_eval_compat.PER_TASK_SECTIONS) <= set(mini_run)
    record = mini_run["samples"]["humanevalfix-python"][0]
    assert {"doc_id", "filter", "filtered_resps"} <= set(record)
    merged = lm_eval_compat.merge_results({"results": {"a": 1}, "samples": {"a": []}}, mini_run, keep_samples=False)
    assert set(merged["results"]) == {"a", "humanevalfix-python"} and "samples" not in merged


def test_9_and_10_the_running_task_is_found_on_the_stack(mini_run):
    from lm_eval.api.filter import FilterEnsemble
    from lm_eval.api.task import ConfigurableTask

    assert "download" in vars(ConfigurableTask) and "apply_filters" in vars(ConfigurableTask)
    assert "instances" in inspect.signature(FilterEnsemble.apply).parameters
    metadata = mini_run["configs"]["humanevalfix-python"]["metadata"]
    assert metadata["data_source"][0]["local"] == str(MINI_DATA_DIR.resolve())  # recorded while loading
    assert PROVENANCE_KEY in metadata  # recorded while filtering
    assert lm_eval_compat.task_being_loaded() is None and lm_eval_compat.task_applying_filters() is None


def test_11_what_a_filter_records_in_task_metadata_reaches_the_results(mini_run):
    recorded = mini_run["configs"]["humanevalfix-python"]["metadata"][PROVENANCE_KEY]
    assert set(recorded) == PROVENANCE_FIELDS
    assert recorded["backend"] == "local" and set(recorded["toolchains"]) == {"python"}


def test_12_filter_outputs_reach_process_results_unchanged_and_log_as_strings(mini_run):
    from lm_eval.api.filter import Filter, FilterEnsemble
    from lm_eval.api.instance import Instance
    from lm_eval.utils import sanitize_list

    class Carry(Filter):
        def apply(self, resps, docs):  # noqa: ANN001, ANN202
            return [[lm_eval_compat.TextWithVerdict(text, {"passed": True}) for text in r] for r in resps]

    instance = Instance(request_type="generate_until", doc={}, arguments=("", {}), idx=0, resps=["code"])
    FilterEnsemble(name="execution", filters=[Carry]).apply([instance])
    [carried] = instance.filtered_resps["execution"]
    assert carried.verdict == {"passed": True} and sanitize_list([carried]) == ["code"]
    assert type(sanitize_list([carried])[0]) is str
    record = mini_run["samples"]["humanevalfix-python"][0]
    assert record["verdicts"][0]["passed"] is True  # process_results read the verdict


def test_13_the_dataset_loader_gets_run_metadata_and_filters_get_none(mini_run):
    from lm_eval.api.filter import Filter

    assert parameters(Filter.apply) == {"self", "resps", "docs"}
    doc = mini_run["samples"]["humanevalfix-python"][0]["doc"]
    assert json.loads(doc["octopack_options"])["data_dir"] == str(MINI_DATA_DIR)


def test_14_the_base_classes_have_what_our_subclasses_use():
    from lm_eval.api.instance import Instance
    from lm_eval.api.model import LM
    from lm_eval.api.task import ConfigurableTask
    from lm_eval.models import utils as model_utils

    assert {"task_name", "args"} <= {name for name in dir(Instance)} | set(Instance.__dataclass_fields__)
    assert {"loglikelihood", "generate_until", "loglikelihood_rolling"} <= set(dir(LM))
    assert {"doc", "ctx"} <= parameters(ConfigurableTask.construct_requests)
    for helper in ("handle_stop_sequences", "normalize_gen_kwargs", "postprocess_generated_text"):
        assert callable(getattr(model_utils, helper))
    assert {"requests", "generate", "sampling_params"} <= method_parameters(
        "lm_eval.models.vllm_causallms", "VLLM", "_model_generate"
    )
    assert {"requests", "disable_tqdm"} <= method_parameters("lm_eval.models.vllm_causallms", "VLLM", "generate_until")
    hf = "lm_eval.models.huggingface"
    assert {"requests", "disable_tqdm"} <= method_parameters(hf, "HFLM", "_loglikelihood_tokens")
    assert {"requests", "disable_tqdm"} <= method_parameters(hf, "HFLM", "loglikelihood")
    assert {"string", "add_special_tokens"} <= method_parameters(hf, "HFLM", "tok_encode")


def test_15_and_16_the_cli_entry_point_and_model_argument_parsing():
    import lm_eval.__main__

    assert parameters(lm_eval.__main__.cli_evaluate) == set()  # reads sys.argv
    assert lm_eval_compat.parse_model_args("pretrained=m,solution=buggy,seed=3") == {
        "pretrained": "m",
        "solution": "buggy",
        "seed": 3,
    }


def test_17_and_provenance_a_plain_lm_eval_run_records_it_in_its_results_file(tmp_path):
    """Plain ``lm_eval`` through the import hook (no lm-eval-octopack CLI, so no sidecar): the results file itself
    says what scored it, and the loader that ``report``/``compare`` use reads it from there."""
    env = {
        **os.environ,
        "OCTOPACK_CACHE_DIR": str(tmp_path / "cache"),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
    }
    env.pop("LM_EVAL_OCTOPACK_NO_HOOK", None)
    completed = subprocess.run(
        selfcheck_argv(
            Path(sys.prefix) / "bin" / "lm_eval",
            ["humanevalfix-python"],
            tmp_path / "out",
            "--metadata",
            json.dumps({"data_dir": str(MINI_DATA_DIR)}),
            "--log_samples",
        ),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    [results_file] = (tmp_path / "out").rglob("results_*.json")
    assert results_file.parent.name == "selfcheck" and list(results_file.parent.glob("samples_humanevalfix-python_*"))
    assert not sidecar_path(results_file).exists()
    results = json.loads(results_file.read_text())
    recorded = results["configs"]["humanevalfix-python"]["metadata"][PROVENANCE_KEY]
    assert set(recorded) == PROVENANCE_FIELDS and recorded["sandbox"] == "bwrap"
    assert recorded["toolchains"]["python"]["python"].startswith(f"{sys.version_info[0]}.{sys.version_info[1]}")

    from lm_eval_octopack.report.compare import load_run

    provenance = load_run(tmp_path / "out").provenance
    assert {key: provenance[key] for key in PROVENANCE_FIELDS - {"toolchains"}} == {
        key: recorded[key] for key in PROVENANCE_FIELDS - {"toolchains"}
    }
    assert provenance["toolchains"] == recorded["toolchains"]
    assert provenance["dataset_files"] == {
        str(MINI_DATA_DIR.resolve()): {
            "python": results["configs"]["humanevalfix-python"]["metadata"]["data_source"][0]["files"]["python.jsonl"]
        }
    }


def test_provenance_in_the_results_file_wins_over_the_sidecar():
    results = {
        "config": {},
        "configs": {
            "humanevalfix-go": {
                "dataset_kwargs": {"language": "go"},
                "metadata": {
                    PROVENANCE_KEY: {"sandbox": "none", "backend": "ray", "toolchains": {"go": {"go": "1.26"}}}
                },
            }
        },
    }
    sidecar = {"sandbox": "bwrap", "toolchains": {"go": {"go": "1.22"}}, "dataset_files": {}}
    provenance = run_provenance(results, sidecar=sidecar)
    assert (provenance["sandbox"], provenance["backend"], provenance["toolchains"]) == (
        "none",
        "ray",
        {"go": {"go": "1.26"}},
    )
    assert run_provenance({"config": {}, "configs": {}}, sidecar=sidecar)["sandbox"] == "bwrap"  # the fallback


def test_18_simple_evaluate_looks_the_git_hash_up_on_the_evaluator_module(monkeypatch):
    from lm_eval import evaluator

    assert "get_git_commit_hash()" in inspect.getsource(evaluator.simple_evaluate)
    monkeypatch.setattr(evaluator, "get_git_commit_hash", lambda: "abc123")
    lm_eval_compat.quiet_git_hash()
    lm_eval_compat.quiet_git_hash()  # once
    inside_a_checkout = subprocess.run(["git", "rev-parse", "--git-dir"], capture_output=True).returncode == 0
    assert evaluator.get_git_commit_hash() == ("abc123" if inside_a_checkout else None)
