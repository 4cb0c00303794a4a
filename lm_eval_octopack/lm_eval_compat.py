"""Every place lm-eval-octopack relies on an lm-eval 0.4.13 internal, in one module.

lm-eval 0.4.13 has no plugin interface (no entry points, no hook for run metadata in filters), so a
few of its internals are load-bearing for us. Each seam below says why it exists and what it relies
on; ``tests/test_lm_eval_compat.py`` pins every one of those internals, so that an lm-eval upgrade
fails there, loudly, instead of somewhere in a run. The rest of the package calls the functions here.

1. **Import hook targets** (``_hook.py``, which must import nothing, keeps its own copy of
   :data:`HOOKED_MODULES`): importing ``lm_eval.models`` fills the model registry with the built-in
   placeholders; ``lm_eval.tasks.manager`` defines ``TaskManager``.
2. **Lazy model names** (:func:`register_lazy_models`): ``lm_eval.api.registry.model_registry``
   accepts ``register(name, target="module:Class")`` and resolves it on ``get_model(name)``. It must
   run after ``import lm_eval.models``, or ``get_model("hf")`` breaks.
3. **Our task directory in every TaskManager** (:func:`patch_task_manager`): ``TaskManager.__init__``
   takes ``include_path`` (str, path or list; later roots override earlier ones) and
   ``include_defaults``. lm-eval's CLI builds its TaskManager itself, so its ``__init__`` is wrapped.
4. **Skipping lm-eval's built-in task index** (:func:`skip_builtin_task_index`): the same wrapper passes
   ``include_defaults=False`` when our CLI knows every requested task is ours (saves 10-40 s a run).
5. **Wrapping ``simple_evaluate``** (:func:`wrap_simple_evaluate`): lm-eval's CLI
   (``lm_eval._cli.run``) does ``from lm_eval import simple_evaluate`` inside its run function, so
   replacing the attribute on the ``lm_eval`` package reaches the CLI. Used to run HumanEvalExplain's
   describe stage first; it reads the keyword arguments in :data:`SIMPLE_EVALUATE_KWARGS`.
6. **Building a model once for two evaluations** (:func:`build_model`): ``get_model(name)`` and the
   ``LM.create_from_arg_obj`` / ``create_from_arg_string(args, additional_config)`` class methods.
7. **A TaskManager like another one** (:func:`task_manager_like`): its ``include_path`` and
   ``metadata`` attributes (``TaskManager`` keeps no ``include_defaults`` attribute).
8. **Merging two results dicts** (:func:`merge_results`): the per-task sections of
   ``simple_evaluate``'s return value (:data:`PER_TASK_SECTIONS`) and ``samples`` records with
   ``doc_id``, ``filter`` and ``filtered_resps``.
9. **The task whose data is being loaded** (:func:`task_being_loaded`): ``ConfigurableTask.download``
   calls ``custom_dataset(**metadata)`` with no handle on the task, so the task is found on the call
   stack (a frame of a method named ``download`` whose ``self`` is a ``ConfigurableTask``).
10. **The task whose filters are running** (:func:`task_applying_filters`): likewise
    ``ConfigurableTask.apply_filters`` -> ``FilterEnsemble.apply`` -> ``Filter.apply(resps, docs)``.
11. **Recording into a task's results config** (:func:`record_in_task_metadata`): ``task.config.metadata``
    is dumped (``TaskConfig.to_dict``) into ``configs.<task>.metadata`` of the results only after the
    filters and ``process_results`` ran, so what a filter records there lands in the results file.
12. **Verdicts through the filter pipeline** (:class:`TextWithVerdict`): a filter's output for an
    instance is stored as-is in ``Instance.filtered_resps[<pipeline name>]`` and handed to
    ``process_results(doc, [filtered_resps])`` unchanged; only the samples log stringifies it
    (``sanitize_list`` -> ``str``). A ``str`` subclass therefore logs as the final code and still
    carries its verdict to ``process_results``.
13. **Run options in every doc** (``humanevalpack.options``): ``Filter.apply(resps, docs)`` gets no run
    metadata, but ``custom_dataset`` is called with ``--metadata`` merged with ``--model_args``; the
    loader writes the resolved options into each doc (``octopack_options``).
14. **Model subclasses**: ``models/hf.py`` subclasses ``HFLM`` (``tok_encode``, ``_loglikelihood_tokens``,
    ``loglikelihood(requests, disable_tqdm)``, ``Instance.task_name``/``args``); ``models/vllm.py`` and
    ``sampling.py`` subclass ``VLLM`` and use ``lm_eval.models.utils``'s gen-kwargs helpers;
    ``models/reference.py`` subclasses ``LM``; ``heldout/hhh_task.py`` subclasses ``ConfigurableTask``.
15. **The CLI entry point**: ``lm_eval.__main__.cli_evaluate()`` reads ``sys.argv``.
16. **Model arguments**: ``lm_eval.utils.simple_parse_args_string`` parses ``--model_args`` strings.
17. **Output layout**: ``results_<date>.json`` and ``samples_<task>_<date>.jsonl`` under
    ``<output_path>/<model_name_sanitized>/`` (provenance sidecars, ``report``, ``compare``).
18. **A quiet git hash** (:func:`quiet_git_hash`): ``simple_evaluate`` calls the module global
    ``lm_eval.evaluator.get_git_commit_hash``, which runs ``git describe`` with stderr on the terminal
    ("fatal: not a git repository" outside a checkout); the self-check replaces it.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

HOOKED_MODULES = {
    "lm_eval.models": "register_models",
    "lm_eval.tasks.manager": "patch_task_manager",
}
SIMPLE_EVALUATE_KWARGS = (
    "model",
    "model_args",
    "tasks",
    "batch_size",
    "max_batch_size",
    "device",
    "metadata",
    "limit",
    "log_samples",
    "task_manager",
    "predict_only",
)
PER_TASK_SECTIONS = ("results", "configs", "versions", "n-shot", "higher_is_better", "n-samples")
_PATCHED = "_octopack_patched"
_WRAPPED = "_octopack_wrapped"
_skip_builtin_tasks = False


# --------------------------------------------------------------------------- registration (seams 2-4)


def register_lazy_models(models: Mapping[str, str]) -> None:
    """Register ``name -> "module:Class"`` placeholders: nothing is imported until a run asks for the model."""
    import lm_eval.models  # noqa: F401  (built-in placeholders first, or get_model("hf") breaks)
    from lm_eval.api.registry import model_registry

    for name, target in models.items():
        if name not in model_registry:
            model_registry.register(name, target=target)


def _as_list(include_path: Any) -> list:  # noqa: ANN401 (str, Path or a list of them)
    if include_path is None:
        return []
    if isinstance(include_path, (list, tuple)):
        return list(include_path)
    return [include_path]


def patch_task_manager(task_dir: str) -> None:
    """Make every TaskManager search ``task_dir`` first, so that a user's own ``--include_path`` (searched
    later) can still override our tasks. Idempotent."""
    from lm_eval.tasks.manager import TaskManager

    original = TaskManager.__init__
    if getattr(original, _PATCHED, False):
        return

    @functools.wraps(original)  # keeps the original's signature visible (``__wrapped__``)
    def __init__(self, *args, include_path=None, **kwargs):  # noqa: ANN001, ANN002, ANN003, N807
        paths = _as_list(include_path)
        if not any(Path(p).resolve() == Path(task_dir).resolve() for p in paths):
            paths.insert(0, task_dir)
        if _skip_builtin_tasks:
            kwargs["include_defaults"] = False
        original(self, *args, include_path=paths, **kwargs)

    setattr(__init__, _PATCHED, True)
    TaskManager.__init__ = __init__


def skip_builtin_task_index(skip: bool) -> None:
    """Whether TaskManagers built from now on skip indexing lm-eval's ~14,700 built-in tasks."""
    global _skip_builtin_tasks
    _skip_builtin_tasks = skip


