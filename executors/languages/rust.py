"""Rust: the reference runs ``cargo check`` + ``cargo test`` in one fixed project with rand 0.4, regex 1, md5 0.7.

We build those crates once with cargo (``prepare``), then, in each program's own directory (parallel safe, no
cargo overhead), check it as a plain binary as ``cargo check --bin test`` does (``rustc --emit=metadata``, no
``--test``: a program whose ``main`` or any item its non-test code uses exists only under ``cfg(test)`` fails
here, as in the reference), compile it with ``rustc --edition 2021 --test --extern rand=... --extern regex=...
--extern md5=...`` and run the test binary. Same verdict rule: both compiles ok and the tests exit 0. Debug
assertions and overflow checks are on, as in cargo's dev/test profile.

``execute_batch`` checks a batch as ONE plain binary and compiles and links it as ONE test crate (``rust_merged``:
each program in its own module; the errors of both compiles are pinned on programs by line) and runs that binary
once per program, filtered to the program's module, each run a fresh process started by one shared sandbox
(``exec_batch``). Programs that may not join, or that do not pass both compiles in the batch, get the single
path above.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ..runtime.compiled import (
    build_then_run,
    compile_failure,
    existing,
    find_tool,
    run_verdict,
    sandbox_env,
    tool_output,
)
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
from ..runtime.merged import rust as rust_merged
from ..runtime.prepare_lock import exclusive, private_name
from ..types import Limits, Program, Verdict

SUPPORT_DIR = Path(__file__).with_name("rust_support")
CRATES = ("rand", "regex", "md5")
CARGO_DIRS = ("~/.cargo/bin",)
INSTALL_HINT = "install rustup (https://rustup.rs) then `rustup default stable`; crates.io must be reachable once"
PROFILE_FLAGS = ("-C", "debug-assertions=on", "-C", "overflow-checks=on", "-C", "debuginfo=0")
BATCH_SIZE = 16
BATCH_COMPILE_SECONDS_PER_PROGRAM = 1.0  # added to the widest compile_timeout per program beyond the first
BATCH_COMPILE_OUTPUT_BYTES = 4 << 20  # rustc's JSON errors of a whole batch must come back whole
MAX_BATCH_COMPILES = 2  # a batch that fails again without the programs its errors pointed at goes single


class RustLanguage(Language):
    name = "rust"
    batch_size = 16

    def check(self, cache_dir: Path) -> ToolReport:
        report = ToolReport(language=self.name, ok=True, how_to_install=INSTALL_HINT)
        for tool in ("rustc", "cargo"):
            path = find_tool(tool, CARGO_DIRS)
            if path:
                report.found[tool] = tool_output([path, "--version"])
            else:
                report.missing.append(tool)
        rustc = _rustc()
        manifest = _load_manifest(cache_dir, rustc) if rustc else None
        if manifest is None:
            report.missing.append("prebuilt crates rand 0.4 / regex 1 / md5 0.7 (run prepare)")
        else:
            report.found.update({f"crate {name}": path for name, path in manifest["externs"].items()})
        report.ok = not report.missing
        return report

    def prepare(self, cache_dir: Path) -> None:
        rustc, cargo = _rustc(), find_tool("cargo", CARGO_DIRS)
        if rustc is None or cargo is None or _load_manifest(cache_dir, rustc) is not None:
            return
        deps = _deps_dir(cache_dir, rustc)
        with exclusive(deps.with_name(deps.name + ".lock")):  # concurrent first-time setups take turns
            if _load_manifest(cache_dir, rustc) is None:
                self._build_crates(cache_dir, rustc, cargo)

    def _build_crates(self, cache_dir: Path, rustc: str, cargo: str) -> None:
        project = _deps_dir(cache_dir, rustc) / "project"
        project.mkdir(parents=True, exist_ok=True)
        for name in ("Cargo.toml", "lib.rs"):
            shutil.copyfile(SUPPORT_DIR / name, project / name)
        env_rustc = {"RUSTC": rustc}
        done = subprocess.run(
            [cargo, "build", "--message-format", "json"], cwd=project, capture_output=True, text=True, timeout=1800,
            env={**os.environ, **env_rustc},
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"cargo build of the Rust test crates failed:\n{done.stderr[-3000:]}")
        externs = _rlibs_from_cargo_messages(done.stdout)
        missing = [name for name in CRATES if name not in externs]
        if missing:
            raise RuntimeError(f"cargo built no rlib for {missing}")
        manifest = {"rustc": _rustc_version(rustc), "externs": externs, "deps": str(project / "target/debug/deps")}
        tmp = private_name(_manifest_path(cache_dir, rustc))
        tmp.write_text(json.dumps(manifest, indent=1))
        tmp.replace(_manifest_path(cache_dir, rustc))  # readers see no manifest or a whole one

    def execute(self, program: Program, workdir: Path, sandbox: SandboxRunner, cache_dir: Path) -> Verdict:
        rustc = _rustc()
        manifest = _load_manifest(cache_dir, rustc) if rustc else None
        if rustc is None or manifest is None:
            return Verdict("error", "Rust toolchain or prebuilt crates missing: run `lm-eval-octopack setup`")
        (workdir / "main.rs").write_text(program.source, encoding="utf-8")
        env = sandbox_env(workdir, [str(Path(rustc).parent)])
        read_only = existing([cache_dir / "rust", Path(_sysroot(rustc))])
        checked = sandbox.run(_check_argv(rustc, manifest, "main.rs"), workdir=workdir, limits=program.limits,
                              timeout=program.limits.compile_timeout, env=env, read_only_paths=read_only)  # fmt: skip
        if checked.timed_out or checked.returncode != 0:
            return compile_failure(checked, "rustc (check as a binary)")
        argv = _compile_argv(rustc, manifest, "main.rs")
        verdict = build_then_run(program, workdir, sandbox, "rustc", argv, ["test_bin"], env, read_only,
                                 run_files={"main.rs": program.source})  # fmt: skip
        return replace(verdict, seconds=verdict.seconds + checked.seconds)

    def execute_batch(
        self,
        programs: Sequence[Program],
        workdir: Path,
        sandbox: SandboxRunner,
        cache_dir: Path,
        on_verdict: OnVerdict | None = None,
    ) -> list[Verdict]:
        rustc = _rustc()
        manifest = _load_manifest(cache_dir, rustc) if rustc else None
        verdicts = BatchVerdicts(on_verdict)
        if rustc is not None and manifest is not None:
            for start in range(0, len(programs), BATCH_SIZE):
                chunk = range(start, min(start + BATCH_SIZE, len(programs)))
                joining = {i: programs[i] for i in chunk if rust_merged.eligible(programs[i].source)}
                if len(joining) < 2:
                    continue
                batch_dir = workdir / f"batch{start:05d}"
                batch_dir.mkdir()
                _MergedBatch(rustc, manifest, cache_dir, sandbox, batch_dir).run(joining, verdicts.decide)
                shutil.rmtree(batch_dir, ignore_errors=True)
        # not eligible, not compiled in the batch: the single path decides
        return verdicts.finish_alone(self, programs, workdir, sandbox, cache_dir)


class _MergedBatch:
    """One chunk checked as one plain binary and compiled as one test crate (once more without the programs the
    errors of either point at, if any), then its binary run once per program; decides only the programs that
    passed both compiles in it."""

    def __init__(self, rustc: str, manifest: dict, cache_dir: Path, sandbox: SandboxRunner, batch_dir: Path):
        self.rustc, self.manifest, self.sandbox, self.dir = rustc, manifest, sandbox, batch_dir
        self.read_only = existing([cache_dir / "rust", Path(_sysroot(rustc))])

    def run(self, programs: dict[int, Program], decide: OnVerdict) -> None:
        pending, compile_seconds, attempts = dict(programs), 0.0, 0
        while True:
            if len(pending) < 2:
                return
            crate = rust_merged.merge({i: p.source for i, p in pending.items()})
            tests_built, seconds, failing = self._compile(crate, list(pending.values()))
            compile_seconds, attempts = compile_seconds + seconds, attempts + 1
            if failing is None or (not tests_built and attempts == MAX_BATCH_COMPILES):
                return
            pending = {i: p for i, p in pending.items() if i not in failing}
            if tests_built:  # a program only the check failed is in the binary too, but never run from it
                break
        # Alone, each program would have compiled in less time than the whole crate: but only a crate that
        # finished within a program's own compile_timeout shows that its single compile would not have timed out.
        pending = {i: p for i, p in pending.items() if seconds <= p.limits.compile_timeout}
        if not pending:
            return
        share = compile_seconds / len(pending)
        finished = self._run_all(pending, crate, share, decide)
        for index, program in pending.items():
            if index not in finished:  # no answer from the shared sandbox (e.g. it killed the server): alone
                decide(index, self._run_one(index, program, crate.lines[index][0], share))

    def _run_all(
        self, programs: dict[int, Program], crate: rust_merged.MergedCrate, share: float, decide: OnVerdict
    ) -> set[int]:
        """The merged binary once per program, filtered to its module, all through one sandbox start per limits
        group (``exec_batch``); each run's directory holds the program's own ``main.rs``, as alone."""
        finished: set[int] = set()
        indices = list(programs)
        for group, (limits, positions) in enumerate(group_by_limits(list(programs.values())).items()):
            members = [indices[k] for k in positions]
            commands = [Command([str(self.dir / "test_bin"), rust_merged.test_filter(i)], limits.run_timeout,
                                {"main.rs": programs[i].source}) for i in members]  # fmt: skip

            def report(k: int, ran: CommandResult, members: list[int] = members) -> None:
                index = members[k]
                first_line = crate.lines[index][0]
                ran = replace(ran, stdout=rust_merged.localize(ran.stdout or "", index, first_line),
                              stderr=rust_merged.localize(ran.stderr or "", index, first_line))  # fmt: skip
                finished.add(index)
                decide(index, run_verdict(ran, share))

            runs_dir = self.dir / f"runs{group}"
            runs_dir.mkdir()
            run_each(commands, sandbox=self.sandbox, workdir=runs_dir, limits=limits, env=self._env(runs_dir),
                     read_only_paths=[self.dir / "test_bin"], on_result=report)  # fmt: skip
        return finished

    def _compile(self, crate: rust_merged.MergedCrate, programs: list[Program]) -> tuple[bool, float, set[int] | None]:
        """Check as a plain binary, then compile the tests, as the single path does: (the test binary was built,
        the longer of the two compiles in seconds, the programs the errors of either point at: None when
        unclear)."""
        (self.dir / rust_merged.BATCH_FILE).write_text(crate.text + rust_merged.ENTRY_POINT, encoding="utf-8")
        limits = _batch_compile_limits([p.limits for p in programs])
        budget = limits.compile_timeout + BATCH_COMPILE_SECONDS_PER_PROGRAM * (len(programs) - 1)
        seconds, failing = 0.0, set()
        for argv in (_check_argv(self.rustc, self.manifest, rust_merged.BATCH_FILE, "--error-format=json"),
                     _compile_argv(self.rustc, self.manifest, rust_merged.BATCH_FILE, "--error-format=json")):  # fmt: skip
            built = self.sandbox.run(argv, workdir=self.dir, timeout=budget, limits=limits, env=self._env(self.dir),
                                     read_only_paths=self.read_only)  # fmt: skip
            seconds = max(seconds, built.seconds)
            if built.timed_out or built.output_truncated:
                return False, seconds, None
            if built.returncode != 0:
                owners = rust_merged.error_owners(built.stderr, crate.lines)
                if owners is None:
                    return False, seconds, None
                failing |= owners
        return built.returncode == 0, seconds, failing

    def _run_one(self, index: int, program: Program, first_line: int, compile_share: float) -> Verdict:
        """The merged binary filtered to this program's module, in a directory shaped like the single path's."""
        run_dir = self.dir / f"run{index:05d}"
        run_dir.mkdir()
        command = Command([str(self.dir / "test_bin"), rust_merged.test_filter(index)], program.limits.run_timeout,
                          {"main.rs": program.source})  # fmt: skip
        ran = run_alone(command, sandbox=self.sandbox, workdir=run_dir, limits=program.limits, env=self._env(run_dir),
                        read_only_paths=[self.dir / "test_bin"])  # fmt: skip
        ran = replace(ran, stdout=rust_merged.localize(ran.stdout or "", index, first_line),
                      stderr=rust_merged.localize(ran.stderr or "", index, first_line))  # fmt: skip
        shutil.rmtree(run_dir, ignore_errors=True)
        return run_verdict(ran, compile_share)

    def _env(self, workdir: Path) -> dict[str, str]:
        return sandbox_env(workdir, [str(Path(self.rustc).parent)])


def _batch_compile_limits(all_limits: list[Limits]) -> Limits:
    """The widest compile budget, the tightest resource limits (a crate that fits them shows each program would
    fit its own), and room for rustc's JSON errors of the whole batch."""
    return Limits(
        compile_timeout=max(limits.compile_timeout for limits in all_limits),
        run_timeout=max(limits.run_timeout for limits in all_limits),
        memory_mb=min(limits.memory_mb for limits in all_limits),
        max_processes=min(limits.max_processes for limits in all_limits),
        max_file_mb=min(limits.max_file_mb for limits in all_limits),
        scratch_mb=min(limits.scratch_mb for limits in all_limits),
        max_output_bytes=max(BATCH_COMPILE_OUTPUT_BYTES, *(limits.max_output_bytes for limits in all_limits)),
    )


