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
(``_RustBuild``, its strategy for the merged-build engine ``runtime/merged/engine.py``). Programs that may not join, or that do not pass both compiles in the batch, get the single
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
    reported_path,
    run_verdict,
    sandbox_env,
    tool_output,
)
from ..runtime.exec_batch import Command
from ..runtime.language import (
    BatchVerdicts,
    CommandResult,
    Language,
    OnVerdict,
    SandboxRunner,
    ToolReport,
)
from ..runtime.merged import rust as rust_merged
from ..runtime.merged.engine import (
    BuildResult,
    MergedBuild,
    compile_budget,
    compile_limits,
    merged_batch_size,
    merging_enabled,
    run_merged,
)
from ..runtime.prepare_lock import exclusive, private_name
from ..types import Program, Verdict

SUPPORT_DIR = Path(__file__).with_name("rust_support")
CRATES = ("rand", "regex", "md5")
CARGO_DIRS = ("~/.cargo/bin",)
INSTALL_HINT = "install rustup (https://rustup.rs) then `rustup default stable`; crates.io must be reachable once"
PROFILE_FLAGS = ("-C", "debug-assertions=on", "-C", "overflow-checks=on", "-C", "debuginfo=0")


class RustLanguage(Language):
    name = "rust"

    def toolchain_roots(self) -> list[Path]:
        return reported_path([find_tool("rustc", CARGO_DIRS) or "rustc", "--print", "sysroot"])

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
            [cargo, "build", "--message-format", "json"],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=1800,
            env={**os.environ, **env_rustc},
        )
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
        checked = sandbox.run(
            _check_argv(rustc, manifest, "main.rs"),
            workdir=workdir,
            limits=program.limits,
            timeout=program.limits.compile_timeout,
            env=env,
            read_only_paths=read_only,
        )
        if checked.timed_out or checked.returncode != 0:
            return compile_failure(checked, "rustc (check as a binary)")
        argv = _compile_argv(rustc, manifest, "main.rs")
        verdict = build_then_run(
            program,
            workdir,
            sandbox,
            "rustc",
            argv,
            ["test_bin"],
            env,
            read_only,
            run_files={"main.rs": program.source},
        )
        return replace(verdict, seconds=verdict.seconds + checked.seconds)

    @property
    def batch_size(self) -> int:
        return merged_batch_size(self.name)

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
        if rustc is not None and manifest is not None and merging_enabled(self.name):
            joining = {i: program for i, program in enumerate(programs) if rust_merged.eligible(program.source)}
            run_merged(
                [joining],
                lambda batch_dir: _RustBuild(batch_dir, rustc, manifest, cache_dir, sandbox),
                workdir,
                sandbox,
                verdicts.decide,
            )
        # not eligible, not compiled in the batch: the single path decides
        return verdicts.finish_alone(self, programs, workdir, sandbox, cache_dir)


class _RustBuild(MergedBuild):
    """One test crate (each program in its own module), checked as one plain binary and compiled as one test
    binary, as the single path does; its binary runs once per program, filtered to the program's module."""

    def __init__(self, directory: Path, rustc: str, manifest: dict, cache_dir: Path, sandbox: SandboxRunner):
        super().__init__(directory)
        self.rustc, self.manifest, self.sandbox = rustc, manifest, sandbox
        self.read_only = existing([cache_dir / "rust", Path(_sysroot(rustc))])
        self.crate: rust_merged.MergedCrate | None = None

    def build(self, members: dict[int, Program]) -> BuildResult:
        """Check, then compile the tests: built when the test binary was; the programs the errors of either
        point at leave (a program only the check failed is in the binary too, but never run from it)."""
        self.crate = crate = rust_merged.merge({i: p.source for i, p in members.items()})
        (self.dir / rust_merged.BATCH_FILE).write_text(crate.text + rust_merged.ENTRY_POINT, encoding="utf-8")
        all_limits = [p.limits for p in members.values()]
        seconds, failing = 0.0, set()
        for argv in (
            _check_argv(self.rustc, self.manifest, rust_merged.BATCH_FILE, "--error-format=json"),
            _compile_argv(self.rustc, self.manifest, rust_merged.BATCH_FILE, "--error-format=json"),
        ):
            built = self.sandbox.run(
                argv,
                workdir=self.dir,
                timeout=compile_budget(all_limits),
                limits=compile_limits(all_limits),
                env=self.env(self.dir),
                read_only_paths=self.read_only,
            )
            seconds = max(seconds, built.seconds)
            if built.timed_out or built.output_truncated:
                return BuildResult.unclear(seconds)
            if built.returncode != 0:
                owners = rust_merged.error_owners(built.stderr, crate.lines)
                if owners is None:
                    return BuildResult.unclear(seconds)
                failing |= owners
        return BuildResult(seconds, built=built.returncode == 0, leaving=failing)

    def command(self, index: int, program: Program) -> Command:
        """Each run's directory holds the program's own ``main.rs``, as alone."""
        return Command(
            [str(self.dir / "test_bin"), rust_merged.test_filter(index)],
            program.limits.run_timeout,
            {"main.rs": program.source},
        )

    def env(self, run_dir: Path) -> dict[str, str]:
        return sandbox_env(run_dir, [str(Path(self.rustc).parent)])

    def read_only_paths(self) -> list[Path]:
        return [self.dir / "test_bin"]

    def verdict(self, index: int, ran: CommandResult, build_share: float) -> Verdict:
        first_line = self.crate.lines[index][0]
        ran = replace(
            ran,
            stdout=rust_merged.localize(ran.stdout or "", index, first_line),
            stderr=rust_merged.localize(ran.stderr or "", index, first_line),
        )
        return run_verdict(ran, build_share)


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
