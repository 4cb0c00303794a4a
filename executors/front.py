"""The executor front: what every backend shares, so that a backend only dispatches programs.

``Backend.run(programs)`` is the front. It deduplicates identical programs (content-addressed by
``Program.digest``), prepares and fingerprints the toolchains before anything runs, answers what it can from the
result store, and hands the rest to the backend's ``execute(programs, on_result)``. Each verdict is stored as soon
as it is known (``error`` verdicts never: the harness failed, not the program). A timeout runs once more, alone,
before it is reported or stored (a loaded machine must not fix a timeout for good; ``OCTOPACK_RETRY_TIMEOUTS=0``
turns that off). On a backend whose ``rerun_slots`` is above 0 (local, Ray) that re-run starts as soon as the
first timeout verdict arrives, in a thread of its own, into the same pool of cores as the rest of the run, so a
hang never keeps a core idle that a re-run could use; other backends re-run their timeouts after the first pass.
The front shows the progress display and keeps a ``RunSummary`` of each run.

Stopping: once a verdict cannot be recorded (a failing store) or the run is interrupted (Ctrl-C), nothing more is
recorded, ``stopping`` is set, and the backend must start no command any more, stop what runs and re-raise; the
front then raises the cause, not the ``Interrupted`` of a job that saw the run stopping.

A new backend is one module: a subclass that implements ``execute``, registered by name in ``registry``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import Interrupted
from .store import ResultStore, default_cache_dir, storable_text
from .toolchains import prepare_languages
from .types import Program, Verdict

OnResult = Callable[[Program, Verdict], None]
OnStart = Callable[[Sequence[Program]], None]
StoreOption = ResultStore | str | os.PathLike | bool | None

SLOW_AFTER_SECONDS = 30.0  # the progress display counts programs running longer than this


@dataclass
class RunSummary:
    """What one ``run`` did. ``timeout_seconds``: run time spent on executions that timed out, re-runs included
    (each timeout verdict's own seconds, about its budget); programs answered by the store cost nothing."""

    programs: int = 0
    distinct: int = 0
    from_store: int = 0
    executed: int = 0
    timeouts: int = 0
    reruns: int = 0
    timeout_seconds: float = 0.0

    def timeouts_line(self) -> str:
        """One line for a person: what the timeouts cost ("" when nothing timed out)."""
        if not self.timeout_seconds:
            return ""
        reruns = f", {self.reruns} re-run alone" if self.reruns else ""
        return (
            f"timeouts: {self.timeouts} of {self.executed} executed programs timed out{reruns}; "
            f"{self.timeout_seconds:.1f} s of run time went to timeouts"
        )


class Backend(ABC):
    """The front every backend inherits. Subclasses implement ``execute`` only.

    store: a ``ResultStore``, a path to the SQLite file, None for ``<cache_dir>/results.sqlite``, or False
      to disable caching.
    cache_dir: toolchain dependencies (prepared here) and the default store (default ``default_cache_dir()``).
    progress: show a live per-language progress display (only on a terminal).
    retry_timeouts: run a program that timed out once more, alone, and report that second verdict (default
      ``$OCTOPACK_RETRY_TIMEOUTS``, on unless it is ``0``). A real hang then costs twice its run timeout.
    """

    def __init__(
        self,
        *,
        store: StoreOption = None,
        cache_dir: str | os.PathLike | None = None,
        progress: bool = True,
        retry_timeouts: bool | None = None,
    ):
        self.cache_dir = Path(cache_dir).absolute() if cache_dir is not None else default_cache_dir()
        self.store = open_store(store, self.cache_dir)
        self.progress = progress
        if retry_timeouts is None:
            retry_timeouts = os.environ.get("OCTOPACK_RETRY_TIMEOUTS", "1").strip() != "0"
        self.retry_timeouts = retry_timeouts
        self.stopping = threading.Event()
        self.last_summary = RunSummary()

    @abstractmethod
    def execute(
        self, programs: Sequence[Program], on_result: OnResult, alone: bool = False, on_start: OnStart | None = None
    ) -> None:
        """Execute every program (no store, no dedup) and call ``on_result`` once per program as soon as its
        verdict is known, from any thread. ``alone``: one program per sandbox, no batching. ``on_start`` (if
        given) is called with the programs a job starts on. If ``on_result`` raises or the caller is
        interrupted, stop everything still running and re-raise; start no command once ``stopping`` is set."""

    def rerun_slots(self) -> int:
        """How many timeout re-runs may run at once in threads of their own while the first pass runs: each is an
        ``execute([program], on_result, alone=True)`` call made concurrently with the others and with the first
        pass. A backend that returns more than 0 promises that concurrent ``execute`` calls share one pool of
        cores (never more programs at once than it has workers) and that each one stops once ``stopping`` is set,
        by whichever call. 0 (the default): the timeouts run again after the first pass, in one call."""
        return 0

    def prepare(self, languages: Iterable[str]) -> dict[str, str]:
        """Prepare the toolchains (raises ``ToolchainMissing`` before anything runs); language -> fingerprint."""
        return prepare_languages(languages, self.cache_dir)

    def run(self, programs: Sequence[Program]) -> list[Verdict]:
        """One verdict per program, in order. Toolchain problems raise before anything executes."""
        programs = list(programs)
        unique = {p.digest: p for p in programs}
        fingerprints = self.prepare({p.language for p in unique.values()})
        verdicts = self._stored(unique, fingerprints)
        summary = RunSummary(programs=len(programs), distinct=len(unique), from_store=len(verdicts))
        self.last_summary = summary
        pending = [p for d, p in unique.items() if d not in verdicts]
        with ProgressDisplay(self.progress, unique.values(), verdicts) as display:
            _Run(self, fingerprints, verdicts, summary, display).execute(pending)
        return [verdicts[p.digest] for p in programs]

    def _stored(self, unique: dict[str, Program], fingerprints: dict[str, str]) -> dict[str, Verdict]:
        if self.store is None:
            return {}
        by_language: dict[str, list[str]] = defaultdict(list)
        for digest, program in unique.items():
            by_language[program.language].append(digest)
        found: dict[str, Verdict] = {}
        for language, digests in by_language.items():
            found.update(self.store.get_many(digests, fingerprints[language]))
        return found


class _Run:
    """One ``run``'s pending programs through the backend: record, display, re-run timeouts, stop."""

    def __init__(
        self,
        backend: Backend,
        fingerprints: dict[str, str],
        verdicts: dict[str, Verdict],
        summary: RunSummary,
        display: ProgressDisplay,
    ):
        self.backend = backend
        self.fingerprints = fingerprints
        self.verdicts = verdicts
        self.summary = summary
        self.display = display
        self.lock = threading.Lock()
        self.failure: BaseException | None = None
        self.timed_out: list[Program] = []  # first-try timeouts left for a second pass (no rerun_slots)
        self.on_start: OnStart | None = None
        self.rerun_at_once = False  # re-run each timeout as it is seen (the backend's rerun_slots > 0)
        self.reruns: ThreadPoolExecutor | None = None
        self.rerun_futures: list[Future] = []

    def execute(self, pending: list[Program]) -> None:
        if not pending:
            return
        stopping = self.backend.stopping
        stopping.clear()
        self.on_start = self._started if self.display.enabled else None  # digests cost ~50 us: only for a display
        slots = self.backend.rerun_slots() if self.backend.retry_timeouts else 0
        self.rerun_at_once = slots > 0
        if self.rerun_at_once:
            self.reruns = ThreadPoolExecutor(slots, thread_name_prefix="octopack-rerun")
        try:
            self._first_pass(pending)
            if self.timed_out:
                self.backend.execute(
                    self.timed_out, self._unless_stopping(self._record), alone=True, on_start=self.on_start
                )
        except Interrupted:
            if self.failure is not None:
                raise self.failure from None  # the cause, not a job that saw the run stopping
            raise
        except BaseException:
            stopping.set()
            raise

    def _first_pass(self, pending: list[Program]) -> None:
        """The backend's pass over ``pending``, then the re-runs it started, all finished (or stopped)."""
        try:
            self.backend.execute(pending, self._unless_stopping(self._first_try), on_start=self.on_start)
        except BaseException:
            self.backend.stopping.set()  # the re-runs in flight stop too
            self._close_reruns()
            raise
        try:
            for future in self._close_reruns():
                future.result()  # a re-run's failure (its store, the run stopping) is the run's
        except BaseException:
            self.backend.stopping.set()
            self._close_reruns()  # Ctrl-C while waiting: the re-runs stop before it propagates
            raise

    def _close_reruns(self) -> list[Future]:
        """No more re-runs start; wait for those submitted. Returns them."""
        with self.lock:
            pool, self.reruns = self.reruns, None
        if pool is not None:
            pool.shutdown(wait=False)
        wait(self.rerun_futures)
        return self.rerun_futures

    def _rerun(self, program: Program) -> None:
        self.backend.execute([program], self._unless_stopping(self._record), alone=True, on_start=self.on_start)

    def _started(self, programs: Sequence[Program]) -> None:
        with self.lock:
            self.display.started(programs)

    def _first_try(self, program: Program, verdict: Verdict) -> None:
        if verdict.status == "timeout" and self.backend.retry_timeouts:
            with self.lock:
                if self.rerun_at_once and self.reruns is None:  # closed: the first pass is stopping
                    raise Interrupted("the run is stopping")
                self.summary.reruns += 1
                self.summary.timeout_seconds += verdict.seconds
                self.display.finished(program)
                if self.rerun_at_once:
                    self.rerun_futures.append(self.reruns.submit(self._rerun, program))
                else:
                    self.timed_out.append(program)
        else:
            self._record(program, verdict)

    def _record(self, program: Program, verdict: Verdict) -> None:
        verdict = storable(verdict)
        with self.lock:
            if self.backend.stopping.is_set():  # another thread's verdict could not be recorded meanwhile
                raise Interrupted("the run is stopping")
            self.verdicts[program.digest] = verdict
            store = self.backend.store
            if store is not None and verdict.status != "error":  # harness errors are retried next time
                try:
                    store.put(program.digest, verdict, self.fingerprints[program.language], program.language)
                except BaseException as failure:
                    self._fail(failure)  # before the lock is let go: no other verdict is recorded after this
                    raise
            self.summary.executed += 1
            if verdict.status == "timeout":
                self.summary.timeouts += 1
                self.summary.timeout_seconds += verdict.seconds
            self.display.advance(program, verdict)

    def _unless_stopping(self, on_result: OnResult) -> OnResult:
        stopping = self.backend.stopping

        def report(program: Program, verdict: Verdict) -> None:
            if stopping.is_set():
                raise Interrupted("the run is stopping")
            try:
                on_result(program, verdict)
            except BaseException as failure:
                self._fail(failure)
                raise

        return report

    def _fail(self, failure: BaseException) -> None:
        """A verdict could not be recorded: the run stops (nothing else may start) and ``failure`` is its cause
        unless it was already stopping."""
        if not self.backend.stopping.is_set():
            self.failure = failure
        self.backend.stopping.set()


def storable(verdict: Verdict) -> Verdict:
    """The verdict with a detail that any UTF-8 sink (the store, a JSON file) accepts."""
    detail = storable_text(verdict.detail)
    return verdict if detail == verdict.detail else Verdict(verdict.status, detail, verdict.seconds)


def open_store(store: StoreOption, cache_dir: Path) -> ResultStore | None:
    """The ``store`` option as a ``ResultStore`` (None: caching off)."""
    if store is False:
        return None
    if isinstance(store, ResultStore):
        return store
    if store is None or store is True:
        return ResultStore(cache_dir / "results.sqlite")
    return ResultStore(store)


class ProgressDisplay:
    """A rich live display: one row per language with done/total, passed, rate, ETA and how many programs have
    been running longer than ``slow_after`` seconds. A program is running from the moment its job starts (a
    batch's programs all start with it) until its verdict is known."""

    def __init__(
        self,
        enabled: bool,
        programs: Iterable[Program],
        already: dict[str, Verdict],
        slow_after: float = SLOW_AFTER_SECONDS,
        console: Any = None,
    ):
        self.enabled = enabled and (console is not None or sys.stderr.isatty())
        self.console = console
        self.slow_after = slow_after
        self.totals: dict[str, int] = defaultdict(int)
        self.done: dict[str, int] = defaultdict(int)
        self.passed: dict[str, int] = defaultdict(int)
        for program in programs:
            self.totals[program.language] += 1
            if program.digest in already:
                self.done[program.language] += 1
                self.passed[program.language] += already[program.digest].passed
        self.running: dict[str, tuple[str, float]] = {}  # digest -> (language, started)
        self.started_at = time.monotonic()
        self.executed = 0
        self.progress = None
        self.rows: dict[str, int] = {}

    def __enter__(self) -> ProgressDisplay:
        if not self.enabled:
            return self
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("[bold]{task.description:>6}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("passed {task.fields[passed]}"),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            _slow_column(self),
            transient=False,
            console=self.console,
        )
        self.progress.start()
        for language, total in sorted(self.totals.items()):
            self.rows[language] = self.progress.add_task(
                language, total=total, completed=self.done[language], passed=self.passed[language], rate=""
            )
        return self

    def started(self, programs: Sequence[Program]) -> None:
        now = time.monotonic()
        for program in programs:
            self.running[program.digest] = (program.language, now)

    def finished(self, program: Program) -> None:
        """The program's run ended without a verdict to show yet (a timeout that runs again)."""
        if self.running:
            self.running.pop(program.digest, None)

    def slow(self, language: str) -> int:
        """How many ``language`` programs have been running longer than ``slow_after`` seconds."""
        since = time.monotonic() - self.slow_after
        return sum(1 for name, started in self.running.copy().values() if name == language and started < since)

    def advance(self, program: Program, verdict: Verdict) -> None:
        self.finished(program)
        language = program.language
        self.done[language] += 1
        self.passed[language] += verdict.passed
        self.executed += 1
        if self.progress is not None:
            elapsed = max(time.monotonic() - self.started_at, 1e-6)
            rate = f"{self.executed / elapsed:.1f}/s"
            self.progress.update(self.rows[language], advance=1, passed=self.passed[language], rate=rate)

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()


def _slow_column(display: ProgressDisplay) -> Any:
    from rich.progress import ProgressColumn
    from rich.text import Text

    class SlowColumn(ProgressColumn):
        """'3 running > 30 s', computed at each refresh."""

        def render(self, task: Any) -> Text:
            count = display.slow(task.description)
            return Text(f"{count} running > {display.slow_after:g} s" if count else "", style="yellow")

    return SlowColumn()
