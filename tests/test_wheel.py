"""The built wheel, installed into a fresh virtualenv with no source tree and run outside the
repository, works in all six languages: ``setup``, ``doctor``, ``selfcheck`` and the plain
``lm_eval`` CLI (through the ``.pth`` import hook), and costs nothing at interpreter start.

Cost (2 busy cores): building ~15 s, the virtualenv ~2 min, ``setup`` into a fresh cache ~3 min
(the prepared dependencies of another cache cannot be copied in: Go's build cache is tied to its
path), the self-check ~1 min, the lm_eval run ~1 min. ``OCTOPACK_WHEEL_VENV`` reuses a virtualenv.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from plain_lm_eval import selfcheck_argv
from wheel_build import built_wheel

from lm_eval_octopack import language_facts

pytestmark = pytest.mark.slow
LANGUAGES = language_facts.LANGUAGES
#: Variables that could let the source tree or a setting of the developer's leak into the wheel's runs.
LEAKY_ENV = ("PYTHONPATH", "OCTOPACK_DATA_DIR", "LM_EVAL_OCTOPACK_NO_HOOK", "OCTOPACK_SANDBOX", "TQDM_DISABLE")


def _run(args: list, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=1800, **kwargs)


def _env(cache: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in LEAKY_ENV}
    return {**env, "OCTOPACK_CACHE_DIR": str(cache), **extra}


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory) -> Path:
    existing = os.environ.get("OCTOPACK_WHEEL_VENV")
    if existing:
        return Path(existing)
    venv = tmp_path_factory.mktemp("wheel") / "venv"
    assert _run([sys.executable, "-m", "venv", venv]).returncode == 0
    install = [venv / "bin" / "pip", "install", "-q", built_wheel()]
    installed = _run(install)
    if installed.returncode != 0:  # one retry: a download from the registry once failed its hash check here
        installed = _run(install)
    assert installed.returncode == 0, installed.stderr[-3000:]
    return venv


@pytest.fixture(scope="module")
def prepared_cache(wheel_venv, tmp_path_factory) -> Path:
    """A fresh cache prepared by the wheel's own ``setup`` (the *_support files it ships are used here)."""
    cache = tmp_path_factory.mktemp("wheel-cache")
    result = _run([wheel_venv / "bin" / "lm-eval-octopack", "setup"], cwd=cache, env=_env(cache))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert f"ready: {', '.join(LANGUAGES)}" in result.stdout
    return cache


def test_wheel_ships_yaml_executors_and_the_hook_inside_the_package(wheel_venv, tmp_path):
    code = (
        "import lm_eval_octopack as p, lm_eval_octopack.executors as e, pathlib, sys;"
        "print(p.tasks_dir()); print(e.__file__);"
        "print(any(type(f).__name__ == '_LmEvalFinder' for f in sys.meta_path))"
    )
    result = _run([wheel_venv / "bin" / "python", "-c", code], cwd=tmp_path, env=_env(tmp_path))
    tasks, executors, hooked = result.stdout.split()
    assert "site-packages/lm_eval_octopack/task_yaml" in tasks
    assert "site-packages/lm_eval_octopack/executors" in executors
    assert hooked == "True"
    assert list(Path(tasks).rglob("humanevalfix-python.yaml"))
    site = Path(tasks).parents[1]
    assert not (site / "executors").exists() and not (site / "task_yaml").exists()


def test_hook_imports_nothing_heavy_at_interpreter_start(wheel_venv, tmp_path):
    result = _run([wheel_venv / "bin" / "python", "-X", "importtime", "-c", "pass"], cwd=tmp_path, env=_env(tmp_path))
    imported = [line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line]
    ours = [name for name in imported if "octopack" in name]
    assert set(ours) <= {"lm_eval_octopack", "lm_eval_octopack._hook"}, ours
    assert not any(name.startswith("lm_eval.") or name == "lm_eval" for name in imported)


def test_doctor_finds_every_language(wheel_venv, prepared_cache, tmp_path):
    result = _run([wheel_venv / "bin" / "lm-eval-octopack", "doctor"], cwd=tmp_path, env=_env(prepared_cache))
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    for name in (*LANGUAGES, "sandbox"):
        assert f"\n{name:<8} OK" in f"\n{result.stdout}", result.stdout
    assert "MISSING" not in result.stdout
    assert "shared packages: on (rename tool built)" in result.stdout  # the wheel ships go_support/rename.go


def test_selfcheck_passes_in_all_six_languages_and_shows_only_its_table(wheel_venv, prepared_cache, tmp_path):
    result = _run([wheel_venv / "bin" / "lm-eval-octopack", "selfcheck"], cwd=tmp_path, env=_env(prepared_cache))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-3000:]
    assert "self-check passed" in result.stdout
    rows = [line for line in result.stdout.splitlines() if "as expected" in line]
    assert len(rows) == 5 * len(LANGUAGES), result.stdout
    assert {lang for lang in LANGUAGES for row in rows if f" {lang} " in row} == set(LANGUAGES)
    # no lm-eval warnings, progress bars or "fatal: not a git repository" (we run outside any repository)
    assert result.stderr.strip() == "", result.stderr[-3000:]


def test_plain_lm_eval_cli_scores_one_task_per_language(wheel_venv, prepared_cache, tmp_path, humanevalpack_dir):
    tasks = [f"humanevalfix-{lang}" for lang in LANGUAGES]
    env = _env(prepared_cache, OCTOPACK_DATA_DIR=str(humanevalpack_dir))
    result = _run(
        selfcheck_argv(wheel_venv / "bin" / "lm_eval", tasks, tmp_path / "out"),
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(next((tmp_path / "out").rglob("results_*.json")).read_text())["results"]
    assert {task: results[task]["pass@1,execution"] for task in tasks} == dict.fromkeys(tasks, 1.0)
