"""Hostile programs (tests/adversarial/<language>/<case>.*) against the real bubblewrap sandbox.

For every language and attack: the verdict is a failure or a timeout (never a pass, which would mean a
breach, nor a compile error, which would mean a broken corpus), the canary outside the sandbox is intact,
the test's loopback listener saw no connection, the harness survives, and no process is left behind.
A language is skipped while its module or toolchain is missing. Programs run one per sandbox
(``batch_size=1``): this pins the sandbox's per-program containment, not a language's batching.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from lm_eval_octopack.executors import Limits, Program, SandboxUnavailable, ToolchainMissing, default_cache_dir
from lm_eval_octopack.executors.backends.local import LocalBackend

CORPUS = Path(__file__).parent / "adversarial"
EXTENSIONS = {"python": "py", "js": "js", "cpp": "cpp", "java": "java", "go": "go", "rust": "rs"}
CASES = (
    "fork_bomb", "infinite_loop", "memory_bomb", "disk_fill", "output_flood",
    "network", "escape_write", "kill_parent", "orphan",
)  # fmt: skip
CONTAINED = {"failed", "timeout"}
EXPECTED = {case: CONTAINED for case in CASES} | {"disk_fill": {"failed"}, "network": {"failed"}, "orphan": {"failed"}}
LIMITS = Limits(
    compile_timeout=60, run_timeout=2, memory_mb=768, max_processes=64, max_file_mb=8, scratch_mb=16,
    max_output_bytes=16 * 1024,
)  # fmt: skip
CANARY_TEXT = "the harness owns this file"


@dataclass
class Arena:
    canary: Path
    listener: socket.socket
    marker: str
    scratch: Path


@dataclass
class LanguageRun:
    verdicts: dict[str, object]
    leftovers: list[str]


@pytest.fixture(scope="module")
def arena(tmp_path_factory) -> Arena:
    canary_dir = tmp_path_factory.mktemp("canary")
    canary = canary_dir / "canary.txt"
    canary.write_text(CANARY_TEXT)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.setblocking(False)
    yield Arena(canary, listener, f"octopack-marker-{uuid.uuid4().hex}", tmp_path_factory.mktemp("scratch"))
    listener.close()


@pytest.fixture(scope="module")
def runs(arena) -> dict[str, LanguageRun]:
    return {}


def load_case(language: str, case: str, arena: Arena) -> str:
    text = (CORPUS / language / f"{case}.{EXTENSIONS[language]}").read_text()
    replacements = {
        "__PORT__": str(arena.listener.getsockname()[1]),
        "__CANARY_DIR__": str(arena.canary.parent),
        "__CANARY__": str(arena.canary),
        "__MARKER__": arena.marker,
    }
    for placeholder, value in replacements.items():
        text = text.replace(placeholder, value)
    return text


def run_language(language: str, arena: Arena, runs: dict[str, LanguageRun]) -> LanguageRun:
    if language not in runs:
        try:
            backend = LocalBackend(
                workers=2, store=False, sandbox="bwrap", progress=False, cache_dir=default_cache_dir(),
                scratch_dir=arena.scratch, batch_size=1,
            )  # fmt: skip
        except SandboxUnavailable as e:
            pytest.skip(f"bubblewrap unavailable: {e}")
        programs = [Program(language, load_case(language, case, arena), LIMITS) for case in CASES]
        try:
            verdicts = backend.run(programs)
        except (ValueError, ToolchainMissing) as e:
            pytest.skip(f"{language} cannot run here yet: {e}")
        runs[language] = LanguageRun(dict(zip(CASES, verdicts, strict=True)), surviving_processes(arena))
    return runs[language]


def surviving_processes(arena: Arena) -> list[str]:
    """Processes carrying the marker or living in one of the (deleted) work dirs."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if arena.marker in cmdline or cwd.startswith(str(arena.scratch)):
            found.append(f"{entry.name}: {cmdline[:120]} (cwd {cwd})")
    return found


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("language", list(EXTENSIONS))
def test_hostile_program_is_contained(language: str, case: str, arena: Arena, runs: dict[str, LanguageRun]) -> None:
    run = run_language(language, arena, runs)
    verdict = run.verdicts[case]
    assert verdict.status in EXPECTED[case], f"{language}/{case}: {verdict}"
    assert arena.canary.read_text() == CANARY_TEXT
    assert sorted(p.name for p in arena.canary.parent.iterdir()) == ["canary.txt"]
    with pytest.raises(BlockingIOError):
        arena.listener.accept()  # nobody got through to the host's loopback
    assert run.leftovers == []
    assert list(arena.scratch.iterdir()) == []  # every work dir was removed


@pytest.mark.slow
def test_harness_still_works_after_the_corpus(arena: Arena, runs: dict[str, LanguageRun]) -> None:
    run_language("python", arena, runs)
    backend = LocalBackend(workers=1, store=False, progress=False, scratch_dir=arena.scratch)
    assert backend.run([Program("python", "assert sum([1, 2]) == 3", LIMITS)])[0].status == "passed"


BATCHING = ("python", "js", "go", "java", "cpp", "rust")  # languages that run many programs per sandbox or per compile


def good_program(language: str) -> str:
    if language == "python":
        return "assert sum([1, 2]) == 3"
    if language == "rust":  # no crates: a test binary linking rand/regex/md5 exceeds LIMITS' 8 MB file size
        return "fn main() {}\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn ok() { assert_eq!(1 + 1, 2); }\n}\n"
    if language == "js":
        return "const assert = require('assert');\nassert.deepStrictEqual([1, 2].length, 2);\n"
    from test_executors_languages import PROGRAMS  # the compiled languages' passing tiny programs

    if language == "cpp":  # with the import helper's headers, as HumanEvalPack programs: they can be merged
        from lm_eval_octopack.executors.languages.cpp import HELPER_HEADERS

        return "".join(f"#include<{name}>\n" for name in HELPER_HEADERS) + PROGRAMS["cpp"]["passed"]
    return PROGRAMS[language]["passed"]


@pytest.mark.slow
@pytest.mark.parametrize("language", BATCHING)
def test_hostile_programs_cannot_harm_their_batch_mates(language: str, arena: Arena) -> None:
    """The whole corpus in ONE batch, each attack followed by an honest program: every attack is contained
    and every honest program still passes (what one program does must not decide another's verdict)."""
    backend = LocalBackend(
        workers=1, store=False, sandbox="bwrap", progress=False, cache_dir=default_cache_dir(),
        scratch_dir=arena.scratch, batch_size=64,
    )  # fmt: skip
    good = good_program(language)
    sources = []
    for index, case in enumerate(CASES):
        # distinct honest programs (identical ones would be executed once)
        sources += [load_case(language, case, arena), good + "\n" * (index + 1)]
    try:
        verdicts = backend.run([Program(language, source, LIMITS) for source in sources])
    except (ValueError, ToolchainMissing) as e:
        pytest.skip(f"{language} cannot run here: {e}")
    hostile, honest = verdicts[0::2], verdicts[1::2]
    assert {case: v.status for case, v in zip(CASES, hostile, strict=True) if v.status not in EXPECTED[case]} == {}
    assert [v.status for v in honest] == ["passed"] * len(CASES), [v.detail for v in honest if not v.passed]
    assert arena.canary.read_text() == CANARY_TEXT
    assert surviving_processes(arena) == []
    assert list(arena.scratch.iterdir()) == []
