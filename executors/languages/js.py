"""JavaScript (Node.js): ``node test.js`` in the sandbox; a batch shares one sandbox start (``exec_batch``).

Reference rule (bigcode ``code_eval_octopack``): a program passes **only if stdout and stderr are both
empty**; the exit code is ignored, because ``console.assert`` prints "Assertion failed" to stderr and exits
0. One deliberate deviation: a silent death by signal (e.g. the memory limit's OOM kill) is a failure, not
a pass. JS/162 does ``require('js-md5')``: ``prepare`` installs js-md5@0.7.3 once into
``<cache_dir>/js/node_modules`` and execution points ``NODE_PATH`` at it.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from ..runtime.exec_batch import Command, run_alone, run_each
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

JS_MD5_VERSION = "0.7.3"
MIN_NODE_MAJOR = 16  # the tests use Array.prototype.at and friends
INSTALL_HINT = (
    "Install Node.js >= 16 and npm (`apt-get install nodejs npm`, or executors/install_toolchains.sh), then run "
    "`lm-eval-octopack setup js` to install js-md5@0.7.3 into the cache."
)


def node_modules(cache_dir: Path) -> Path:
    return Path(cache_dir) / "js" / "node_modules"


def installed_js_md5(cache_dir: Path) -> str | None:
    manifest = node_modules(cache_dir) / "js-md5" / "package.json"
    try:
        return json.loads(manifest.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


class JsLanguage(Language):
    name = "js"
    batch_size = 16

    def __init__(self, node: str | None = None, npm: str | None = None):
        self.node = node or shutil.which("node") or "node"
        self.npm = npm or shutil.which("npm") or "npm"

    def check(self, cache_dir: Path) -> ToolReport:
        report = ToolReport(language=self.name, ok=False, how_to_install=INSTALL_HINT)
        version = _node_version(self.node)
        if version is None:
            report.missing.append("node")
        elif int(version.lstrip("v").split(".")[0]) < MIN_NODE_MAJOR:
            report.missing.append(f"node >= {MIN_NODE_MAJOR} (found {version})")
        else:
            report.found["node"] = version
        md5 = installed_js_md5(cache_dir)
        if md5 == JS_MD5_VERSION:
            report.found["js-md5"] = f"{md5} ({node_modules(cache_dir)})"
        else:
            report.missing.append(f"js-md5@{JS_MD5_VERSION} in {node_modules(cache_dir)} (installed by prepare)")
            if shutil.which(self.npm) is None:
                report.missing.append("npm (needed once to install js-md5)")
        report.ok = not report.missing
        return report

    def prepare(self, cache_dir: Path) -> None:
        """Install js-md5 once (a file lock keeps concurrent preparers from racing)."""
        target = Path(cache_dir) / "js"
        target.mkdir(parents=True, exist_ok=True)
        with open(target / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if installed_js_md5(cache_dir) == JS_MD5_VERSION:
                return
            command = [
                self.npm,
                "install",
                "--prefix",
                str(target),
                "--no-audit",
                "--no-fund",
                "--no-save",
                "--no-package-lock",
                f"js-md5@{JS_MD5_VERSION}",
            ]
            done = subprocess.run(command, capture_output=True, text=True, timeout=600)
            if done.returncode != 0 or installed_js_md5(cache_dir) != JS_MD5_VERSION:
                raise RuntimeError(f"npm could not install js-md5@{JS_MD5_VERSION}: {excerpt(done.stderr)}")

    def execute(self, program: Program, workdir: Path, sandbox: SandboxRunner, cache_dir: Path) -> Verdict:
        modules = node_modules(cache_dir)
        command = Command([self.node, "test.js"], program.limits.run_timeout, {"test.js": program.source})
        result = run_alone(
            command,
            sandbox=sandbox,
            workdir=workdir,
            limits=program.limits,
            env={"NODE_PATH": str(modules)},
            read_only_paths=[modules] if modules.is_dir() else [],
        )
        return js_verdict(result, program.limits.run_timeout)

    def execute_batch(
        self,
        programs: Sequence[Program],
        workdir: Path,
        sandbox: SandboxRunner,
        cache_dir: Path,
        on_verdict: OnVerdict | None = None,
    ) -> list[Verdict]:
        """Each program is still a fresh ``node test.js`` in its own directory; they share one sandbox start."""
        modules = node_modules(cache_dir)
        env, mounts = {"NODE_PATH": str(modules)}, [modules] if modules.is_dir() else []
        verdicts = BatchVerdicts(on_verdict)
        for group, (limits, positions) in enumerate(group_by_limits(programs).items()):

            def report(k: int, result: CommandResult, positions=positions, timeout=limits.run_timeout) -> None:
                verdicts.decide(positions[k], js_verdict(result, timeout))

            commands = [
                Command([self.node, "test.js"], limits.run_timeout, {"test.js": programs[i].source}) for i in positions
            ]
            group_dir = workdir / f"group{group}"
            group_dir.mkdir()
            run_each(
                commands,
                sandbox=sandbox,
                workdir=group_dir,
                limits=limits,
                env=env,
                read_only_paths=mounts,
                on_result=report,
            )
        # the batch gave no answer for it: alone, as always
        return verdicts.finish_alone(self, programs, workdir, sandbox, cache_dir)


def js_verdict(result: CommandResult, run_timeout: float) -> Verdict:
    if result.timed_out:
        return Verdict("timeout", f"timed out after {run_timeout:g} s", result.seconds)
    if result.stdout or result.stderr or result.output_truncated:
        return Verdict("failed", excerpt(result.stderr + result.stdout), result.seconds)
    if _killed_by_signal(result.returncode):  # e.g. the memory limit's OOM kill: silent, but not a pass
        return Verdict("failed", f"node was killed (exit status {result.returncode})", result.seconds)
    return Verdict("passed", "", result.seconds)


def _killed_by_signal(returncode: int | None) -> bool:
    # bubblewrap reports a child killed by signal N as 128+N, a plain process group as -N.
    return returncode is not None and (returncode < 0 or returncode > 128)


def _node_version(node: str) -> str | None:
    try:
        done = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


LANGUAGE = JsLanguage()
