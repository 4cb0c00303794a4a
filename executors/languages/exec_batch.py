"""Many commands through ONE sandbox: the run step of a batch without a sandbox start per program.

Each command still runs in its own process, started by the batch server (``python_forkserver.py``) inside the
sandbox. It gets a fresh working directory holding its files, the run budget, CPU limit and output cap a single
``sandbox.run`` would give it, and afterwards every other process of the sandbox is killed and every writable
place emptied. A bubblewrap start costs about 10-25 ms with the shell that sets the limits; the server's fork
and exec about 2 ms. Results stream to ``on_result`` as each command ends.

Whatever the server did not report (it died, or a command killed it) is left out of the result: callers run
those programs alone, so no verdict is ever inferred from a broken batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..types import Limits
from .base import CommandResult, SandboxRunner
from .batch_server import ServerSpec, serve
from .python import LANGUAGE as PYTHON

REPORT_BYTES_PER_COMMAND = 10_000  # two stream excerpts of 4 KB plus the record


@dataclass(frozen=True)
class Command:
    argv: list[str]
    timeout: float
    files: dict[str, str] = field(default_factory=dict)  # name -> text, written into its working directory


def run_each(
    commands: Sequence[Command],
    *,
    sandbox: SandboxRunner,
    workdir: Path,
    limits: Limits,
    env: dict[str, str] | None = None,
    read_only_paths: Sequence[Path] = (),
    on_result: Callable[[int, CommandResult], None] | None = None,
) -> dict[int, CommandResult]:
    """Run ``commands`` one after another in one sandbox; position -> result for those that finished.

    Each server works in a fresh directory under ``workdir``, emptied after each command: pass what the
    commands need (binaries) as ``read_only_paths``, outside ``workdir``. A server that stops early is replaced
    for the commands after the one it was running; that one, and everything if no server starts, is left out.
    Commands stuck behind a slow one may move to an idle core (``batch_server``)."""
    spec = ServerSpec(
        interpreter=PYTHON.interpreter,
        sandbox=sandbox,
        limits=limits,
        decode=_command_result,
        env=dict(env or {}),
        read_only_paths=[*read_only_paths, *PYTHON.interpreter_paths()],
        preload=False,
        report_bytes_per_job=REPORT_BYTES_PER_COMMAND,
    )
    jobs = [{"argv": c.argv, "files": c.files, "timeout": c.timeout, "cap": limits.max_output_bytes} for c in commands]
    return serve(jobs, spec, workdir, on_result).records


def _command_result(record: dict) -> CommandResult:
    return CommandResult(
        returncode=record["returncode"],
        stdout=record["stdout"],
        stderr=record["stderr"],
        seconds=record["seconds"],
        timed_out=record["timed_out"],
        output_truncated=record["truncated"],
    )
