"""The merged-build engine: many programs compiled as ONE unit, then each run from the shared binary.

A language gives a ``MergedBuild`` (its strategy: how to merge and compile, what to check in the binary, how
to run and read one program from it); the loop and its policy are the same for C++, Rust and Go:

1. merge and compile the group; the programs its errors point at leave (the single path decides them) and the
   rest is compiled again, at most ``POLICY.build_attempts`` builds and while two or more programs remain;
   output that points at no program, or a build that timed out, decides nothing;
2. a build slower than a program's own ``compile_timeout`` decides nothing for it (alone it might time out);
3. the binary runs once per program, each in a fresh process and directory, all through one sandbox per
   limits group (``exec_batch``); a program the shared sandbox gave no answer for runs from the binary alone
   (``MergedBuild.rerun_alone``) or is left to the single path;
4. whatever is still undecided, the language's single path decides (``BatchVerdicts.finish_alone``).

Chunking happens once, in the backend: a batch is the language's ``batch_size`` programs (or the backend's
``batch_size``), merged as they come. ``OCTOPACK_NO_MERGE`` (``cpp,rust``, or ``all``) turns merging off per
language: such a language then runs every program the single way, one per core.
"""

from __future__ import annotations

import abc
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ...types import Limits, Program, Verdict
from ..exec_batch import Command, run_alone, run_each
from ..language import CommandResult, OnVerdict, SandboxRunner, group_by_limits

NO_MERGE_ENV = "OCTOPACK_NO_MERGE"


@dataclass(frozen=True)
class MergePolicy:
    """One policy for every merged build."""

    # Compile errors can stop a compiler before it reaches the next stage (g++ before it links): the third build
    # may still find the link's errors. Each build drops the programs the one before pointed at.
    build_attempts: int = 3
    seconds_per_extra_program: float = 1.0  # compile budget beyond the widest single budget, per extra program
    compile_output_bytes: int = 4 << 20  # a whole batch's compiler errors must come back whole to be attributed
    min_programs: int = 2  # one program alone is cheaper the single way
    # Programs per batch (the backend's chunk, merged whole): the fixed cost of one build spread over them.
    # Measured on the 328 reference programs of each language (benchmarks/README.md, section 3): a Rust crate
    # costs ~0.35 s plus ~0.01 s per program, Go's vet and link ~1 s plus little; a C++ unit grows faster
    # with each program (64 gains nothing over 32). The backend splits a language's programs more finely when
    # that keeps every worker busy.
    programs_per_batch: tuple[tuple[str, int], ...] = (("cpp", 32), ("rust", 64), ("go", 128))


POLICY = MergePolicy()


def merging_enabled(language: str) -> bool:
    """False when ``$OCTOPACK_NO_MERGE`` names ``language`` (or says ``all``)."""
    names = {name.strip().lower() for name in os.environ.get(NO_MERGE_ENV, "").split(",")}
    return not names & {language, "all"}


def merged_batch_size(language: str) -> int:
    """A merging language's ``batch_size``: its programs per batch, or 1 (no batches) with merging off."""
    return dict(POLICY.programs_per_batch)[language] if merging_enabled(language) else 1


def compile_limits(all_limits: Sequence[Limits]) -> Limits:
    """The widest compile budget, the tightest resource limits (a unit that fits them shows each program would
    fit its own), and room for the compiler's errors of the whole batch."""
    return Limits(
        compile_timeout=max(limits.compile_timeout for limits in all_limits),
        run_timeout=max(limits.run_timeout for limits in all_limits),
        memory_mb=min(limits.memory_mb for limits in all_limits),
        max_processes=min(limits.max_processes for limits in all_limits),
        max_file_mb=min(limits.max_file_mb for limits in all_limits),
        scratch_mb=min(limits.scratch_mb for limits in all_limits),
        max_output_bytes=max(POLICY.compile_output_bytes, *(limits.max_output_bytes for limits in all_limits)),
    )


def compile_budget(all_limits: Sequence[Limits]) -> float:
    """Seconds for one merged compile of these programs."""
    widest = max(limits.compile_timeout for limits in all_limits)
    return widest + POLICY.seconds_per_extra_program * (len(all_limits) - 1)


@dataclass
class BuildResult:
    """One merged compile: ``built`` the binary; ``leaving`` the programs its errors point at (None: output no
    program could be blamed for, or a timeout: nothing is decided here); ``decided`` the verdicts the build
    itself is sure of (Go's vet findings)."""

    seconds: float
    built: bool
    leaving: set[int] | None = field(default_factory=set)
    decided: dict[int, Verdict] = field(default_factory=dict)

    @classmethod
    def unclear(cls, seconds: float) -> BuildResult:
        return cls(seconds, built=False, leaving=None)


