"""Helpers shared by the compiled-language modules (java, go, cpp, rust).

Only tool discovery, environment building and result-to-verdict mapping live here; every process that touches a
program still goes through the ``SandboxRunner`` the module is handed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from ..types import Program, Verdict, excerpt
from .exec_batch import Command, run_alone
from .language import CommandResult, SandboxRunner

BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def find_tool(name: str, extra_dirs: Sequence[str] = ()) -> str | None:
    """Absolute path of a tool: PATH first, then well-known install dirs (e.g. /usr/local/go/bin, ~/.cargo/bin)."""
    found = shutil.which(name)
    if found:
        return found
    for directory in extra_dirs:
        candidate = Path(os.path.expanduser(directory)) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def tool_output(argv: Sequence[str], timeout: float = 30.0) -> str:
    """First non-empty line of a trusted tool's version output ('' when it cannot run)."""
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return ""
    lines = [line.strip() for line in (done.stdout + "\n" + done.stderr).splitlines() if line.strip()]
    return lines[0] if lines else ""


def install_prefix(tool: str | None) -> list[Path]:
    """``<prefix>/bin/tool`` -> ``[<prefix>]``, following links (``/usr/bin/java`` -> the JDK); [] without a tool."""
    return [Path(tool).resolve().parent.parent] if tool else []


def reported_path(argv: Sequence[str]) -> list[Path]:
    """The directory a trusted tool prints (``go env GOROOT``, ``rustc --print sysroot``), if it prints one."""
    line = tool_output(argv)
    return [Path(line).resolve()] if line.startswith("/") else []


def sandbox_env(workdir: Path, path_dirs: Sequence[str] = (), **extra: str) -> dict[str, str]:
    """A small explicit environment: nothing inherited from the caller except what a toolchain needs."""
    path = ":".join([*path_dirs, BASE_PATH])
    env = {"PATH": path, "HOME": str(workdir), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    env.update(extra)
    return env


def existing(paths: Sequence[Path]) -> list[Path]:
    """Read-only mounts must exist. Pass language subdirs of the cache, never the cache root: per-program
    workdirs may live under it and must stay writable."""
    return [path for path in paths if path.exists()]


def command_log(result: CommandResult) -> str:
    return excerpt((result.stderr or "") + ("\n" if result.stderr and result.stdout else "") + (result.stdout or ""))


def compile_failure(result: CommandResult, tool: str) -> Verdict:
    if result.timed_out:
        return Verdict("timeout", f"{tool}: compile timed out after {result.seconds:.1f}s", result.seconds)
    return Verdict("compile_error", command_log(result), result.seconds)


def run_verdict(result: CommandResult, compile_seconds: float = 0.0) -> Verdict:
    """Pass = the test program exited 0 (the reference rule for java, go, cpp and rust)."""
    seconds = compile_seconds + result.seconds
    if result.timed_out:
        return Verdict("timeout", f"run timed out after {result.seconds:.1f}s", seconds)
    if result.returncode == 0:
        return Verdict("passed", "", seconds)
    return Verdict("failed", f"exit code {result.returncode}\n{command_log(result)}", seconds)


def build_then_run(
    program: Program,
    workdir: Path,
    sandbox: SandboxRunner,
    tool: str,
    build_argv: Sequence[str],
    run_argv: Sequence[str],
    env: dict[str, str],
    read_only_paths: Sequence[Path] = (),
    run_files: dict[str, str] | None = None,
) -> Verdict:
    """Compile within the compile budget, then run the test binary within the run budget.

    The run goes through ``exec_batch.run_alone`` (``run_argv[0]`` is the binary, relative to ``workdir``;
    ``run_files`` are written into the run's own directory): it ends at end of output, as a batched run does."""
    limits = program.limits
    built = sandbox.run(
        build_argv,
        workdir=workdir,
        timeout=limits.compile_timeout,
        limits=limits,
        env=env,
        read_only_paths=read_only_paths,
    )
    if built.timed_out or built.returncode != 0:
        return compile_failure(built, tool)
    command = Command([str(workdir / run_argv[0]), *run_argv[1:]], limits.run_timeout, dict(run_files or {}))
    ran = run_alone(command, sandbox=sandbox, workdir=workdir, limits=limits, env=env, read_only_paths=[workdir])
    return run_verdict(ran, built.seconds)
