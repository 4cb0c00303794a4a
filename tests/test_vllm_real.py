"""octopack-vllm against the real vLLM classes on a CPU machine (issue 14 item 7), in a virtualenv of its own.

vLLM pins a torch other than ours, so it is not installed into the project's environment. This test
builds a virtualenv over it instead: the vLLM wheel (``VLLM_VERSION``, the newest our ``[vllm]`` extra
allows) installed with ``--no-deps``, plus the few pure-Python packages importing vLLM's
``SamplingParams``, ``TokensPrompt``, ``RequestOutput``, ``get_tokenizer`` and
``resolve_chat_template`` needs (``EXTRA_PACKAGES``, found by trying); everything else, torch
included, comes from the project's environment through a ``.pth`` file. No vLLM kernel is loaded:
the engine (``LLM``) is faked, the rest is real (see ``octopack_vllm_real_cases.py``). vLLM's own
``vllm.LLM`` is never imported: its engine modules need compiled extras (xgrammar, tvm-ffi, ...).

Wheels and the virtualenv are kept under the octopack cache dir (``vllm-real/``, about 1.3 GB), so
only the first run downloads (the vLLM wheel is 336 MB). Skips only when the package registry cannot
be reached. Where ``vllm`` is already importable the cases run in this interpreter.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import REPO_ROOT
from lm_eval_octopack.executors.store import default_cache_dir

pytestmark = pytest.mark.slow

VLLM_VERSION = "0.33.0"
EXTRA_PACKAGES = [  # pinned to the versions the cases were first checked with: a new release cannot break CI
    "msgspec==0.23.0",
    "cbor2==6.3.0",
    "pyzmq==27.3.0",
    "openai==3.57.0",
    "openai-harmony==0.0.8",
    "sniffio==1.3.1",
    "pybase64==1.5.1",
    "cachetools==8.0.2",
    "uvloop==0.23.0",
    "py-cpuinfo==9.0.0",
    "prometheus_client==0.26.0",
]
CASES = REPO_ROOT / "tests" / "octopack_vllm_real_cases.py"
UNREACHABLE = re.compile(
    r"NewConnectionError|Max retries exceeded|Temporary failure in name resolution|Network is unreachable"
    r"|Connection refused|ConnectTimeout|ReadTimeout|ProxyError|Could not fetch URL|No matching distribution"
)


def pip(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, timeout=timeout)


def install(venv_python: Path, wheels: Path) -> subprocess.CompletedProcess:
    return pip(
        "--python",
        str(venv_python),
        "install",
        "-q",
        "--no-deps",
        "--no-index",
        "--find-links",
        str(wheels),
        f"vllm=={VLLM_VERSION}",
        *EXTRA_PACKAGES,
    )


def download(wheels: Path) -> None:
    result = pip(
        "download",
        "-q",
        "--no-deps",
        "--only-binary=:all:",
        "-d",
        str(wheels),
        f"vllm=={VLLM_VERSION}",
        *EXTRA_PACKAGES,
    )
    if result.returncode != 0:
        output = result.stdout + result.stderr
        if UNREACHABLE.search(output):
            pytest.skip(f"package registry unreachable, cannot download vllm=={VLLM_VERSION}: {output[-400:]}")
        pytest.fail(f"pip download failed:\n{output[-2000:]}")


def build_venv(root: Path) -> Path:
    """A virtualenv with vLLM over the project's environment; rebuilt when its stamp does not match."""
    venv, wheels, stamp = root / "venv", root / "wheels", root / "venv.stamp"
    base_site = sysconfig.get_paths()["purelib"]
    identity = f"vllm=={VLLM_VERSION} {' '.join(EXTRA_PACKAGES)} over {base_site}"
    python = venv / "bin" / "python"
    if stamp.exists() and stamp.read_text() == identity and python.exists():
        return python
    stamp.unlink(missing_ok=True)
    subprocess.run(["rm", "-rf", str(venv)], check=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    venv_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # addsitedir (not a bare path) so the project's own .pth files, the editable install's included, apply
    Path(venv_site, "_octopack_project_env.pth").write_text(f"import site; site.addsitedir({base_site!r})\n")
    if install(python, wheels).returncode != 0:  # wheels not cached yet (or incomplete)
        download(wheels)
        result = install(python, wheels)
        assert result.returncode == 0, result.stdout + result.stderr
    stamp.write_text(identity)
    return python


@pytest.fixture(scope="module")
def vllm_python() -> Path:
    """An interpreter that imports vLLM: this one if it does, else the cached virtualenv (built once)."""
    if importlib.util.find_spec("vllm") is not None:
        return Path(sys.executable)
    root = default_cache_dir() / "vllm-real"
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time; a second waiter reuses it
        return build_venv(root)


def test_octopack_vllm_on_the_real_vllm_classes(vllm_python):
    env = {**os.environ, "PYTHONNOUSERSITE": "1"}
    result = subprocess.run(
        [str(vllm_python), "-m", "pytest", "-q", "-p", "no:cacheprovider", str(CASES)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    summary = output.strip().splitlines()[-1]
    cases = CASES.read_text().count("\ndef test_")
    assert re.search(rf"\b{cases} passed\b", summary) and "skipped" not in summary, summary