class MergedBuild(abc.ABC):
    """One language's strategy for one batch, working in ``directory`` (fresh, the batch's own)."""

    rerun_alone: bool = True  # a program the shared sandbox did not report runs from the binary alone

    def __init__(self, directory: Path):
        self.dir = directory

    @abc.abstractmethod
    def build(self, members: dict[int, Program]) -> BuildResult:
        """Merge ``members`` into one unit and compile it (each call a fresh attempt with fewer members)."""

    def admit(self, members: dict[int, Program]) -> float | None:
        """Check the built binary before it runs any program: extra seconds spent, or None to trust it for none."""
        return 0.0

    @abc.abstractmethod
    def command(self, index: int, program: Program) -> Command:
        """The binary's run of one program."""

    @abc.abstractmethod
    def env(self, run_dir: Path) -> dict[str, str]:
        """The environment of runs in ``run_dir``."""

    @abc.abstractmethod
    def read_only_paths(self) -> list[Path]:
        """What the runs need mounted (the binary), outside their directories."""

    @abc.abstractmethod
    def verdict(self, index: int, ran: CommandResult, build_share: float) -> Verdict | None:
        """The program's verdict from its run, read as if it ran alone; None leaves it to the single path."""


def run_merged(
    groups: Sequence[dict[int, Program]],
    make_build: Callable[[Path], MergedBuild],
    workdir: Path,
    sandbox: SandboxRunner,
    decide: OnVerdict,
) -> None:
    """Each group that may share a build through the loop above, in its own directory under ``workdir``;
    ``decide(position, verdict)`` for each program it is sure of."""
    for number, group in enumerate(groups):
        if len(group) < POLICY.min_programs:
            continue
        batch_dir = workdir / f"batch{number:05d}"
        batch_dir.mkdir()
        _run_group(make_build(batch_dir), dict(group), sandbox, decide)
        shutil.rmtree(batch_dir, ignore_errors=True)


def _run_group(build: MergedBuild, members: dict[int, Program], sandbox: SandboxRunner, decide: OnVerdict) -> None:
    built = _compile(build, members, decide)
    if built is None:
        return
    members, seconds = built
    admitted = build.admit(members)
    if admitted is None:
        return
    share = (seconds + admitted) / len(members)
    finished = _run_each(build, members, sandbox, share, decide)
    if build.rerun_alone:
        for index, program in members.items():
            if index not in finished:  # no answer from the shared sandbox (e.g. the program killed it)
                verdict = build.verdict(index, _run_alone(build, index, program, sandbox), share)
                if verdict is not None:
                    decide(index, verdict)


def _compile(
    build: MergedBuild, members: dict[int, Program], decide: OnVerdict
) -> tuple[dict[int, Program], float] | None:
    """Build until the binary is made: (the programs it may run, the seconds of every build), or None."""
    seconds = 0.0
    for _ in range(POLICY.build_attempts):
        if len(members) < POLICY.min_programs:
            return None
        result = build.build(members)
        seconds += result.seconds
        for index, verdict in result.decided.items():
            decide(index, verdict)
        if result.leaving is None:
            return None
        leaving = result.leaving | set(result.decided)
        members = {i: p for i, p in members.items() if i not in leaving}
        if result.built:
            # Alone, each program compiles in less time than the whole unit: but only a unit that finished
            # within a program's own compile_timeout shows that its single compile would not have timed out.
            members = {i: p for i, p in members.items() if result.seconds <= p.limits.compile_timeout}
            return (members, seconds) if members else None
    return None


def _run_each(
    build: MergedBuild, members: dict[int, Program], sandbox: SandboxRunner, share: float, decide: OnVerdict
) -> set[int]:
    """The binary once per program, through one sandbox start per limits group: the programs it reported."""
    finished: set[int] = set()
    indices = list(members)
    for group, (limits, positions) in enumerate(group_by_limits(list(members.values())).items()):
        order = [indices[k] for k in positions]

        def report(k: int, ran: CommandResult, order: list[int] = order) -> None:
            index = order[k]
            finished.add(index)
            verdict = build.verdict(index, ran, share)
            if verdict is not None:
                decide(index, verdict)

        runs_dir = build.dir / f"runs{group}"
        runs_dir.mkdir()
        commands = [build.command(index, members[index]) for index in order]
        run_each(
            commands,
            sandbox=sandbox,
            workdir=runs_dir,
            limits=limits,
            env=build.env(runs_dir),
            read_only_paths=build.read_only_paths(),
            on_result=report,
        )
    return finished


def _run_alone(build: MergedBuild, index: int, program: Program, sandbox: SandboxRunner) -> CommandResult:
    """One program's run of the binary through a one-job server (``run_alone``), in a fresh directory: it ends
    at end of output, as the shared sandbox's runs and the single path's do."""
    run_dir = build.dir / f"run{index:05d}"
    run_dir.mkdir()
    try:
        return run_alone(
            build.command(index, program),
            sandbox=sandbox,
            workdir=run_dir,
            limits=program.limits,
            env=build.env(run_dir),
            read_only_paths=build.read_only_paths(),
        )
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
