"""Shared test setup.

Real data: ``$OCTOPACK_SHARED_DATA`` (default ``../shared/data`` beside the repository) holds the
real HumanEvalPack and held-out suites. Tests that need it skip with a clear message when absent;
CI has it. The Hugging Face Hub is never contacted.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("OCTOPACK_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def shared_path(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"reference data not found at {path}: set OCTOPACK_SHARED_DATA to the shared/data directory")
    return path


@pytest.fixture(scope="session")
def humanevalpack_dir() -> Path:
    return shared_path("humanevalpack")


@pytest.fixture(scope="session")
def task_manager():
    from lm_eval_octopack import plugin

    return plugin.task_manager(include_defaults=False)


@pytest.fixture(scope="session")
def sandbox():
    """The real bubblewrap sandbox (skips where bubblewrap cannot run)."""
    from lm_eval_octopack.executors.errors import SandboxUnavailable
    from lm_eval_octopack.executors.sandbox import make_sandbox

    try:
        return make_sandbox("bwrap")
    except SandboxUnavailable as e:
        pytest.skip(f"bubblewrap unavailable: {e}")