def _compile_argv(rustc: str, manifest: dict, source: str, *extra: str) -> list[str]:
    """The single path's rustc command line for the tests (a batch adds only ``--error-format=json``)."""
    return [rustc, "--edition", "2021", "--test", *_crate_flags(manifest), *extra, source, "-o", "test_bin"]


def _check_argv(rustc: str, manifest: dict, source: str, *extra: str) -> list[str]:
    """``cargo check --bin test``: the program as a plain binary, analysed without code generation."""
    argv = [rustc, "--edition", "2021", "--crate-type", "bin", "--emit=metadata", *_crate_flags(manifest)]
    return [*argv, *extra, source, "-o", "check.rmeta"]


def _crate_flags(manifest: dict) -> list[str]:
    flags = ["--crate-name", "test", *PROFILE_FLAGS, "-L", manifest["deps"]]
    for name, path in manifest["externs"].items():
        flags += ["--extern", f"{name}={path}"]
    return flags


@functools.lru_cache(maxsize=1)
def _rustc() -> str | None:
    """The real rustc inside the active toolchain (skips the rustup proxy's per-call cost)."""
    proxy = find_tool("rustc", CARGO_DIRS)
    if proxy is None:
        return None
    sysroot = tool_output([proxy, "--print", "sysroot"])
    real = Path(sysroot) / "bin" / "rustc"
    return str(real) if sysroot and real.is_file() else proxy


