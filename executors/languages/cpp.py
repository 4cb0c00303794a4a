"""C++: ``g++ -std=c++11 test.cpp -lcrypto -lssl`` then ``./a.out``; pass = exit 0 (the reference rule).

Speed-up: the import-helper headers every HumanEvalPack C++ program starts with are compiled once into a
precompiled header (built by ``prepare`` with the same ``-std=c++11``) and force-included with ``-include``.
It is only used when the program itself includes every one of those headers, so the set of declarations the
compiler sees is the same as in the reference; otherwise the program is compiled plainly.
Where binutils' gold linker is installed it links (``-fuse-ld=gold``): about 3x faster than the default bfd
linker on these small programs, with the same libraries and symbol resolution.

``execute_batch`` compiles the programs that can be merged without changing their meaning as ONE translation unit
(``cpp_merged``: one namespace per program, a driver ``main``), with the same flags, then runs the binary once per
program, each in a fresh process and directory, all started by one sandbox: ``_CppBuild`` is its strategy for the
merged-build engine (``runtime/merged/engine.py``). Whatever cannot be merged, fails to compile in the batch or finds
the batch binary misbehaving runs alone, the single way.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from ..runtime.compiled import (
    build_then_run,
    existing,
    find_tool,
    install_prefix,
    run_verdict,
    sandbox_env,
    tool_output,
)
from ..runtime.exec_batch import Command, run_alone
from ..runtime.language import BatchVerdicts, CommandResult, Language, OnVerdict, SandboxRunner, ToolReport
from ..runtime.merged import cpp as cpp_merged
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
from ..types import Limits, Program, Verdict

log = logging.getLogger(__name__)

STD_FLAG = "-std=c++11"
LINK_FLAGS = ("-lcrypto", "-lssl")
HELPER_HEADERS: tuple[str, ...] = (
    "stdlib.h",
    "algorithm",
    "cmath",
    "math.h",
    "numeric",
    "stdio.h",
    "vector",
    "set",
    "map",
    "queue",
    "stack",
    "list",
    "deque",
    "boost/any.hpp",
    "string",
    "climits",
    "cstring",
    "iostream",
    "sstream",
    "fstream",
)
PROBE_HEADERS = {"boost": "/usr/include/boost/any.hpp", "openssl": "/usr/include/openssl/md5.h"}
INSTALL_HINT = "apt-get install g++ libboost-dev libssl-dev"
_INCLUDE_RE = re.compile(r"^\s*#\s*include\s*<([^>]+)>", re.MULTILINE)
BATCH_SOURCE, BATCH_BINARY = "batch.cpp", "batch.out"
ALONE_NAMES = (BATCH_SOURCE, BATCH_BINARY, "test.cpp", "a.out")  # how a merged run's messages are told back
PROBE_SECONDS = 2.0  # the batch binary run without a program (static initialisers and destructors only)
HEADER_NAMES_FILE = "header-names-v2.json"  # beside the precompiled header: see cpp_merged.HeaderNames


class CppLanguage(Language):
    name = "cpp"

    def toolchain_roots(self) -> list[Path]:
        return install_prefix(find_tool("g++"))

    def check(self, cache_dir: Path) -> ToolReport:
        report = ToolReport(language=self.name, ok=True, how_to_install=INSTALL_HINT)
        gxx = find_tool("g++")
        if gxx:
            report.found["g++"] = tool_output([gxx, "--version"])
        else:
            report.missing.append("g++")
        for dep, header in PROBE_HEADERS.items():
            if Path(header).is_file():
                report.found[dep] = header
            else:
                report.missing.append(f"{dep} headers ({header})")
        pch = _pch_header(cache_dir, gxx) if gxx else None
        report.found["linker"] = "gold (-fuse-ld=gold)" if _fast_linker() else "default (ld.bfd)"
        report.found["precompiled header"] = str(pch) + ".gch" if pch and _pch_ready(pch) else "not built yet"
        report.ok = not report.missing
        return report

    def prepare(self, cache_dir: Path) -> None:
        gxx = find_tool("g++")
        if gxx is None:
            return
        header = _pch_header(cache_dir, gxx)
        with exclusive(header.parent.with_name(header.parent.name + ".lock")):  # concurrent setups take turns
            if not _pch_ready(header):
                header.parent.mkdir(parents=True, exist_ok=True)
                header.write_text("".join(f"#include<{name}>\n" for name in HELPER_HEADERS))
                tmp = private_name(header.with_name(header.name + ".gch"))
                # Trusted input (our own header): built directly, once, with exactly the flags programs use.
                subprocess.run(
                    [gxx, STD_FLAG, "-x", "c++-header", str(header), "-o", str(tmp)], check=True, timeout=300
                )
                tmp.replace(header.with_name(header.name + ".gch"))
            names = header.with_name(HEADER_NAMES_FILE)
            if not names.is_file():
                tmp = private_name(names)
                tmp.write_text(_probe_header_names(gxx).to_json())
                tmp.replace(names)

    def execute(self, program: Program, workdir: Path, sandbox: SandboxRunner, cache_dir: Path) -> Verdict:
        gxx = find_tool("g++") or "g++"
        source = workdir / "test.cpp"
        source.write_text(program.source, encoding="utf-8")
        argv = [gxx, STD_FLAG]
        pch = _pch_header(cache_dir, gxx)
        if _pch_ready(pch) and includes_all_helpers(program.source):
            argv += ["-include", str(pch)]
        argv += [source.name, *_fast_linker(), *LINK_FLAGS, "-o", "a.out"]
        return build_then_run(
            program,
            workdir,
            sandbox,
            "g++",
            argv,
            ["a.out"],
            sandbox_env(workdir),
            existing([cache_dir / "cpp"]),
            run_files={source.name: program.source},
        )

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
        verdicts = BatchVerdicts(on_verdict)
        gxx = find_tool("g++")
        pch = _pch_header(cache_dir, gxx) if gxx else None
        if gxx and pch and _pch_ready(pch) and merging_enabled(self.name):
            analyses: dict[int, cpp_merged.Analysis] = {}
            groups = _mergeable_groups(programs, _header_names(gxx, pch), analyses)
            run_merged(
                groups,
                lambda batch_dir: _CppBuild(batch_dir, gxx, pch, cache_dir, sandbox, analyses),
                workdir,
                sandbox,
                verdicts.decide,
            )
        # not mergeable, or no clear answer from its batch: the single path decides
        return verdicts.finish_alone(self, programs, workdir, sandbox, cache_dir)


def _mergeable_groups(
    programs: Sequence[Program], header: cpp_merged.HeaderNames, analyses: dict[int, cpp_merged.Analysis]
) -> list[dict[int, Program]]:
    """Programs that may share a translation unit, grouped by include set and limits (``analyses`` gets what
    each one's merge needs)."""
    groups: dict[tuple[frozenset[str], Limits], dict[int, Program]] = {}
    for index, program in enumerate(programs):
        if not includes_all_helpers(program.source):  # compiled without the precompiled header alone
            continue
        try:
            analysis = cpp_merged.analyze(program.source, header, HELPER_HEADERS)
        except cpp_merged.NotMergeable as reason:
            log.debug("C++ program %d runs alone: %s", index, reason)
            continue
        analyses[index] = analysis
        groups.setdefault((analysis.includes, program.limits), {})[index] = program
    return list(groups.values())


class _CppBuild(MergedBuild):
    """One translation unit (one namespace per program, a driver ``main`` calling one by index), compiled with the
    single path's flags; the binary is trusted once its size and a run without a program look sane."""

    def __init__(
        self,
        directory: Path,
        gxx: str,
        pch: Path,
        cache_dir: Path,
        sandbox: SandboxRunner,
        analyses: dict[int, cpp_merged.Analysis],
    ):
        super().__init__(directory)
        self.gxx, self.pch, self.cache_dir, self.sandbox, self.analyses = gxx, pch, cache_dir, sandbox, analyses
        self.build_dir = directory / "build"
        self.build_dir.mkdir()
        self.binary = self.build_dir / BATCH_BINARY
        self.ranges: dict[int, tuple[int, int]] = {}

    def build(self, members: dict[int, Program]) -> BuildResult:
        includes = self.analyses[next(iter(members))].includes
        bodies = {i: cpp_merged.namespace_body(p.source, self.analyses[i]) for i, p in members.items()}
        unit = cpp_merged.translation_unit(bodies, includes, HELPER_HEADERS)
        (self.build_dir / BATCH_SOURCE).write_text(unit.text, encoding="utf-8")
        argv = [
            self.gxx,
            STD_FLAG,
            "-include",
            str(self.pch),
            BATCH_SOURCE,
            *_fast_linker(),
            *LINK_FLAGS,
            "-o",
            BATCH_BINARY,
        ]
        all_limits = [p.limits for p in members.values()]
        result = self.sandbox.run(
            argv,
            workdir=self.build_dir,
            timeout=compile_budget(all_limits),
            limits=compile_limits(all_limits),
            env=sandbox_env(self.build_dir),
            read_only_paths=existing([self.cache_dir / "cpp"]),
        )
        if result.timed_out:
            return BuildResult.unclear(result.seconds)
        self.ranges = unit.ranges
        if result.returncode == 0:
            return BuildResult(result.seconds, built=True)
        blamed = cpp_merged.attribute(f"{result.stderr}\n{result.stdout}", BATCH_SOURCE, unit.ranges)
        return BuildResult(result.seconds, built=False, leaving=blamed)

    def admit(self, members: dict[int, Program]) -> float | None:
        with self.binary.open("rb") as elf:
            size = cpp_merged.static_size(elf.read(1 << 16))  # the ELF and program headers come first
        if size is None or size > cpp_merged.MAX_STATIC_BYTES:
            return None
        limits = next(iter(members.values())).limits  # a group shares its limits
        probe_dir = self.dir / "probe"
        probe_dir.mkdir()
        probe = run_alone(
            Command([str(self.binary)], min(limits.run_timeout, PROBE_SECONDS)),
            sandbox=self.sandbox,
            workdir=probe_dir,
            limits=limits,
            env=sandbox_env(probe_dir),
            read_only_paths=self.read_only_paths(),
        )
        shutil.rmtree(probe_dir, ignore_errors=True)
        return None if probe.timed_out or probe.returncode != 0 else probe.seconds

    def command(self, index: int, program: Program) -> Command:
        return Command([str(self.binary), str(index)], program.limits.run_timeout)

    def env(self, run_dir: Path) -> dict[str, str]:
        return sandbox_env(run_dir)

    def read_only_paths(self) -> list[Path]:
        return [self.build_dir]

    def verdict(self, index: int, ran: CommandResult, build_share: float) -> Verdict:
        verdict = run_verdict(ran, build_share)
        detail = cpp_merged.as_alone(verdict.detail, index, self.ranges[index][0], ALONE_NAMES)
        return Verdict(verdict.status, detail, verdict.seconds)


def includes_all_helpers(source: str) -> bool:
    """True when the program includes every helper header, so force-including them first changes nothing."""
    return set(HELPER_HEADERS) <= {name.strip() for name in _INCLUDE_RE.findall(source)}


@functools.cache
def _fast_linker() -> tuple[str, ...]:
    return ("-fuse-ld=gold",) if find_tool("ld.gold") else ()


def _pch_header(cache_dir: Path, gxx: str) -> Path:
    return cache_dir / "cpp" / f"pch-{_compiler_identity(gxx)}" / "octopack_helper.h"


@functools.lru_cache(maxsize=8)
def _compiler_identity(gxx: str) -> str:
    # A PCH from another g++ build would be rejected (and silently ignored) anyway; keying avoids the slow path.
    return hashlib.sha256(f"{gxx}\0{tool_output([gxx, '--version'])}\0{STD_FLAG}".encode()).hexdigest()[:12]


def _pch_ready(header: Path) -> bool:
    return header.is_file() and header.with_name(header.name + ".gch").is_file()


@functools.lru_cache(maxsize=8)
def _header_names(gxx: str, pch: Path) -> cpp_merged.HeaderNames:
    """What the helper headers declare and define (written by ``prepare``, else probed once here)."""
    stored = pch.with_name(HEADER_NAMES_FILE)
    if stored.is_file():
        return cpp_merged.HeaderNames.from_json(stored.read_text())
    return _probe_header_names(gxx)


def _probe_header_names(gxx: str) -> cpp_merged.HeaderNames:
    # Trusted input (our own headers and probe): run directly, like the precompiled header's build.
    header_source = "".join(f"#include<{name}>\n" for name in HELPER_HEADERS) + "#undef NDEBUG\n#include<assert.h>\n"

    def gxx_run(*flags: str, source: str = header_source) -> subprocess.CompletedProcess:
        return subprocess.run(
            [gxx, STD_FLAG, *flags, "-x", "c++", "-"], input=source, capture_output=True, text=True, timeout=600
        )

    expanded, defines = gxx_run("-E"), gxx_run("-dM", "-E")
    if expanded.returncode != 0 or defines.returncode != 0:
        raise RuntimeError(f"g++ cannot preprocess the helper headers:\n{expanded.stderr[-2000:]}")
    probe = cpp_merged.visibility_probe(header_source, expanded.stdout)
    checked = gxx_run("-fsyntax-only", source=probe.source)
    visible = cpp_merged.visible_names(probe, checked.stderr, "<stdin>")
    return cpp_merged.HeaderNames(visible, cpp_merged.macro_names(defines.stdout))


LANGUAGE = CppLanguage()
