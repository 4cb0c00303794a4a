"""``lm-eval-octopack doctor``: exit status, the tasks a missing toolchain blocks, and install hints
that name commands our CLI accepts."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lm_eval_octopack.executors import doctor

from lm_eval_octopack import doctor as doctor_cli


def _doctor(args: list[str], path: str, cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": path, "OCTOPACK_CACHE_DIR": str(cache)}
    return subprocess.run(
        [sys.executable, "-m", "lm_eval_octopack.cli", "doctor", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def _path_with_only(tmp_path: Path, *tools: str) -> str:
    """A PATH holding just these tools (the sandbox needs bwrap), so that everything else is missing."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in tools:
        found = shutil.which(tool)
        if found is None:
            pytest.skip(f"{tool} is not installed")
        (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


def test_doctor_fails_and_names_the_blocked_tasks_when_node_is_missing(tmp_path):
    result = _doctor(["js"], _path_with_only(tmp_path, "bwrap"), tmp_path / "cache")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "js       MISSING" in result.stdout
    assert "missing  node" in result.stdout
    blocked = result.stdout.split("These tasks cannot run until the missing parts are installed:")[1]
    assert "js       lacks node" in blocked
    for task in ("humanevalfix-js", "humanevalfixtests-js", "humanevalsynthesize-js", "humanevalpack"):
        assert task in blocked
    assert "humanevalexplaindescribe-js" not in blocked  # describe executes nothing
    assert "python" not in blocked


def test_doctor_exits_zero_when_everything_asked_for_is_there(tmp_path):
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    result = _doctor(["python"], os.environ["PATH"], tmp_path / "cache")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "python   OK" in result.stdout and "cannot run" not in result.stdout


def test_every_install_hint_names_a_command_our_cli_accepts(tmp_path):
    hints = [report.how_to_install for report in doctor(cache_dir=tmp_path) if report.how_to_install]
    commands = [shlex.split(command) for hint in hints for command in re.findall(r"`(lm-eval-octopack [^`]*)`", hint)]
    assert ["lm-eval-octopack", "setup", "js"] in commands  # the empty cache lacks js-md5
    for _, subcommand, *argv in commands:
        assert subcommand in doctor_cli.DESCRIPTIONS
        assert doctor_cli.parse_languages(subcommand, argv)  # argparse exits on anything it rejects
