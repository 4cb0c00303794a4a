"""The built wheel, installed into a fresh virtualenv with no source tree, works with the plain
``lm_eval`` CLI (through the ``.pth`` import hook) and costs nothing at interpreter start.

The virtualenv is built once per session (``OCTOPACK_WHEEL_VENV`` reuses an existing one).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _run(args: list, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=1800, **kwargs)


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory) -> Path:
    existing = os.environ.get("OCTOPACK_WHEEL_VENV")
    if existing:
        return Path(existing)
    work = tmp_path_factory.mktemp("wheel")
    built = _run([sys.executable, "-m", "build", "--wheel", "--outdir", work / "dist", REPO_ROOT])
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = next((work / "dist").glob("lm_eval_octopack-*.whl"))
    venv = work / "venv"
    assert _run([sys.executable, "-m", "venv", venv]).returncode == 0
    installed = _run([venv / "bin" / "pip", "install", "-q", wheel])
    assert installed.returncode == 0, installed.stderr[-3000:]
    return venv


def test_wheel_ships_yaml_executors_and_the_hook_inside_the_package(wheel_venv, tmp_path):
    code = ("import lm_eval_octopack as p, lm_eval_octopack.executors as e, pathlib, sys;"
            "print(p.tasks_dir()); print(e.__file__);"
            "print(any(type(f).__name__ == '_LmEvalFinder' for f in sys.meta_path))")
    result = _run([wheel_venv / "bin" / "python", "-c", code], cwd=tmp_path)
    tasks, executors, hooked = result.stdout.split()
    assert "site-packages/lm_eval_octopack/task_yaml" in tasks
    assert "site-packages/lm_eval_octopack/executors" in executors
    assert hooked == "True"
    assert list(Path(tasks).rglob("humanevalfix-python.yaml"))
    site = Path(tasks).parents[1]
    assert not (site / "executors").exists() and not (site / "task_yaml").exists()


def test_hook_imports_nothing_heavy_at_interpreter_start(wheel_venv, tmp_path):
    result = _run([wheel_venv / "bin" / "python", "-X", "importtime", "-c", "pass"], cwd=tmp_path)
    imported = [line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line]
    ours = [name for name in imported if "octopack" in name]
    assert set(ours) <= {"lm_eval_octopack", "lm_eval_octopack._hook"}, ours
    assert not any(name.startswith("lm_eval.") or name == "lm_eval" for name in imported)


def test_plain_lm_eval_cli_runs_our_task_and_model(wheel_venv, tmp_path, humanevalpack_dir):
    env = {**os.environ, "OCTOPACK_DATA_DIR": str(humanevalpack_dir), "OCTOPACK_CACHE_DIR": str(tmp_path / "cache")}
    result = _run([wheel_venv / "bin" / "lm_eval", "--model", "octopack-reference",
                   "--model_args", "pretrained=selfcheck,solution=canonical", "--tasks", "humanevalfix-python",
                   "--limit", "2", "--confirm_run_unsafe_code", "--output_path", tmp_path / "out"],
                  cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(next((tmp_path / "out").rglob("results_*.json")).read_text())
    assert results["results"]["humanevalfix-python"]["pass@1,execution"] == 1.0
