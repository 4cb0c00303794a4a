"""Python: programs run in a fork-server inside the sandbox, the way the reference runs them.

Reference rule (bigcode ``code_eval_octopack``): a forked child of a parent that already imported numpy
``exec``s the program with empty globals, under ``reliability_guard`` (os/shutil/subprocess functions
disabled), with its output swallowed, and passes if no ``BaseException`` escapes within the run timeout
(10 s). ``python_forkserver.py`` reproduces exactly that for a whole batch of programs in one sandbox:
one interpreter start and one numpy import per batch instead of per program (~110 ms saved each), and each
program still in its own process, killed with everything it started before the next one runs.

So ``__name__`` is not ``"__main__"`` (``if __name__ == "__main__":`` blocks do not run), ``SystemExit``
(even ``exit(0)``) fails, and a program that calls e.g. ``os.getcwd()`` or ``subprocess.Popen`` fails,
all as in the reference. The interpreter is the one running the harness (``sys.executable``;
``$OCTOPACK_PYTHON`` overrides it); it must import numpy because the HumanEvalPack import helper does.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import ExecutionInfrastructureError
from ..types import Limits, Program, Verdict, excerpt
from .base import BatchVerdicts, OnVerdict, SandboxRunner, ToolReport, group_by_limits

SERVER = Path(__file__).with_name("python_forkserver.py")
SERVER_START_BUDGET = 30.0  # interpreter start + helper imports, generous for loaded machines
REPORT_BYTES_PER_PROGRAM = 2048
INSTALL_HINT = (
    "Python needs numpy importable by the interpreter that executes programs: `pip install numpy` "
    "(or point $OCTOPACK_PYTHON at an interpreter that has it)."
)


class PythonLanguage:
    name = "python"
    batch_size = 64  # one server start and numpy import (~0.15 s) per batch; verdicts stream out as they come

    def __init__(self, interpreter: str | None = None):
        self.interpreter = interpreter or os.environ.get("OCTOPACK_PYTHON") or sys.executable

    def interpreter_paths(self) -> list[Path]:
        """The interpreter's installation, re-exposed inside the sandbox: a virtualenv under /tmp
        would otherwise be hidden by the sandbox's private /tmp."""
        if self.interpreter == sys.executable:
            prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix}
        else:
            prefixes = {str(Path(self.interpreter).parent.parent), str(Path(self.interpreter).resolve().parent.parent)}
        return sorted(Path(p) for p in prefixes if Path(p).is_relative_to("/tmp"))

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
        """One fork-server per group of programs sharing limits; a server that dies is replaced by a fresh
        one for the programs it did not report, and the program it was running is charged with its death."""
        verdicts = BatchVerdicts(on_verdict)
        for limits, indices in group_by_limits(programs).items():
            remaining = indices
            while remaining:
                batch = remaining
                self._serve(
                    [programs[i] for i in batch],
                    limits,
                    workdir,
                    sandbox,
                    lambda k, v, batch=batch: verdicts.decide(batch[k], v),
                )
                remaining = [i for i in batch if i not in verdicts.known]
        return [verdicts.known[i] for i in range(len(programs))]

    def _serve(
        self, programs: Sequence[Program], limits: Limits, workdir: Path, sandbox: SandboxRunner, report: OnVerdict
    ) -> None:
        """Run one server over `programs`, reporting verdicts by position as they arrive. If the server ends
        early, the program it was running gets the blame; if it ran none, that is the harness's problem."""
        isolated = bool(getattr(sandbox, "sandboxed", False))  # only then are /tmp and the pid namespace private
        manifest = {
            "programs": [
                {
                    "source": p.source,
                    "timeout": p.limits.run_timeout,
                    "cpu_seconds": math.ceil(p.limits.run_timeout) + 1,
                }
                for p in programs
            ],
            "scratch": ["/tmp", "/dev/shm", str(workdir)] if isolated else [str(workdir)],
            "isolated": isolated,
        }
        (workdir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        reports = ServerReports(report)
        result = sandbox.run(
            [self.interpreter, "-c", server_source(), "manifest.json"],
            workdir=workdir,
            timeout=SERVER_START_BUDGET + sum(p.limits.run_timeout + 2 for p in programs),
            limits=dataclasses.replace(
                limits, max_output_bytes=max(limits.max_output_bytes, REPORT_BYTES_PER_PROGRAM * len(programs))
            ),
            env={"PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"},
            read_only_paths=self.interpreter_paths(),
            on_stdout=reports.feed,
        )
        reports.feed(b"\n")  # a last line without its newline
        if len(reports.done) == len(programs):
            return
        if reports.started is None or reports.started in reports.done:
            raise ExecutionInfrastructureError(
                f"the Python test server stopped before running a program (exit {result.returncode}): "
                + excerpt(result.stderr or result.stdout)
            )
        if result.timed_out:
            report(reports.started, Verdict("timeout", "the program stopped the test server", result.seconds))
        else:
            report(
                reports.started, Verdict("failed", "the test server died while running this program", result.seconds)
            )


@functools.cache
def server_source() -> str:
    return SERVER.read_text(encoding="utf-8")


def verdict_from_record(record: dict) -> Verdict:
    return Verdict(record["status"], record["detail"], record["seconds"])


class ServerReports:
    """Parses the server's JSON lines as they stream in: each job's result goes to `report` at once."""

    def __init__(self, report: Callable[[int, Any], None], decode: Callable[[dict], Any] = verdict_from_record):
        self.report, self.decode = report, decode
        self.buffer = b""
        self.started: int | None = None
        self.done: set[int] = set()

    def feed(self, chunk: bytes) -> None:
        *lines, self.buffer = (self.buffer + chunk).split(b"\n")
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # an empty or truncated line
            if "start" in record:
                self.started = record["start"]
            elif "index" in record and record["index"] not in self.done:
                self.done.add(record["index"])
                self.report(record["index"], self.decode(record))


LANGUAGE = PythonLanguage()
