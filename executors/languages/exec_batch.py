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

import dataclasses
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..types import Limits
from .base import CommandResult, SandboxRunner
from .python import LANGUAGE as PYTHON
from .python import SERVER_START_BUDGET, ServerReports, server_source

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
    for the commands after the one it was running; that one, and everything if no server starts, is left out."""
    results: dict[int, CommandResult] = {}

    def record(position: int, result: CommandResult) -> None:
        results[position] = result
        if on_result is not None:
            on_result(position, result)

    remaining, attempt = list(range(len(commands))), 0
    while remaining:
        server_dir = workdir / f"server{attempt}"  # a fresh one: a server that died left its debris behind
        server_dir.mkdir()
        started = _serve([commands[i] for i in remaining], sandbox, server_dir, limits, env, read_only_paths,
                         lambda k, result, batch=remaining: record(batch[k], result))  # fmt: skip
        if started is None:
            break
        remaining, attempt = [i for i in remaining[started + 1 :] if i not in results], attempt + 1
    return results


def _serve(
    commands: Sequence[Command],
    sandbox: SandboxRunner,
    workdir: Path,
    limits: Limits,
    env: dict[str, str] | None,
    read_only_paths: Sequence[Path],
    report: Callable[[int, CommandResult], None],
) -> int | None:
    """One server over ``commands``; returns the position it was running when it stopped early (None if it
    finished them all or never started one)."""
    isolated = bool(getattr(sandbox, "sandboxed", False))
    manifest = {
        "programs": [
            {"argv": c.argv, "files": c.files, "timeout": c.timeout, "cpu_seconds": math.ceil(c.timeout) + 1,
             "cap": limits.max_output_bytes}
            for c in commands
        ],
        "scratch": [str(workdir), "/tmp", "/dev/shm"] if isolated else [str(workdir)],
        "isolated": isolated,
        "preload": False,
    }  # fmt: skip
    (workdir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    reports = ServerReports(report, decode=_command_result)
    sandbox.run(
        [PYTHON.interpreter, "-c", server_source(), "manifest.json"],
        workdir=workdir,
        timeout=SERVER_START_BUDGET + sum(c.timeout + 2 for c in commands),
        limits=dataclasses.replace(limits, max_output_bytes=REPORT_BYTES_PER_COMMAND * len(commands)),
        env={**(env or {}), "PYTHONDONTWRITEBYTECODE": "1"},
        read_only_paths=[*read_only_paths, *PYTHON.interpreter_paths()],
        on_stdout=reports.feed,
    )
    reports.feed(b"\n")
    if len(reports.done) == len(commands) or reports.started is None or reports.started in reports.done:
        return None
    return reports.started


def _command_result(record: dict) -> CommandResult:
    return CommandResult(
        returncode=record["returncode"],
        stdout=record["stdout"],
        stderr=record["stderr"],
        seconds=record["seconds"],
        timed_out=record["timed_out"],
        output_truncated=record["truncated"],
    )
