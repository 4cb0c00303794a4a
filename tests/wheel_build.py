"""Build the package once per test session, as a user's installer would: sdist first, then the
wheel from the unpacked sdist (so nothing stale in ``build/`` can leak in, and the sdist is
proven complete). ``OCTOPACK_WHEEL=/path/to.whl`` reuses a wheel built before."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
WHEEL_ENV = "OCTOPACK_WHEEL"


@functools.cache
def built_wheel() -> Path:
    existing = os.environ.get(WHEEL_ENV)
    if existing:
        return Path(existing)
    out = Path(tempfile.mkdtemp(prefix="octopack-wheel-"))
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    built = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(REPO_ROOT)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if built.returncode != 0:
        raise RuntimeError(f"building the wheel failed:\n{built.stdout[-2000:]}\n{built.stderr[-3000:]}")
    return next(out.glob("lm_eval_octopack-*.whl"))
