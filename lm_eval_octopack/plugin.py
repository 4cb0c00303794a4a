"""Registration of our models and task directory with lm-eval.

Three routes end here: the interpreter-start hook (plain ``lm_eval`` CLI), our own console
script, and ``import lm_eval_octopack.plugin`` from Python followed by :func:`ensure_registered`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lm_eval_octopack import lm_eval_compat, tasks_dir

#: Model name -> "module:Class". Registered as lazy placeholders: nothing heavy (vLLM, torch)
#: is imported until a run asks for that model.
MODELS: dict[str, str] = {
    "octopack-reference": "lm_eval_octopack.models.reference:ReferenceModel",
    "octopack-vllm": "lm_eval_octopack.models.vllm:OctopackVLLM",
    "octopack-hf": "lm_eval_octopack.models.hf:OctopackHFLM",
}


def register_models() -> None:
    lm_eval_compat.register_lazy_models(MODELS)


def our_task_names() -> set[str]:
    """Every task, group and tag name of ours (the catalogue our task YAMLs are generated from)."""
    from lm_eval_octopack import catalogue

    return {*catalogue.tasks(), *catalogue.groups(), *catalogue.tags()}


def patch_task_manager() -> None:
    """Make every TaskManager search our task directory first (see :mod:`lm_eval_octopack.lm_eval_compat`)."""
    lm_eval_compat.patch_task_manager(tasks_dir())


def ensure_registered() -> None:
    """Idempotent: register models and the task directory (for Python API users)."""
    register_models()
    patch_task_manager()


def task_manager(include_defaults: bool = False, model_args: str | Mapping[str, Any] | None = None, **kwargs):  # noqa: ANN201
    """A TaskManager that sees our tasks. ``include_defaults=False`` skips indexing the
    ~14,700 built-in lm-eval tasks (about 9 s).

    ``model_args`` (the string or dict given to ``simple_evaluate``) goes into task metadata under
    ``metadata``, as the lm-eval CLI does and ``simple_evaluate(task_manager=...)`` does not: held-out
    shot dropping then counts tokens with the model's tokenizer (``pretrained``, ``tokenizer``, ``gguf_file``).
    """
    ensure_registered()
    from lm_eval.tasks import TaskManager

    if model_args:
        kwargs["metadata"] = lm_eval_compat.parse_model_args(model_args) | dict(kwargs.get("metadata") or {})
    return TaskManager(include_defaults=include_defaults, **kwargs)
