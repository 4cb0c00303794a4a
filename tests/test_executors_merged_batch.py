"""The merged-build engine's one policy for C++, Rust and Go: chunking is the backend's (a batch is merged
whole), and ``OCTOPACK_NO_MERGE`` turns merging off per language without changing a verdict."""

from __future__ import annotations

import pytest
from lm_eval_octopack.executors.backends.local import LocalBackend
from lm_eval_octopack.executors.registry import get_language
from lm_eval_octopack.executors.runtime.merged.engine import (
    NO_MERGE_ENV,
    POLICY,
    compile_budget,
    compile_limits,
    merged_batch_size,
    merging_enabled,
)
from lm_eval_octopack.executors.types import Limits, Program
from test_executors_cpp_batch import RecordingSandbox, cpp_program
from test_executors_go_batch import ASSERT_OK, go_program
from test_executors_languages import QUICK, cache_dir, workdir  # noqa: F401 (fixtures)
from test_executors_rust_batch import ONE, Recording, rust_program

MERGING = ("cpp", "rust", "go")


def _sources(language: str) -> list[str]:
    """A passing, a failing and a non-compiling program."""
    if language == "cpp":
        return [
            cpp_program("int f() { return 1; }"),
            cpp_program("int f() { return 1; }", "assert(f() == 2);"),
            cpp_program("int f() { return missing; }"),
        ]
    if language == "rust":
        return [rust_program(ONE), rust_program(ONE, "assert_eq!(f(), 2);"), rust_program('fn f() -> i32 { "s" }')]
    return [
        go_program(f"func TestA(t *testing.T) {{ {ASSERT_OK} }}\n"),
        go_program("func TestA(t *testing.T) { assert.New(t).Equal(3, 1+1) }\n"),
        go_program("func TestA(t *testing.T) { x := 1 }\n"),
    ]


def _merged_builds(language: str, calls: list[list[str]]) -> int:
    """How many merged compiles (or links) a recorded run made."""
    markers = {"cpp": "batch.cpp", "rust": "batch.rs", "go": "batch.test"}
    return sum(1 for argv in calls if markers[language] in argv)


def test_the_switch_names_languages_or_all(monkeypatch):
    assert [merged_batch_size(name) for name in MERGING] == [32, 64, 128]  # the backend's chunk, merged whole
    monkeypatch.setenv(NO_MERGE_ENV, "rust, go")
    assert [merging_enabled(name) for name in MERGING] == [True, False, False]
    assert [get_language(name).batch_size for name in MERGING] == [32, 1, 1]  # the backend then sends them alone
    monkeypatch.setenv(NO_MERGE_ENV, "all")
    assert not any(merging_enabled(name) for name in MERGING)
    monkeypatch.delenv(NO_MERGE_ENV)
    assert all(merging_enabled(name) for name in MERGING)


def test_one_policy_for_budgets_and_limits():
    tight, wide = Limits(compile_timeout=30, memory_mb=4096), Limits(compile_timeout=90, memory_mb=1024)
    assert compile_budget([tight, wide, tight]) == 90 + 2 * POLICY.seconds_per_extra_program
    limits = compile_limits([tight, wide])
    assert limits.compile_timeout == 90 and limits.memory_mb == 1024
    assert limits.max_output_bytes == POLICY.compile_output_bytes


@pytest.mark.parametrize("language", MERGING)
def test_merging_off_gives_the_same_verdicts(language, workdir, sandbox, cache_dir, monkeypatch):  # noqa: F811
    """Off, every program builds alone (the single path); on, they share a build: the verdicts agree."""
    implementation = get_language(language)
    programs = [Program(language, source, QUICK) for source in _sources(language)]
    merged_dir, alone_dir = workdir / "merged", workdir / "alone"
    merged_dir.mkdir()
    alone_dir.mkdir()
    merged = RecordingSandbox(sandbox)
    with_merging = implementation.execute_batch(programs, merged_dir, merged, cache_dir)
    assert implementation.batch_size > 1 and _merged_builds(language, merged.commands) >= 1

    monkeypatch.setenv(NO_MERGE_ENV, language)
    alone = RecordingSandbox(sandbox)
    without = implementation.execute_batch(programs, alone_dir, alone, cache_dir)
    assert implementation.batch_size == 1  # the backend then sends each program to a worker of its own
    assert _merged_builds(language, alone.commands) == 0
    assert [v.status for v in without] == [v.status for v in with_merging] == ["passed", "failed", "compile_error"]


def test_the_backend_chunk_is_merged_whole(sandbox, cache_dir):  # noqa: F811
    """``LocalBackend(batch_size=N)`` merges N programs in one build (a language no longer re-chunks)."""
    count = 70  # more than Rust's own batch size (64)
    sources = [rust_program(ONE, f"assert_eq!(f() + {k}, 1 + {k});") for k in range(count)]
    recording = Recording(sandbox)
    backend = LocalBackend(
        workers=1, store=False, sandbox=recording, progress=False, cache_dir=cache_dir, batch_size=count
    )
    verdicts = backend.run([Program("rust", source, QUICK) for source in sources])
    assert [v.status for v in verdicts] == ["passed"] * count
    assert recording.compiles("--test") == 1 and sorted(recording.merged_runs()) == list(range(count))