def skipping_builtin_task_index() -> bool:
    return _skip_builtin_tasks


def parse_model_args(model_args: str | Mapping[str, Any]) -> dict[str, Any]:
    """``--model_args`` as a dict, parsed as lm-eval parses it."""
    if isinstance(model_args, str):
        from lm_eval.utils import simple_parse_args_string

        return simple_parse_args_string(model_args)
    return dict(model_args)


def run_cli(argv: list[str], program: str = "lm-eval-octopack") -> None:
    """lm-eval's own command line on ``argv``."""
    from lm_eval.__main__ import cli_evaluate

    sys.argv = [program, *argv]
    cli_evaluate()


def quiet_git_hash() -> None:
    """Make ``simple_evaluate`` ask git for the commit only inside a repository (same value, no noise)."""
    from lm_eval import evaluator

    lm_eval_git_hash = evaluator.get_git_commit_hash
    if getattr(lm_eval_git_hash, _WRAPPED, False):
        return

    def git_hash():  # noqa: ANN202
        import subprocess

        try:
            inside = subprocess.run(["git", "rev-parse", "--git-dir"], capture_output=True).returncode == 0
        except OSError:
            inside = True  # no git: lm-eval's own fallback reads .git itself
        return lm_eval_git_hash() if inside else None

    setattr(git_hash, _WRAPPED, True)
    evaluator.get_git_commit_hash = git_hash


