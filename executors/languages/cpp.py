"""C++: ``g++ -std=c++11 test.cpp -lcrypto -lssl`` then ``./a.out``; pass = exit 0 (the reference rule).

Speed-up: the import-helper headers every HumanEvalPack C++ program starts with are compiled once into a
precompiled header (built by ``prepare`` with the same ``-std=c++11``) and force-included with ``-include``.
It is only used when the program itself includes every one of those headers, so the set of declarations the
compiler sees is the same as in the reference; otherwise the program is compiled plainly.
Where binutils' gold linker is installed it links (``-fuse-ld=gold``): about 3x faster than the default bfd
linker on these small programs, with the same libraries and symbol resolution.

``execute_batch`` compiles the programs that can be merged without changing their meaning as ONE translation unit
(``cpp_merged``: one namespace per program, a driver ``main``), with the same flags, then runs the binary once per
program, each in a fresh process and directory, all started by one sandbox (``exec_batch``). Whatever cannot be merged, fails to compile in the batch or finds
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

from ..runtime.compiled import build_then_run, existing, find_tool, run_verdict, sandbox_env, tool_output
from ..runtime.exec_batch import Command, run_alone, run_each
from ..runtime.language import BatchVerdicts, CommandResult, Language, OnVerdict, SandboxRunner, ToolReport
from ..runtime.merged import cpp as cpp_merged
from ..runtime.prepare_lock import exclusive, private_name
from ..types import Limits, Program, Verdict

log = logging.getLogger(__name__)

STD_FLAG = "-std=c++11"
LINK_FLAGS = ("-lcrypto", "-lssl")
HELPER_HEADERS: tuple[str, ...] = (
    "stdlib.h", "algorithm", "cmath", "math.h", "numeric", "stdio.h", "vector", "set", "map", "queue", "stack",
    "list", "deque", "boost/any.hpp", "string", "climits", "cstring", "iostream", "sstream", "fstream",
)  # fmt: skip
PROBE_HEADERS = {"boost": "/usr/include/boost/any.hpp", "openssl": "/usr/include/openssl/md5.h"}
INSTALL_HINT = "apt-get install g++ libboost-dev libssl-dev"
_INCLUDE_RE = re.compile(r"^\s*#\s*include\s*<([^>]+)>", re.MULTILINE)
BATCH_SIZE = 16
BATCH_SOURCE, BATCH_BINARY = "batch.cpp", "batch.out"
ALONE_NAMES = (BATCH_SOURCE, BATCH_BINARY, "test.cpp", "a.out")  # how a merged run's messages are told back
EXTRA_COMPILE_SECONDS = 0.5  # compile budget per merged program beyond the first
COMPILE_ATTEMPTS = 3  # compile errors stop g++ before it links: a second failure may be the link's, then the rest
PROBE_SECONDS = 2.0  # the batch binary run without a program (static initialisers and destructors only)
HEADER_NAMES_FILE = "header-names-v2.json"  # beside the precompiled header: see cpp_merged.HeaderNames


class CppLanguage(Language):
    name = "cpp"
    batch_size = BATCH_SIZE

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
                subprocess.run([gxx, STD_FLAG, "-x", "c++-header", str(header), "-o", str(tmp)], check=True,
                               timeout=300)  # fmt: skip
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
        return build_then_run(program, workdir, sandbox, "g++", argv, ["a.out"], sandbox_env(workdir),
                              existing([cache_dir / "cpp"]), run_files={source.name: program.source})  # fmt: skip

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
        if gxx and pch and _pch_ready(pch):
            for position, chunk in enumerate(_mergeable_chunks(programs, _header_names(gxx, pch))):
                batch_dir = workdir / f"batch{position:04d}"
                batch_dir.mkdir()
                _MergedBatch(gxx, pch, cache_dir, sandbox, batch_dir).run(chunk, verdicts.decide)
                shutil.rmtree(batch_dir, ignore_errors=True)
        # not mergeable, or no clear answer from its batch: the single path decides
        return verdicts.finish_alone(self, programs, workdir, sandbox, cache_dir)


_Entry = tuple[Program, cpp_merged.Analysis]


def _mergeable_chunks(programs: Sequence[Program], header: cpp_merged.HeaderNames) -> list[dict[int, _Entry]]:
    """Programs that may share a translation unit, grouped by include set and limits, at most BATCH_SIZE each."""
    groups: dict[tuple[frozenset[str], Limits], dict[int, _Entry]] = {}
    for index, program in enumerate(programs):
        if not includes_all_helpers(program.source):  # compiled without the precompiled header alone
            continue
        try:
            analysis = cpp_merged.analyze(program.source, header, HELPER_HEADERS)
        except cpp_merged.NotMergeable as reason:
            log.debug("C++ program %d runs alone: %s", index, reason)
            continue
        groups.setdefault((analysis.includes, program.limits), {})[index] = (program, analysis)
    chunks = []
    for group in groups.values():
        indexes = list(group)
        for start in range(0, len(indexes), BATCH_SIZE):
            chunk = {i: group[i] for i in indexes[start : start + BATCH_SIZE]}
            if len(chunk) > 1:  # one program alone is cheaper the single way
                chunks.append(chunk)
    return chunks


class _MergedBatch:
    """One translation unit for a chunk: compile (dropping the programs its errors name, and again: compile errors
    stop g++ before it links), check the binary, then run it once per program."""

    def __init__(self, gxx: str, pch: Path, cache_dir: Path, sandbox: SandboxRunner, batch_dir: Path):
        self.gxx, self.pch, self.cache_dir, self.sandbox = gxx, pch, cache_dir, sandbox
        self.build_dir = batch_dir / "build"
        self.build_dir.mkdir()
        self.dir = batch_dir

    def run(self, entries: dict[int, _Entry], report: OnVerdict) -> None:
        limits = next(iter(entries.values()))[0].limits  # a chunk shares its limits
        built = self._build(dict(entries), limits)
        if built is None:
            return
        pending, compile_seconds, ranges = built
        binary = self.build_dir / BATCH_BINARY
        with binary.open("rb") as elf:
            size = cpp_merged.static_size(elf.read(1 << 16))  # the ELF and program headers come first
        if size is None or size > cpp_merged.MAX_STATIC_BYTES:
            return
        probe = self._run_binary([str(binary)], "probe", min(limits.run_timeout, PROBE_SECONDS), limits)
        if probe.timed_out or probe.returncode != 0:
            return
        share = (compile_seconds + probe.seconds) / len(pending)
        order = list(pending)

        def decide(index: int, ran: CommandResult) -> None:
            verdict = run_verdict(ran, share)
            detail = cpp_merged.as_alone(verdict.detail, index, ranges[index][0], ALONE_NAMES)
            report(index, Verdict(verdict.status, detail, verdict.seconds))

        # every program in a fresh process and directory, all started by one sandbox (exec_batch)
        runs_dir = self.dir / "runs"
        runs_dir.mkdir()
        commands = [Command([str(binary), str(index)], limits.run_timeout) for index in order]
        finished = run_each(commands, sandbox=self.sandbox, workdir=runs_dir, limits=limits,
                            env=sandbox_env(runs_dir), read_only_paths=[self.build_dir],
                            on_result=lambda k, ran: decide(order[k], ran))  # fmt: skip
        for k, index in enumerate(order):
            if k not in finished:  # no answer from the shared sandbox (e.g. the program killed it): alone
                decide(
                    index, self._run_binary([str(binary), str(index)], f"run{index:05d}", limits.run_timeout, limits)
                )

    def _build(self, pending: dict[int, _Entry], limits: Limits) -> tuple[dict[int, _Entry], float, dict] | None:
        """The programs that compiled together, the compile time and their line ranges; None: no answer here."""
        includes = next(iter(pending.values()))[1].includes
        seconds = 0.0
        for attempt in range(COMPILE_ATTEMPTS):
            bodies = {i: cpp_merged.namespace_body(p.source, a) for i, (p, a) in pending.items()}
            unit = cpp_merged.translation_unit(bodies, includes, HELPER_HEADERS)
            (self.build_dir / BATCH_SOURCE).write_text(unit.text, encoding="utf-8")
            argv = [self.gxx, STD_FLAG, "-include", str(self.pch), BATCH_SOURCE, *_fast_linker(), *LINK_FLAGS,
                    "-o", BATCH_BINARY]  # fmt: skip
            result = self.sandbox.run(
                argv, workdir=self.build_dir, timeout=limits.compile_timeout + EXTRA_COMPILE_SECONDS * (len(pending) - 1),
                limits=limits, env=sandbox_env(self.build_dir), read_only_paths=existing([self.cache_dir / "cpp"]),
            )  # fmt: skip
            seconds += result.seconds
            if result.timed_out:
                return None
            if result.returncode == 0:
                # A compile slower than one program's own budget could have timed out alone.
                return (pending, seconds, unit.ranges) if result.seconds <= limits.compile_timeout else None
            blamed = cpp_merged.attribute(f"{result.stderr}\n{result.stdout}", BATCH_SOURCE, unit.ranges)
            if blamed is None or attempt == COMPILE_ATTEMPTS - 1:
                return None
            pending = {i: entry for i, entry in pending.items() if i not in blamed}
            if len(pending) < 2:
                return None
        return None

    def _run_binary(self, argv: list[str], name: str, timeout: float, limits: Limits) -> CommandResult:
        """One run of the batch binary through a one-job server (``run_alone``): it ends at end of output, as
        the shared sandbox's runs and the single path's do."""
        run_dir = self.dir / name  # a fresh directory per run, as the single path has
        run_dir.mkdir()
        try:
            return run_alone(Command(argv, timeout), sandbox=self.sandbox, workdir=run_dir, limits=limits,
                             env=sandbox_env(run_dir), read_only_paths=[self.build_dir])  # fmt: skip
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)


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
        return subprocess.run([gxx, STD_FLAG, *flags, "-x", "c++", "-"], input=source, capture_output=True, text=True,
                              timeout=600)  # fmt: skip

    expanded, defines = gxx_run("-E"), gxx_run("-dM", "-E")
    if expanded.returncode != 0 or defines.returncode != 0:
        raise RuntimeError(f"g++ cannot preprocess the helper headers:\n{expanded.stderr[-2000:]}")
    probe = cpp_merged.visibility_probe(header_source, expanded.stdout)
    checked = gxx_run("-fsyntax-only", source=probe.source)
    visible = cpp_merged.visible_names(probe, checked.stderr, "<stdin>")
    return cpp_merged.HeaderNames(visible, cpp_merged.macro_names(defines.stdout))


LANGUAGE = CppLanguage()
