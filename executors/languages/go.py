"""Go: the reference runs ``go test -timeout=20s main_test.go`` with testify resolvable; pass = exit 0.

``prepare`` creates a module (``go 1.18`` as in the reference toolchain, testify v1.8.0) in the cache dir, downloads
it once and warms a shared build cache by testing a program that imports every helper package. Execution is
offline (``GOPROXY=off``) and reads that cache read-only; ``go test`` still runs its default ``vet`` subset, because
vet findings (e.g. printf misuse) fail ``go test`` in the reference too.

``execute_batch`` puts several programs as packages of one module and runs one ``go test -json ./...``; each
package keeps its own verdict, and any program without a clear result is re-run alone.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from ..types import Limits, Program, Verdict, excerpt
from .base import CommandResult, OnVerdict, SandboxRunner, ToolReport
from .compiled_common import existing, find_tool, sandbox_env, tool_output

SUPPORT_DIR = Path(__file__).with_name("go_support")
GO_DIRS = ("/usr/local/go/bin", "/usr/lib/go/bin")
MODULE = "humanEval"
INSTALL_HINT = "install Go >= 1.21 from https://go.dev/dl (or `apt-get install golang-go`); proxy.golang.org once"
BATCH_SIZE = 16
TIMEOUT_MARK = "panic: test timed out after"


class GoLanguage:
    name = "go"

    def check(self, cache_dir: Path) -> ToolReport:
        report = ToolReport(language=self.name, ok=True, how_to_install=INSTALL_HINT)
        go = find_tool("go", GO_DIRS)
        if go is None:
            report.missing.append("go")
        else:
            report.found["go"] = tool_output([go, "version"])
            if _ready(cache_dir, go):
                report.found["testify"] = str(_module_dir(cache_dir, go))
            else:
                report.missing.append("testify module + warm build cache (run prepare)")
        report.ok = not report.missing
        return report

    def prepare(self, cache_dir: Path) -> None:
        go = find_tool("go", GO_DIRS)
        if go is None or _ready(cache_dir, go):
            return
        module = _module_dir(cache_dir, go)
        module.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SUPPORT_DIR / "go.mod.txt", module / "go.mod")
        env = {**_go_env(cache_dir, go, module), "GOPROXY": os.environ.get("GOPROXY", "https://proxy.golang.org")}
        env["GOFLAGS"] = "-mod=mod"
        with tempfile.TemporaryDirectory() as scratch:
            shutil.copyfile(SUPPORT_DIR / "warm_test.go", Path(scratch) / "warm_test.go")
            for name in ("go.mod",):
                shutil.copyfile(module / name, Path(scratch) / name)
            for argv in (["mod", "tidy"], ["test", "-count=1", "./..."]):
                done = subprocess.run([go, *argv], cwd=scratch, env=env, capture_output=True, text=True, timeout=1800)
                if done.returncode != 0:
                    raise RuntimeError(f"go {' '.join(argv)} failed while preparing Go:\n{done.stderr[-3000:]}")
            for name in ("go.mod", "go.sum"):
                shutil.copyfile(Path(scratch) / name, module / name)
        (module / "READY").write_text(tool_output([go, "version"]))

    def execute(self, program: Program, workdir: Path, sandbox: SandboxRunner, cache_dir: Path) -> Verdict:
        go = find_tool("go", GO_DIRS)
        if go is None or not _ready(cache_dir, go):
            return Verdict("error", "Go toolchain or prepared testify module missing: run prepare")
        _write_module_files(cache_dir, go, workdir)
        (workdir / "main_test.go").write_text(program.source, encoding="utf-8")
        argv = [go, "test", f"-timeout={_seconds(program.limits.run_timeout)}", "main_test.go"]
        result = _run_go(argv, workdir, sandbox, cache_dir, go, program.limits, 1)
        return _single_verdict(result)

    def execute_batch(
        self,
        programs: Sequence[Program],
        workdir: Path,
        sandbox: SandboxRunner,
        cache_dir: Path,
        on_verdict: OnVerdict | None = None,  # unused: one compile decides the whole batch at once
    ) -> list[Verdict]:
        go = find_tool("go", GO_DIRS)
        if go is None or not _ready(cache_dir, go):
            return [Verdict("error", "Go toolchain or prepared testify module missing: run prepare") for _ in programs]
        verdicts: list[Verdict | None] = [None] * len(programs)
        for start in range(0, len(programs), BATCH_SIZE):
            chunk = list(range(start, min(start + BATCH_SIZE, len(programs))))
            chunk_dir = workdir / f"batch{start:05d}"
            chunk_dir.mkdir()
            chunk_verdicts = self._run_chunk([programs[i] for i in chunk], chunk_dir, sandbox, cache_dir, go)
            for index, verdict in zip(chunk, chunk_verdicts, strict=True):
                verdicts[index] = verdict
            shutil.rmtree(chunk_dir, ignore_errors=True)
        for index, verdict in enumerate(verdicts):
            if verdict is None:  # no clear answer from the batch: the reference-shaped single run decides
                single_dir = workdir / f"single{index:05d}"
                single_dir.mkdir()
                verdicts[index] = self.execute(programs[index], single_dir, sandbox, cache_dir)
                shutil.rmtree(single_dir, ignore_errors=True)
        return [v for v in verdicts if v is not None]

    def _run_chunk(
        self, programs: Sequence[Program], chunk_dir: Path, sandbox: SandboxRunner, cache_dir: Path, go: str
    ) -> list[Verdict | None]:
        _write_module_files(cache_dir, go, chunk_dir)
        for index, program in enumerate(programs):
            package = chunk_dir / f"p{index:03d}"
            package.mkdir()
            (package / "main_test.go").write_text(program.source, encoding="utf-8")
        limits = _widest(program.limits for program in programs)
        argv = [go, "test", "-json", f"-timeout={_seconds(limits.run_timeout)}", "./..."]
        result = _run_go(argv, chunk_dir, sandbox, cache_dir, go, limits, len(programs))
        outcomes = parse_test_json(result.stdout)
        share = result.seconds / max(1, len(programs))
        return [outcomes.get(f"{MODULE}/p{index:03d}", _missing)(share) for index in range(len(programs))]


def _missing(_seconds: float) -> None:
    return None


def parse_test_json(stdout: str) -> dict[str, Callable[[float], Verdict]]:
    """Map import path -> factory(seconds) of a Verdict, from ``go test -json`` events (package-level results)."""
    logs: dict[str, list[str]] = {}
    results: dict[str, tuple[str, bool]] = {}
    for line in stdout.splitlines():
        if not line.startswith("{"):
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        action = event.get("Action")
        if action == "build-output":
            package = event.get("ImportPath", "").split(" ")[0]
            logs.setdefault(package, []).append(event.get("Output", ""))
        elif action == "output" and "Package" in event:
            logs.setdefault(event["Package"], []).append(event.get("Output", ""))
        elif action in ("pass", "fail") and "Test" not in event and "Package" in event:
            results[event["Package"]] = (action, bool(event.get("FailedBuild")))
    factories = {}
    for package, (action, failed_build) in results.items():
        text = "".join(logs.get(package, []))
        factories[package] = functools.partial(_package_verdict, action, failed_build, text)
    return factories


def _package_verdict(action: str, failed_build: bool, text: str, seconds: float) -> Verdict:
    if action == "pass":
        return Verdict("passed", "", seconds)
    if failed_build:
        return Verdict("compile_error", excerpt(text), seconds)
    if TIMEOUT_MARK in text:
        return Verdict("timeout", excerpt(text), seconds)
    return Verdict("failed", excerpt(text), seconds)


def _single_verdict(result: CommandResult) -> Verdict:
    text = excerpt((result.stdout or "") + "\n" + (result.stderr or ""))
    if result.timed_out:
        return Verdict("timeout", f"go test timed out after {result.seconds:.1f}s", result.seconds)
    if result.returncode == 0:
        return Verdict("passed", "", result.seconds)
    combined = (result.stdout or "") + (result.stderr or "")
    if "[build failed]" in combined or "[setup failed]" in combined:
        return Verdict("compile_error", text, result.seconds)
    if TIMEOUT_MARK in combined:
        return Verdict("timeout", text, result.seconds)
    return Verdict("failed", text, result.seconds)


def _run_go(
    argv: list[str], workdir: Path, sandbox: SandboxRunner, cache_dir: Path, go: str, limits: Limits, count: int
) -> CommandResult:
    # go test compiles and runs in one command: its budget is both, with room for the packages of a batch.
    budget = limits.compile_timeout + limits.run_timeout + 2.0 * (count - 1)
    return sandbox.run(
        argv, workdir=workdir, timeout=budget, limits=limits, env=_go_env(cache_dir, go, workdir),
        read_only_paths=existing([cache_dir / "go", _goroot(go)]),
    )  # fmt: skip


def _go_env(cache_dir: Path, go: str, workdir: Path) -> dict[str, str]:
    base = cache_dir / "go"
    return sandbox_env(
        workdir, [str(Path(go).parent)],
        GOCACHE=str(base / "gocache"), GOMODCACHE=str(base / "modcache"), GOPATH=str(workdir / ".gopath"),
        GOFLAGS="-mod=mod", GOPROXY="off", GOSUMDB="off", GOTOOLCHAIN="local", GOENV="off", GOTELEMETRY="off",
    )  # fmt: skip


def _write_module_files(cache_dir: Path, go: str, target: Path) -> None:
    module = _module_dir(cache_dir, go)
    for name in ("go.mod", "go.sum"):
        shutil.copyfile(module / name, target / name)


@functools.lru_cache(maxsize=4)
def _go_version(go: str) -> str:
    return tool_output([go, "version"])


@functools.lru_cache(maxsize=4)
def _goroot(go: str) -> Path:
    return Path(tool_output([go, "env", "GOROOT"]) or Path(go).resolve().parent.parent)


def _module_dir(cache_dir: Path, go: str) -> Path:
    key = hashlib.sha256((_go_version(go) + (SUPPORT_DIR / "go.mod.txt").read_text()).encode()).hexdigest()[:12]
    return cache_dir / "go" / f"module-{key}"


def _ready(cache_dir: Path, go: str) -> bool:
    return (_module_dir(cache_dir, go) / "READY").is_file()


def _seconds(value: float) -> str:
    return f"{max(1, round(value))}s"


def _widest(all_limits) -> Limits:
    chosen = None
    for limits in all_limits:
        if chosen is None or (limits.compile_timeout + limits.run_timeout) > (
            chosen.compile_timeout + chosen.run_timeout
        ):
            chosen = limits
    return chosen or Limits()


LANGUAGE = GoLanguage()
