"""Registration of our models and task directory with lm-eval.

Three routes end here: the interpreter-start hook (plain ``lm_eval`` CLI), our own console
script, and ``import lm_eval_octopack.plugin`` from Python followed by :func:`ensure_registered`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lm_eval_octopack import tasks_dir

#: Model name -> "module:Class". Registered as lazy placeholders: nothing heavy (vLLM, torch)
#: is imported until a run asks for that model.
MODELS: dict[str, str] = {
    "octopack-reference": "lm_eval_octopack.models.reference:ReferenceModel",
    "octopack-vllm": "lm_eval_octopack.models.vllm:OctopackVLLM",
    "octopack-hf": "lm_eval_octopack.heldout.hhh_model:OctopackHFLM",
}


def register_models() -> None:
    import lm_eval.models  # noqa: F401  (built-in placeholders first, or get_model("hf") breaks)
    from lm_eval.api.registry import model_registry

    for name, target in MODELS.items():
        if name not in model_registry:
            model_registry.register(name, target=target)


def _as_list(include_path) -> list:  # noqa: ANN001
    if include_path is None:
        return []
    if isinstance(include_path, (list, tuple)):
        return list(include_path)
    return [include_path]


#: Set by our CLI when every requested task is one of ours: lm-eval then skips indexing its
#: ~14,700 built-in tasks (about 10-40 s per run).
skip_builtin_tasks = False


def our_task_names() -> set[str]:
    """Every task, group and tag name defined under our task directory (a text scan, no YAML parse)."""
    import re

    pattern = re.compile(r"^(?:task|group|tag):\s*\[?([^\]\n]+)", re.MULTILINE)
    names: set[str] = set()
    for path in Path(tasks_dir()).rglob("*.yaml"):
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            names.update(name.strip() for name in match.group(1).split(",") if name.strip())
    return names


def patch_task_manager() -> None:
    """Make every TaskManager search our task directory first, so that a user's own
    ``--include_path`` (searched later) can still override our tasks."""
    from lm_eval.tasks.manager import TaskManager

    original = TaskManager.__init__
    if getattr(original, "_octopack_patched", False):
        return

    def __init__(self, *args, include_path=None, **kwargs):  # noqa: ANN001, N807
        paths = _as_list(include_path)
        if not any(Path(p).resolve() == Path(tasks_dir()).resolve() for p in paths):
            paths.insert(0, tasks_dir())
        if skip_builtin_tasks:
            kwargs["include_defaults"] = False
        original(self, *args, include_path=paths, **kwargs)

    __init__._octopack_patched = True  # type: ignore[attr-defined]
    TaskManager.__init__ = __init__


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
        kwargs["metadata"] = _parsed_model_args(model_args) | dict(kwargs.get("metadata") or {})
    return TaskManager(include_defaults=include_defaults, **kwargs)


def _parsed_model_args(model_args: str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(model_args, str):
        from lm_eval.utils import simple_parse_args_string

        return simple_parse_args_string(model_args)
    return dict(model_args)
