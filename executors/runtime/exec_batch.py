"""Many commands through ONE sandbox: the run step of a batch without a sandbox start per program.

Each command still runs in its own process, started by the batch server (``forkserver.py``) inside the
sandbox. It gets a fresh working directory holding its files, the run budget, CPU limit and output cap a single
``sandbox.run`` would give it, and afterwards every other process of the sandbox is killed and every writable
place emptied. A bubblewrap start costs about 10-25 ms with the shell that sets the limits; the server's fork
and exec about 2 ms. Results stream to ``on_result`` as each command ends.

Whatever the server did not report (it died) is left out of the result: callers run those programs alone, so
no verdict is ever inferred from a broken batch.

A command's end is the end of its output, as for the reference's ``subprocess.run(capture_output=True,
timeout=...)``: a child it leaves holding standard output or error keeps it running until the deadline
(a timeout). A plain ``sandbox.run`` cannot see that (bubblewrap's pid namespace dies with the command,
killing such a child at once), so ``run_alone`` gives a single command the same server: alone and batched
agree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..languages.python import LANGUAGE as PYTHON
from ..types import Limits
from .batch_server import ServerSpec, serve
from .language import CommandResult, SandboxRunner

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
    zygote: dict | None = None,
) -> dict[int, CommandResult]:
    """Run ``commands`` one after another in one sandbox; position -> result for those that finished.

    Each server works in a fresh directory under ``workdir``, emptied after each command: pass what the
    commands need (binaries) as ``read_only_paths``, outside ``workdir``. A server that stops early is replaced
    for the commands after the one it was running; that one, and everything if no server starts, is left out.
    Commands stuck behind a slow one may move to an idle core (``batch_server``). ``zygote`` (``{"argv",
    "preload"}``, see ``forkserver.Zygote``): a warm process forks each command instead of a fork and exec."""
    spec = ServerSpec(
        interpreter=PYTHON.interpreter,
        sandbox=sandbox,
        limits=limits,
        decode=_command_result,
        env=dict(env or {}),
        read_only_paths=[*read_only_paths, *PYTHON.interpreter_paths()],
        preload=False,
        report_bytes_per_job=REPORT_BYTES_PER_COMMAND,
        zygote=zygote,
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


def run_alone(
    command: Command,
    *,
    sandbox: SandboxRunner,
    workdir: Path,
    limits: Limits,
    env: dict[str, str] | None = None,
    read_only_paths: Sequence[Path] = (),
) -> CommandResult:
    """One command exactly as ``run_each`` runs it (see the module docstring); if the server could not report
    it, a plain ``sandbox.run`` in ``workdir``."""
    server_dir = workdir / "alone"
    server_dir.mkdir()
    results = run_each(
        [command], sandbox=sandbox, workdir=server_dir, limits=limits, env=env, read_only_paths=read_only_paths
    )
    if 0 in results:
        return results[0]
    for name, text in command.files.items():
        (workdir / name).write_text(text, encoding="utf-8")
    return sandbox.run(
        command.argv, workdir=workdir, timeout=command.timeout, limits=limits, env=env, read_only_paths=read_only_paths
    )
