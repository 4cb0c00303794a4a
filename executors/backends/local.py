"""The local backend: a pool of worker threads, each running one sandboxed program at a time.

Threads suffice: every program runs in its own sandboxed process, the thread only waits on it. The run is
content-addressed (identical programs execute once), resumable (the result store is consulted first and
written as each program finishes) and fails fast (toolchains are checked and prepared before anything runs).
A batch stuck behind a slow program hands the programs behind it to an idle core (``batch_server``).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import shutil
import stat
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from itertools import zip_longest
from pathlib import Path

from ..languages.base import SandboxRunner
from ..languages.batch_server import BACKEND_CORES, Cores
from ..registry import get_language
from ..sandbox import make_sandbox
from ..store import ResultStore, default_cache_dir
from ..toolchains import prepare_languages
from ..types import Program, Verdict, excerpt

log = logging.getLogger(__name__)

OnResult = Callable[[Program, Verdict], None]
DEFAULT_BATCH_SIZE = 16


def default_workers() -> int:
    return int(os.environ.get("OCTOPACK_WORKERS") or 0) or os.cpu_count() or 1


class LocalBackend:
    """Run programs on this machine.

    workers: concurrent programs (default ``$OCTOPACK_WORKERS`` or the number of cores; more gives no
      throughput and inflates latency, which turns wall-clock limits into false timeouts).
    store: a ``ResultStore``, a path to the SQLite file, None for ``<cache_dir>/results.sqlite``, or False
      to disable caching.
    sandbox: "bwrap" (default), "none" (explicit opt-out, no isolation), or any ``SandboxRunner``.
    progress: show a live per-language progress display (only on a terminal).
    cache_dir: toolchain dependencies, scratch dirs and the default store (default ``default_cache_dir()``).
    batch_size: chunk size for languages that offer ``execute_batch`` (1 = never batch; None = each language's
      own ``batch_size``, or ``DEFAULT_BATCH_SIZE``).
    scratch_dir: parent of the per-program work dirs (default ``<cache_dir>/scratch``); each is deleted after use.
    """

    def __init__(
        self,
        workers: int | None = None,
        store: ResultStore | str | os.PathLike | bool | None = None,
        sandbox: str | SandboxRunner | None = None,
        progress: bool = True,
        cache_dir: str | os.PathLike | None = None,
        batch_size: int | None = None,
        scratch_dir: str | os.PathLike | None = None,
    ):
        self.workers = max(1, int(workers or default_workers()))
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.store = _open_store(store, self.cache_dir)
        self.sandbox = sandbox if sandbox is not None and not isinstance(sandbox, str) else make_sandbox(sandbox)
        self.progress = progress
        self.batch_size = None if batch_size is None else max(1, batch_size)
        self.scratch = Path(scratch_dir) if scratch_dir is not None else self.cache_dir / "scratch"

    def run(self, programs: Sequence[Program]) -> list[Verdict]:
        """One verdict per program, in order. Toolchain problems raise before anything executes."""
        programs = list(programs)
        unique = {p.digest: p for p in programs}
        fingerprints = prepare_languages({p.language for p in unique.values()}, self.cache_dir)
        verdicts = self._cached(unique, fingerprints)
        pending = [p for d, p in unique.items() if d not in verdicts]

        def record(program: Program, verdict: Verdict) -> None:
            verdicts[program.digest] = verdict
            if self.store is not None and verdict.status != "error":  # harness errors are retried next time
                self.store.put(program.digest, verdict, fingerprints[program.language], program.language)

        lock = threading.Lock()
        with _Display(self.progress, unique.values(), verdicts) as display:

            def on_result(program: Program, verdict: Verdict) -> None:
                with lock:
                    record(program, verdict)
                    display.advance(program, verdict)

            self.execute(pending, on_result)
        return [verdicts[p.digest] for p in programs]

    def _cached(self, unique: dict[str, Program], fingerprints: dict[str, str]) -> dict[str, Verdict]:
        if self.store is None:
            return {}
        by_language: dict[str, list[str]] = defaultdict(list)
        for digest, program in unique.items():
            by_language[program.language].append(digest)
        found: dict[str, Verdict] = {}
        for language, digests in by_language.items():
            found.update(self.store.get_many(digests, fingerprints[language]))
        return found

    def execute(self, programs: Sequence[Program], on_result: OnResult) -> None:
        """Execute (no cache lookup, no dedup) and report each verdict as soon as it is known."""
        if not programs:
            return
        self.scratch.mkdir(parents=True, exist_ok=True)
        jobs = list(self._jobs(programs))
        cores = Cores(self.workers)

        def on_a_core(job: Callable[[OnResult], None]) -> None:
            with cores.held():
                BACKEND_CORES.set(cores)  # a batch stuck behind a slow program may borrow an idle core
                job(on_result)

        with ThreadPoolExecutor(self.workers, thread_name_prefix="octopack-exec") as pool:
            running: set[Future] = set()
            for job in jobs:  # keep the queue short so an interrupt does not wait for thousands of jobs
                running.add(pool.submit(contextvars.copy_context().run, on_a_core, job))
                if len(running) >= 2 * self.workers:
                    done, running = wait(running, return_when=FIRST_COMPLETED)
                    _raise_failures(done)
            done, _ = wait(running)
            _raise_failures(done)

    def _jobs(self, programs: Sequence[Program]) -> Iterator[Callable[[OnResult], None]]:
        """Per-program (or per-chunk for batching languages) jobs, languages interleaved so cheap and
        compile-heavy languages share the cores."""
        by_language: dict[str, list[Program]] = defaultdict(list)
        for program in programs:
            by_language[program.language].append(program)
        streams = [list(self._language_jobs(name, items)) for name, items in by_language.items()]
        for row in zip_longest(*streams):
            yield from (job for job in row if job is not None)

    def _language_jobs(self, name: str, programs: list[Program]) -> Iterator[Callable[[OnResult], None]]:
        language = get_language(name)
        size = self.batch_size or getattr(language, "batch_size", DEFAULT_BATCH_SIZE)
        if callable(getattr(language, "execute_batch", None)) and size > 1 and len(programs) > 1:
            for i in range(0, len(programs), size):
                chunk = programs[i : i + size]
                yield lambda on_result, chunk=chunk: self._run_batch(chunk, on_result)
        else:
            for program in programs:
                yield lambda on_result, program=program: on_result(program, self.run_one(program))

    def run_one(self, program: Program) -> Verdict:
        language = get_language(program.language)
        with self._workdir() as workdir:
            try:
                return language.execute(program, workdir, self.sandbox, self.cache_dir)
            except Exception as e:  # a harness bug must not abort a 100k-program run
                log.exception("executing a %s program failed inside the harness", program.language)
                return Verdict("error", excerpt(f"{type(e).__name__}: {e}"))

    def _run_batch(self, chunk: list[Program], on_result: OnResult) -> None:
        language = get_language(chunk[0].language)
        reported: set[int] = set()

        def on_verdict(position: int, verdict: Verdict) -> None:
            if position not in reported:
                reported.add(position)
                on_result(chunk[position], verdict)

        try:
            with self._workdir() as workdir:
                verdicts = language.execute_batch(chunk, workdir, self.sandbox, self.cache_dir, on_verdict=on_verdict)
            if len(verdicts) != len(chunk):
                raise RuntimeError(f"execute_batch returned {len(verdicts)} verdicts for {len(chunk)} programs")
        except Exception:
            log.warning("batch of %d %s programs failed; running the rest one by one", len(chunk), language.name)
            verdicts = None
        for index, program in enumerate(chunk):
            if index not in reported:
                on_verdict(index, verdicts[index] if verdicts is not None else self.run_one(program))

    @contextlib.contextmanager
    def _workdir(self) -> Iterator[Path]:
        path = Path(tempfile.mkdtemp(prefix="run-", dir=self.scratch))
        try:
            yield path
        finally:
            remove_tree(path)


def remove_tree(path: Path) -> None:
    """rm -rf that also copes with directories a program made unreadable or read-only."""

    def make_writable_and_retry(function, failed_path, _exc_info):
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(failed_path), stat.S_IRWXU)
            os.chmod(failed_path, stat.S_IRWXU)
            function(failed_path)

    shutil.rmtree(path, onerror=make_writable_and_retry)
    if path.exists():
        shutil.rmtree(path, ignore_errors=True)


def _open_store(store: ResultStore | str | os.PathLike | bool | None, cache_dir: Path) -> ResultStore | None:
    if store is False:
        return None
    if isinstance(store, ResultStore):
        return store
    if store is None or store is True:
        return ResultStore(cache_dir / "results.sqlite")
    return ResultStore(store)


def _raise_failures(done: set[Future]) -> None:
    for future in done:
        future.result()


class _Display:
    """A rich live display: one row per language with done/total, passed, rate and ETA."""

    def __init__(self, enabled: bool, programs, already: dict[str, Verdict]):
        self.enabled = enabled and sys.stderr.isatty()
        self.totals: dict[str, int] = defaultdict(int)
        self.done: dict[str, int] = defaultdict(int)
        self.passed: dict[str, int] = defaultdict(int)
        for program in programs:
            self.totals[program.language] += 1
            if program.digest in already:
                self.done[program.language] += 1
                self.passed[program.language] += already[program.digest].passed
        self.started = time.monotonic()
        self.executed = 0
        self.progress = None
        self.rows: dict[str, int] = {}

    def __enter__(self) -> _Display:
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
            transient=False,
        )
        self.progress.start()
        for language, total in sorted(self.totals.items()):
            self.rows[language] = self.progress.add_task(
                language, total=total, completed=self.done[language], passed=self.passed[language], rate=""
            )
        return self

    def advance(self, program: Program, verdict: Verdict) -> None:
        language = program.language
        self.done[language] += 1
        self.passed[language] += verdict.passed
        self.executed += 1
        if self.progress is not None:
            elapsed = max(time.monotonic() - self.started, 1e-6)
            rate = f"{self.executed / elapsed:.1f}/s"
            self.progress.update(self.rows[language], advance=1, passed=self.passed[language], rate=rate)

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.stop()