@functools.lru_cache(maxsize=4)
def _rustc_version(rustc: str) -> str:
    return tool_output([rustc, "-vV"])


@functools.lru_cache(maxsize=4)
def _sysroot(rustc: str) -> str:
    return tool_output([rustc, "--print", "sysroot"])


def _deps_dir(cache_dir: Path, rustc: str) -> Path:
    key = hashlib.sha256((_rustc_version(rustc) + (SUPPORT_DIR / "Cargo.toml").read_text()).encode())
    return cache_dir / "rust" / f"deps-{key.hexdigest()[:12]}"


def _manifest_path(cache_dir: Path, rustc: str) -> Path:
    return _deps_dir(cache_dir, rustc) / "externs.json"


def _load_manifest(cache_dir: Path, rustc: str) -> dict | None:
    path = _manifest_path(cache_dir, rustc)
    if not path.is_file():
        return None
    manifest = json.loads(path.read_text())
    if not all(Path(p).is_file() for p in manifest["externs"].values()):
        return None
    return manifest


def _rlibs_from_cargo_messages(stdout: str) -> dict[str, str]:
    externs: dict[str, str] = {}
    for line in stdout.splitlines():
        if not line.startswith("{"):
            continue
        message = json.loads(line)
        if message.get("reason") != "compiler-artifact" or message["target"]["name"] not in CRATES:
            continue
        for filename in message["filenames"]:
            if filename.endswith(".rlib"):
                externs[message["target"]["name"]] = filename
    return externs


LANGUAGE = RustLanguage()
