"""What users install: the built wheel holds every file of the three source roots (nothing forgotten,
nothing stale), and the editable install that ``make setup`` makes has the lm_eval import hook."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from plain_lm_eval import selfcheck_argv
from wheel_build import REPO_ROOT, built_wheel

#: source root in the repository -> where it installs
ROOTS = {
    "lm_eval_octopack": "lm_eval_octopack",
    "executors": "lm_eval_octopack/executors",
    "task_yaml": "lm_eval_octopack/task_yaml",
}
CACHE_DIRS = {"__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache"}
CACHE_SUFFIXES = (".pyc", ".pyo")
#: Files of the source roots that are deliberately not in the wheel (installed path). None so far.
LEFT_OUT_ON_PURPOSE: frozenset[str] = frozenset()
HOOK_PTH = "lm_eval_octopack_hook.pth"


def _source_files() -> set[str]:
    """Every non-cache file under the source roots, by the path it must have in the wheel."""
    files = set()
    for root, installed in ROOTS.items():
        for path in (REPO_ROOT / root).rglob("*"):
            relative = path.relative_to(REPO_ROOT / root)
            if path.is_file() and not CACHE_DIRS & set(relative.parts) and path.suffix not in CACHE_SUFFIXES:
                files.add(f"{installed}/{relative.as_posix()}")
    return files


@pytest.fixture(scope="module")
def wheel_files() -> set[str]:
    with zipfile.ZipFile(built_wheel()) as wheel:
        return {name for name in wheel.namelist() if not name.endswith("/")}


def test_wheel_ships_every_non_python_file_of_the_source_roots(wheel_files):
    expected = {name for name in _source_files() if not name.endswith(".py")}
    assert {
        "lm_eval_octopack/executors/languages/java_support/BatchCompile.java",
        "lm_eval_octopack/executors/languages/go_support/go.mod.txt",
        "lm_eval_octopack/executors/languages/rust_support/Cargo.toml",
    } <= expected
    assert sorted(expected - wheel_files - LEFT_OUT_ON_PURPOSE) == []
    assert sorted(LEFT_OUT_ON_PURPOSE & wheel_files) == []


def test_wheel_ships_every_module_and_nothing_else(wheel_files):
    """Modules too (a .py in a folder without __init__.py is easy to lose), and nothing that is not
    in the tree: no stale build output, no top-level executors/ or tests/."""
    modules = {name for name in _source_files() if name.endswith(".py")}
    assert sorted(modules - wheel_files) == []
    ours = {name for name in wheel_files if ".dist-info/" not in name and name != HOOK_PTH}
    assert sorted(ours - _source_files()) == []
    assert HOOK_PTH in wheel_files


def _editable_install() -> metadata.Distribution:
    try:
        dist = metadata.distribution("lm-eval-octopack")
        direct_url = json.loads(dist.read_text("direct_url.json") or "{}")
    except (metadata.PackageNotFoundError, ValueError):
        pytest.skip("lm-eval-octopack is not installed in the running interpreter")
    if not direct_url.get("dir_info", {}).get("editable"):
        pytest.skip(
            f"the running interpreter ({sys.prefix}) has no editable install of lm-eval-octopack "
            "(`pip install -e .`, as `make setup` does)"
        )
    return dist


def test_editable_install_has_the_hook_and_plain_lm_eval_runs_our_task(humanevalpack_dir, tmp_path):
    _editable_install()
    hook = Path(sysconfig.get_paths()["purelib"]) / HOOK_PTH
    assert hook.is_file(), f"{hook} missing: reinstall with `pip install -e .`"
    assert "lm_eval_octopack._hook" in hook.read_text()
    env = {**os.environ, "OCTOPACK_DATA_DIR": str(humanevalpack_dir), "OCTOPACK_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("LM_EVAL_OCTOPACK_NO_HOOK", None)
    result = subprocess.run(
        selfcheck_argv(Path(sys.prefix) / "bin" / "lm_eval", ["humanevalfix-python"], tmp_path / "out"),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(next((tmp_path / "out").rglob("results_*.json")).read_text())
    assert results["results"]["humanevalfix-python"]["pass@1,execution"] == 1.0


def test_the_hook_is_silent_in_a_sandboxed_interpreter_that_cannot_see_the_checkout(tmp_path):
    """The sandbox binds the editable install's .venv but not the checkout its finder points to: the hook's .pth
    must then do nothing, not print an import traceback at every interpreter start."""
    from lm_eval_octopack.executors.sandbox import make_sandbox
    from lm_eval_octopack.executors.types import Limits

    _editable_install()
    result = make_sandbox("bwrap").run(
        [sys.executable, "-c", "import lm_eval_octopack"], workdir=tmp_path, timeout=60, limits=Limits()
    )
    assert result.returncode == 1 and "No module named 'lm_eval_octopack'" in result.stderr  # the checkout is hidden
    quiet = make_sandbox("bwrap").run([sys.executable, "-c", "pass"], workdir=tmp_path, timeout=60, limits=Limits())
    assert (quiet.returncode, quiet.stderr) == (0, "")
