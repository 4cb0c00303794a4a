"""lm-eval-octopack: HumanEvalPack and INSTRUCTEVAL held-out suites for lm-evaluation-harness.

Importing this package is cheap on purpose (it is imported by an interpreter-start hook);
the lm-eval integration lives in :mod:`lm_eval_octopack.plugin`.
"""

from pathlib import Path

__version__ = "0.1.0"

#: Directory holding every task YAML of this package; pass it to lm-eval's ``--include_path``.
TASKS_DIR = str(Path(__file__).resolve().parent / "task_yaml")

__all__ = ["TASKS_DIR", "__version__"]
