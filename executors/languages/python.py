"""Python: each program runs in a fresh interpreter process inside the sandbox.

Reference rule (bigcode ``code_eval_octopack``): the program is ``exec``'d with empty globals and passes
if no ``BaseException`` escapes within the run timeout (10 s). A tiny driver reproduces exactly that in a
fresh process: ``__name__`` is not ``"__main__"`` (so ``if __name__ == "__main__":`` blocks do not run, as
in the reference) and ``SystemExit`` (even ``exit(0)``) counts as a failure. The interpreter is the one
running the harness (``sys.executable``; ``$OCTOPACK_PYTHON`` overrides it); it must import numpy because
the HumanEvalPack import helper does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ..types import Program, Verdict, excerpt
from .base import SandboxRunner, ToolReport

DRIVER = """\
import sys
path = sys.argv[1]
with open(path, encoding="utf-8") as f:
    code = compile(f.read(), path, "exec")
try:
    exec(code, {})
except BaseException:
    import traceback
    traceback.print_exc()
    sys.stderr.flush()
    sys.exit(1)
"""
INSTALL_HINT = (
    "Python needs numpy importable by the interpreter that executes programs: `pip install numpy` "
    "(or point $OCTOPACK_PYTHON at an interpreter that has it)."
)


class PythonLanguage:
    name = "python"

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
        (workdir / "program.py").write_text(program.source, encoding="utf-8")
        result = sandbox.run(
            [self.interpreter, "-c", DRIVER, "program.py"],
            workdir=workdir,
            timeout=program.limits.run_timeout,
            limits=program.limits,
            env={"PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"},
            read_only_paths=self.interpreter_paths(),
        )
        if result.timed_out:
            return Verdict("timeout", f"timed out after {program.limits.run_timeout:g} s", result.seconds)
        if result.returncode == 0:
            return Verdict("passed", "", result.seconds)
        return Verdict("failed", excerpt(result.stderr or result.stdout), result.seconds)


LANGUAGE = PythonLanguage()
