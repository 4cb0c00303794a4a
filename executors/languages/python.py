"""Python: programs run in a fork-server inside the sandbox, the way the reference runs them.

Reference rule (bigcode ``code_eval_octopack``): a forked child of a parent that already imported numpy
``exec``s the program with empty globals, under ``reliability_guard`` (os/shutil/subprocess functions
disabled), with its output swallowed, and passes if no ``BaseException`` escapes within the run timeout
(10 s). ``forkserver.py`` reproduces exactly that for a whole batch of programs in one sandbox:
one interpreter start and one numpy import per batch instead of per program (~110 ms saved each), and each
program still in its own process, killed with everything it started before the next one runs.

So ``__name__`` is not ``"__main__"`` (``if __name__ == "__main__":`` blocks do not run), ``SystemExit``
(even ``exit(0)``) fails, and a program that calls e.g. ``os.getcwd()`` or ``subprocess.Popen`` fails,
all as in the reference. The interpreter is the one running the harness (``sys.executable``;
``$OCTOPACK_PYTHON`` overrides it); it must import numpy because the HumanEvalPack import helper does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from ..errors import ExecutionInfrastructureError
from ..runtime.batch_server import ServerSpec, serve
from ..runtime.language import (
    BatchVerdicts,
    CommandResult,
    Language,
    OnVerdict,
    SandboxRunner,
    ToolReport,
    group_by_limits,
)
from ..types import Program, Verdict, excerpt

INSTALL_HINT = (
    "Python needs numpy importable by the interpreter that executes programs: `pip install numpy` "
    "(or point $OCTOPACK_PYTHON at an interpreter that has it)."
)


class PythonLanguage(Language):
    name = "python"
    batch_size = 64  # one server start and numpy import (~0.15 s) per batch; verdicts stream out as they come

    def __init__(self, interpreter: str | None = None):
        # Lexically normalised: a path through `..` names directories the sandbox does not show.
        self.interpreter = os.path.abspath(interpreter or os.environ.get("OCTOPACK_PYTHON") or sys.executable)

    def interpreter_paths(self) -> list[Path]:
        """The interpreter's installation, re-exposed inside the sandbox: a virtualenv under /tmp
        would otherwise be hidden by the sandbox's private /tmp."""
        if self.interpreter == os.path.abspath(sys.executable):
            prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix}
        else:
            prefixes = {str(Path(self.interpreter).parent.parent), str(Path(self.interpreter).resolve().parent.parent)}
        return sorted(Path(p) for p in prefixes if Path(p).is_relative_to("/tmp"))

    def toolchain_roots(self) -> list[Path]:
        """The interpreter's prefixes: a virtualenv and the Python it was made from."""
        from ..runtime.compiled import tool_output  # compiled imports exec_batch, which imports this module

        if self.interpreter == os.path.abspath(sys.executable):
            prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
        else:
            probe = "import sys; print(sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)"
            prefixes = set(tool_output([self.interpreter, "-c", probe]).split())
        return [Path(prefix).resolve() for prefix in prefixes if prefix]

    def check(self, cache_dir: Path) -> ToolReport:
        report = ToolReport(language=self.name, ok=False, how_to_install=INSTALL_HINT)
        probe = "import sys, numpy; print(sys.version.split()[0], numpy.__version__)"
        try:
            done = subprocess.run([self.interpreter, "-c", probe], capture_output=True, text=True, timeout=60)
        except OSError as e:
            report.missing.append(f"python interpreter {self.interpreter} ({e.strerror})")
            return report
        if done.returncode != 0:
            report.missing.append(f"numpy for {self.interpreter}")
            return report
        python_version, numpy_version = done.stdout.split()
        report.found = {"python": f"{python_version} ({self.interpreter})", "numpy": numpy_version}
        report.ok = True
        return report

    def prepare(self, cache_dir: Path) -> None:
        """Nothing to install: the interpreter and numpy come with the harness environment."""

    def execute(self, program: Program, workdir: Path, sandbox: SandboxRunner, cache_dir: Path) -> Verdict:
        return self.execute_batch([program], workdir, sandbox, cache_dir)[0]

    def execute_batch(
        self,
        programs: Sequence[Program],
        workdir: Path,
        sandbox: SandboxRunner,
        cache_dir: Path,
        on_verdict: OnVerdict | None = None,
    ) -> list[Verdict]:
        """One fork-server per group of programs sharing limits (``batch_server``). A program the server died
        running is charged with its death; a server that cannot run programs at all is a harness error."""
        verdicts = BatchVerdicts(on_verdict)
        for limits, positions in group_by_limits(programs).items():
            spec = ServerSpec(
                interpreter=self.interpreter,
                sandbox=sandbox,
                limits=limits,
                decode=verdict_from_record,
                env={"PYTHONHASHSEED": "0"},
                read_only_paths=self.interpreter_paths(),
                jobs_in_tmp=True,
            )
            jobs = [_job(programs[i]) for i in positions]
            served = serve(jobs, spec, workdir, lambda k, v, at=positions: verdicts.decide(at[k], v), _blame)
            if len(served.records) < len(jobs):
                stalled = served.stalled
                raise ExecutionInfrastructureError(
                    "the Python test server stopped before running a program"
                    + (f" (exit {stalled.returncode}): {excerpt(stalled.stderr or stalled.stdout)}" if stalled else "")
                )
        return [verdicts.known[i] for i in range(len(programs))]


def _job(program: Program) -> dict:
    return {"source": program.source, "timeout": program.limits.run_timeout}


def _blame(position: int, server: CommandResult) -> Verdict:
    """The verdict of the program a server died running."""
    if server.timed_out:
        return Verdict("timeout", "the program stopped the test server", server.seconds)
    return Verdict("failed", "the test server died while running this program", server.seconds)


def verdict_from_record(record: dict) -> Verdict:
    return Verdict(record["status"], record["detail"], record["seconds"])


LANGUAGE = PythonLanguage()
