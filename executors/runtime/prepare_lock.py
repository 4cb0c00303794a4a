"""One ``prepare`` at a time per cache: concurrent first-time setups of one cache (two ``setup`` commands,
parallel test runs) wait for each other instead of writing the same files at once."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock_file`` (created if needed); released on exit, or when the process dies."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def private_name(path: Path) -> Path:
    """A temporary sibling of ``path`` no other process uses: build there, then ``replace`` into place."""
    return path.with_name(f"{path.name}.{os.getpid()}.tmp")
