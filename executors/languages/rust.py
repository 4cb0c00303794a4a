"""Rust: the reference runs ``cargo check`` + ``cargo test`` in one fixed project with rand 0.4, regex 1, md5 0.7.

We build those crates once with cargo (``prepare``), then compile each program with
``rustc --edition 2021 --test --extern rand=... --extern regex=... --extern md5=...`` in its own directory (parallel
safe, no cargo overhead) and run the test binary. Same verdict rule: compile ok and the tests exit 0. Debug
assertions and overflow checks are on, as in cargo's dev/test profile.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

from ..types import Program, Verdict
from .base import SandboxRunner, ToolReport
from .compiled_common import build_then_run, existing, find_tool, sandbox_env, tool_output

SUPPORT_DIR = Path(__file__).with_name("rust_support")
CRATES = ("rand", "regex", "md5")
CARGO_DIRS = ("~/.cargo/bin",)
INSTALL_HINT = "install rustup (https://rustup.rs) then `rustup default stable`; crates.io must be reachable once"
PROFILE_FLAGS = ("-C", "debug-assertions=on", "-C", "overflow-checks=on", "-C", "debuginfo=0")


class RustLanguage:
    name = "rust"

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
        _manifest_path(cache_dir, rustc).write_text(json.dumps(manifest, indent=1))

    def execute(self, program: Program, workdir: Path, sandbox: SandboxRunner, cache_dir: Path) -> Verdict:
        rustc = _rustc()
        manifest = _load_manifest(cache_dir, rustc) if rustc else None
        if rustc is None or manifest is None:
            return Verdict(
                "error", "Rust toolchain or prebuilt crates missing: run `lm-eval-octopack setup`"
            )
        (workdir / "main.rs").write_text(program.source, encoding="utf-8")
        argv = [rustc, "--edition", "2021", "--test", "--crate-name", "test", *PROFILE_FLAGS, "-L", manifest["deps"]]
        for name, path in manifest["externs"].items():
            argv += ["--extern", f"{name}={path}"]
        argv += ["main.rs", "-o", "test_bin"]
        env = sandbox_env(workdir, [str(Path(rustc).parent)])
        read_only = existing([cache_dir / "rust", Path(_sysroot(rustc))])
        return build_then_run(program, workdir, sandbox, "rustc", argv, ["./test_bin"], env, read_only)


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
