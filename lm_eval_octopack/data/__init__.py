"""Data shipped with the package: the mini HumanEvalPack (3 problems x 6 languages) for offline runs and tests.

lm-eval-octopack ... --metadata '{"data_dir": "<MINI_DATA_DIR>"}'
"""

from __future__ import annotations

from pathlib import Path

#: Directory of ``{python,js,java,go,cpp,rust}.jsonl`` in HumanEvalPack format, for ``data_dir``.
MINI_DATA_DIR: Path = Path(__file__).resolve().parent / "mini"


def mini_data_dir() -> str:
    """:data:`MINI_DATA_DIR` as a string, ready for ``--metadata data_dir=...``."""
    return str(MINI_DATA_DIR)
