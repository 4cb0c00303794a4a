"""lm-eval-octopack: HumanEvalPack and INSTRUCTEVAL held-out suites for lm-evaluation-harness.

Importing this package is cheap on purpose (an interpreter-start hook imports it); the
lm-eval integration lives in :mod:`lm_eval_octopack.plugin`.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["TASKS_DIR", "__version__", "tasks_dir"]


def tasks_dir() -> str:
    """Directory holding every task YAML of this package (lm-eval's ``--include_path``).

    Found through the import system because the repository keeps it at the top level
    (``task_yaml/``) while an installed wheel has it inside the package."""
    import importlib.util

    spec = importlib.util.find_spec("lm_eval_octopack.task_yaml")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("lm_eval_octopack.task_yaml is missing: is lm-eval-octopack installed?")
    return str(list(spec.submodule_search_locations)[0])


def __getattr__(name: str) -> str:
    if name == "TASKS_DIR":
        return tasks_dir()
    raise AttributeError(f"module 'lm_eval_octopack' has no attribute {name!r}")