# --------------------------------------------------------------------------- evaluation (seams 5-8)


def wrap_simple_evaluate(wrapper: Callable[..., Any]) -> None:
    """Replace ``lm_eval.simple_evaluate`` (what lm-eval's CLI calls) by ``wrapper(original, *args, **kwargs)``,
    once."""
    import lm_eval

    original = lm_eval.simple_evaluate
    if getattr(original, _WRAPPED, False):
        return

    @functools.wraps(original)
    def wrapped(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        return wrapper(original, *args, **kwargs)

    setattr(wrapped, _WRAPPED, True)
    lm_eval.simple_evaluate = wrapped


def build_model(model: Any, model_args: str | Mapping[str, Any] | None, additional_config: Mapping[str, Any]) -> Any:  # noqa: ANN401 (a name or an lm_eval LM in, an LM out)
    """The LM ``simple_evaluate`` would build from these arguments (``model`` itself if it is one)."""
    import lm_eval.api.model
    from lm_eval.api.registry import get_model

    if isinstance(model, lm_eval.api.model.LM):
        return model
    cls = get_model(model)
    if isinstance(model_args, Mapping):
        return cls.create_from_arg_obj(dict(model_args), dict(additional_config))
    return cls.create_from_arg_string(model_args or "", dict(additional_config))


def task_manager_like(task_manager: Any, metadata: Mapping[str, Any]) -> Any:  # noqa: ANN401
    """A TaskManager with ``task_manager``'s search paths and its metadata updated by ``metadata``."""
    from lm_eval.tasks import TaskManager

    merged = dict(task_manager.metadata or {}) | dict(metadata)
    return TaskManager(
        include_path=task_manager.include_path,
        metadata=merged,
        include_defaults=getattr(task_manager, "include_defaults", False),
    )


def merge_results(first: dict | None, second: dict | None, keep_samples: bool) -> dict | None:
    """Two ``simple_evaluate`` results as one (``second`` wins per task); None on non-zero ranks."""
    if first is None or second is None:
        return second
    merged = dict(second)
    for key in PER_TASK_SECTIONS:
        if key in first:
            merged[key] = {**first[key], **second.get(key, {})}
    if keep_samples and "samples" in first:
        merged["samples"] = {**first["samples"], **second.get("samples", {})}
    elif not keep_samples:
        merged.pop("samples", None)
    return merged


# --------------------------------------------------------------------------- the running task (seams 9-11)


def _task_on_stack(method: str) -> Any | None:  # noqa: ANN401 (an lm-eval ConfigurableTask)
    task_module = sys.modules.get("lm_eval.api.task")
    if task_module is None:
        return None
    frame = sys._getframe(2)
    while frame is not None:
        candidate = frame.f_locals.get("self")
        if frame.f_code.co_name == method and isinstance(candidate, task_module.ConfigurableTask):
            return candidate
        frame = frame.f_back
    return None


def task_being_loaded() -> Any | None:  # noqa: ANN401
    """The lm-eval task whose ``custom_dataset`` is running (None outside lm-eval)."""
    return _task_on_stack("download")


def task_applying_filters() -> Any | None:  # noqa: ANN401
    """The lm-eval task whose filters are running (None outside lm-eval)."""
    return _task_on_stack("apply_filters")


def task_metadata(task: Any) -> dict:  # noqa: ANN401
    """``task``'s config metadata, which lm-eval writes to ``configs.<task>.metadata`` in the results."""
    if task.config.metadata is None:
        task.config.metadata = {}
    return task.config.metadata


def record_in_task_metadata(task: Any, key: str, value: Any) -> None:  # noqa: ANN401
    task_metadata(task)[key] = value


# --------------------------------------------------------------------------- filter outputs (seam 12)


class TextWithVerdict(str):
    """A final program text that also carries its verdict.

    lm-eval writes filter outputs to the samples file as strings, so the log shows the final code
    exactly as the reference saves generations; ``process_results`` reads ``.verdict``."""

    verdict: dict | None

    def __new__(cls, code: str, verdict: dict | None = None) -> TextWithVerdict:
        instance = super().__new__(cls, code)
        instance.verdict = verdict
        return instance
