"""JavaScript (Node.js): ``node test.js`` in the sandbox; a batch shares one sandbox start (``exec_batch``).

Reference rule (bigcode ``code_eval_octopack``): a program passes **only if stdout and stderr are both
empty**; the exit code is ignored, because ``console.assert`` prints "Assertion failed" to stderr and exits
0. One deliberate deviation: a silent death by signal (e.g. the memory limit's OOM kill) is a failure, not
a pass. JS/162 does ``require('js-md5')``: ``prepare`` installs js-md5@0.7.3 once into
``<cache_dir>/js/node_modules`` and execution points ``NODE_PATH`` at it.

A batch's programs are forked from a *zygote* (``js_support/zygote.c`` and ``zygote.js``): one warm node per
batch server, one fresh process per program, ~5 ms instead of node's ~30 ms start. Each program still runs as
the main module of its own process, with its own pid, working directory, streams, CPU limit and Math.random
seed, and the batch server supervises it exactly like an exec'd ``node test.js``. ``prepare`` builds it with the
C compiler and checks that this node can serve it; without a compiler, on a node it cannot serve, or with
``OCTOPACK_JS_ZYGOTE=0``, every program is a fresh ``node test.js``, as a program run alone always is.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import os
import shutil
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path

from ..runtime.compiled import install_prefix
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


ZYGOTE_SOURCES = Path(__file__).with_name("js_support")
ZYGOTE_ENV = "OCTOPACK_JS_ZYGOTE"


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
    batch_size = (
        64  # one batch server and zygote start per batch (measured: 18% less time than 16 on the reference set)
    )

    def __init__(self, node: str | None = None, npm: str | None = None):
        self.node = node or shutil.which("node") or "node"
        self.npm = npm or shutil.which("npm") or "npm"

    def toolchain_roots(self) -> list[Path]:
        return install_prefix(shutil.which(self.node))

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
        """Install js-md5 and build the zygote once (a file lock keeps concurrent preparers from racing)."""
        target = Path(cache_dir) / "js"
        target.mkdir(parents=True, exist_ok=True)
        with open(target / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if installed_js_md5(cache_dir) != JS_MD5_VERSION:
                self._install_js_md5(target)
            build_zygote(self.node, cache_dir)

    def _install_js_md5(self, target: Path) -> None:
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
        if done.returncode != 0 or installed_js_md5(target.parent) != JS_MD5_VERSION:
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
        """Each program is its own process in its own directory, forked from the zygote (or a fresh ``node
        test.js``); they share one sandbox start."""
        modules = node_modules(cache_dir)
        env, mounts = {"NODE_PATH": str(modules)}, [modules] if modules.is_dir() else []
        zygote = zygote_spec(self.node, cache_dir)
        if zygote is not None:
            mounts.append(zygote_dir(self.node, cache_dir))
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
                zygote=zygote,
            )
        # the batch gave no answer for it: alone, as always
        return verdicts.finish_alone(self, programs, workdir, sandbox, cache_dir)


def build_zygote(node: str, cache_dir: Path) -> Path | None:
    """Build the zygote for this node into the cache once and check that it starts: its directory, or None
    (no C compiler, or a node it cannot serve: programs then run as fresh node processes)."""
    directory = zygote_dir(node, cache_dir)
    if (directory / "ready").is_file():
        return directory
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None or _node_version(node) is None:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ZYGOTE_SOURCES / "zygote.js", directory / "zygote.js")
    partial = directory / "zygote.so.partial"
    command = [compiler, "-O2", "-shared", "-fPIC", "-o", str(partial), str(ZYGOTE_SOURCES / "zygote.c"), "-ldl"]
    built = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if built.returncode != 0:
        (directory / "unusable").write_text(f"{' '.join(command)}:\n{built.stderr}", encoding="utf-8")
        return None
    partial.replace(directory / "zygote.so")
    problem = _zygote_start_problem(node, directory)
    if problem:
        (directory / "unusable").write_text(problem, encoding="utf-8")
        return None
    (directory / "ready").write_text("", encoding="utf-8")
    return directory


def zygote_dir(node: str, cache_dir: Path) -> Path:
    """Where the zygote for this node lives: named after its sources and the node version (a new node, a
    new build)."""
    digest = hashlib.sha256(str(_node_version(node)).encode())
    for name in ("zygote.c", "zygote.js"):
        digest.update((ZYGOTE_SOURCES / name).read_bytes())
    return Path(cache_dir) / "js" / f"zygote-{digest.hexdigest()[:16]}"


def zygote_spec(node: str, cache_dir: Path) -> dict | None:
    """The batch server's ``zygote`` for this node (None: fresh node processes), as ``prepare`` left it."""
    if os.environ.get(ZYGOTE_ENV, "1").strip() == "0":
        return None
    directory = zygote_dir(node, cache_dir)
    if not (directory / "ready").is_file():
        return None
    preload = str(directory / "zygote.so")
    return {"argv": [node, str(directory / "zygote.js"), preload, "3"], "preload": preload}


def _zygote_start_problem(node: str, directory: Path) -> str:
    """Start the zygote once and wait for its "ready": "" when it came, else what went wrong."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    preload = str(directory / "zygote.so")
    env = {"PATH": os.environ.get("PATH", ""), "LD_PRELOAD": preload}
    with ours, theirs:
        zygote = subprocess.Popen(
            [node, str(directory / "zygote.js"), preload, str(theirs.fileno())],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            pass_fds=[theirs.fileno()],
            env=env,
        )
        ours.settimeout(30)
        try:
            ready = ours.recv(64)
        except OSError:
            ready = b""
        zygote.kill()
        _, errors = zygote.communicate()
    return "" if ready == b"0" else f"the zygote did not start: {excerpt(errors.decode('utf-8', 'replace'))}"


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


@functools.cache
def _node_version(node: str) -> str | None:
    try:
        done = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


LANGUAGE = JsLanguage()
