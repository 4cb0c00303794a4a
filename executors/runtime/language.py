"""The contract a language module fulfils. One module per language lives in ``executors/languages/``.

A language module knows how to find its toolchain, set up its shared dependencies once
(cached on disk), and turn one ``Program`` into one ``Verdict`` by compiling and running it
*through the sandbox it is given*. It never spawns processes itself: every command goes
through ``SandboxRunner.run`` so that isolation, limits and cleanup live in one place.
"""

from __future__ import annotations

import abc
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..types import Limits, Program, Verdict


@dataclass
class CommandResult:
    returncode: int | None  # None when killed for timeout
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False
    output_truncated: bool = False


class SandboxRunner(Protocol):
    """Runs one command isolated (no network, private size-capped scratch dir, read-only
    rest of the filesystem, rlimits, process-tree kill on timeout). ``on_stdout`` sees every chunk of
    standard output as it arrives (a batch runner's progress reports); ``as_pid_1`` makes the command the
    sandbox's pid 1 (no reaper holding its pipes; ignored unsandboxed)."""

    def run(
        self,
        argv: Sequence[str],
        *,
        workdir: Path,
        timeout: float,
        limits: Limits,
        env: dict[str, str] | None = None,
        stdin: str | None = None,
        read_only_paths: Sequence[Path] = (),
        on_stdout: Callable[[bytes], None] | None = None,
        as_pid_1: bool = False,
    ) -> CommandResult: ...


@dataclass
class ToolReport:
    """What `doctor` prints for one language."""

    language: str
    ok: bool
    found: dict[str, str] = field(default_factory=dict)  # tool/dependency -> version or path
    missing: list[str] = field(default_factory=list)
    how_to_install: str = ""


OnVerdict = Callable[[int, Verdict], None]


class Language(abc.ABC):
    """One language: ``check``, ``prepare`` and ``execute`` are its own; batching and a custom toolchain
    fingerprint are optional, with the defaults below (no batching, the versions ``check`` found)."""

    name: str  # "python", "js", "java", "go", "cpp", "rust"
    batch_size: int = 1  # programs per ``execute_batch`` call that its fixed per-batch cost is best spread over

    @abc.abstractmethod
    def check(self, cache_dir: Path) -> ToolReport:
        """Report toolchain and dependency availability. Must be cheap and side-effect free."""

    @abc.abstractmethod
    def prepare(self, cache_dir: Path) -> None:
        """Set up shared dependencies once (idempotent, cached under cache_dir)."""

    @abc.abstractmethod
    def execute(self, program: Program, workdir: Path, sandbox: SandboxRunner, cache_dir: Path) -> Verdict:
        """Build and run one program inside ``workdir`` (a fresh private directory)."""

    def execute_batch(
        self,
        programs: Sequence[Program],
        workdir: Path,
        sandbox: SandboxRunner,
        cache_dir: Path,
        on_verdict: OnVerdict | None = None,
    ) -> list[Verdict]:
        """Run many programs, calling ``on_verdict(position, verdict)`` as soon as each is known (a killed run
        loses nothing already finished). Languages that can share a sandbox or a compile override this and set
        ``batch_size`` above 1; by default each program runs alone."""
        return BatchVerdicts(on_verdict).finish_alone(self, programs, workdir, sandbox, cache_dir)

    def fingerprint(self, cache_dir: Path) -> str | None:
        """What a cached verdict depends on besides the program, if more than the versions ``check`` reports."""
        return None

    def toolchain_roots(self) -> list[Path]:
        """Where the toolchain is installed, shown read-only in every sandbox (found the way ``execute`` finds
        the tools; [] when missing)."""
        return []


def group_by_limits(programs: Sequence[Program]) -> dict[Limits, list[int]]:
    """Positions of the programs sharing each ``Limits``: one sandbox (one memory cgroup) per group."""
    groups: dict[Limits, list[int]] = {}
    for position, program in enumerate(programs):
        groups.setdefault(program.limits, []).append(position)
    return groups


class BatchVerdicts:
    """The verdicts of one ``execute_batch`` call by position: each passed on to ``on_verdict`` as soon as it is
    known; whatever the batch left undecided is decided by the language's single path."""

    def __init__(self, on_verdict: OnVerdict | None = None):
        self.known: dict[int, Verdict] = {}
        self.on_verdict = on_verdict

    def decide(self, position: int, verdict: Verdict) -> None:
        self.known[position] = verdict
        if self.on_verdict is not None:
            self.on_verdict(position, verdict)

    def finish_alone(
        self, language: Language, programs: Sequence[Program], workdir: Path, sandbox: SandboxRunner, cache_dir: Path
    ) -> list[Verdict]:
        for position, program in enumerate(programs):
            if position not in self.known:
                single_dir = workdir / f"single{position:05d}"
                single_dir.mkdir()
                self.decide(position, language.execute(program, single_dir, sandbox, cache_dir))
                shutil.rmtree(single_dir, ignore_errors=True)
        return [self.known[i] for i in range(len(programs))]
