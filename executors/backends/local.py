"""The local backend: a pool of worker threads, each running one sandboxed program at a time.

Threads suffice: every program runs in its own sandboxed process, the thread only waits on it. The run is
content-addressed (identical programs execute once), resumable (the result store is consulted first and
written as each program finishes) and fails fast (toolchains are checked and prepared before anything runs).
A batch stuck behind a slow program hands the programs behind it to an idle core (``batch_server``).
A timeout is run once more, alone, before it is reported or stored (a loaded machine must not fix a timeout for
good). An interrupt (Ctrl-C) or a failing store stops the run at once: no command starts any more, the running
sandboxes are killed, and nothing decided after that point is stored.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import shutil
import signal
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

from ..errors import ExecutionInfrastructureError, Interrupted
from ..registry import get_language
from ..runtime.batch_server import BACKEND_CORES, Cores
from ..runtime.language import SandboxRunner
from ..sandbox import make_sandbox
from ..store import ResultStore, default_cache_dir, ensure_writable_dir, storable_text
from ..toolchains import prepare_languages
from ..types import Program, Verdict, excerpt

STOP_PATIENCE_SECONDS = 5.0  # how long an interrupted run waits for its running jobs after killing their processes

log = logging.getLogger(__name__)

OnResult = Callable[[Program, Verdict], None]


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
    batch_size: chunk size for languages that batch (their ``batch_size`` above 1; here 1 = never batch; None =
      each language's own ``batch_size``).
    scratch_dir: parent of the per-program work dirs (default ``<cache_dir>/scratch``); each is deleted after use.
    retry_timeouts: run a program that timed out once more, alone, and report that second verdict (default
      ``$OCTOPACK_RETRY_TIMEOUTS``, on unless it is ``0``). A real hang then costs twice its run timeout.
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
        retry_timeouts: bool | None = None,
    ):
        self.workers = max(1, int(workers or default_workers()))
        self.cache_dir = Path(cache_dir).absolute() if cache_dir is not None else default_cache_dir()
        self.store = _open_store(store, self.cache_dir)
        self.sandbox = sandbox if sandbox is not None and not isinstance(sandbox, str) else make_sandbox(sandbox)
        self.progress = progress
        self.batch_size = None if batch_size is None else max(1, batch_size)
        self.scratch = Path(scratch_dir).absolute() if scratch_dir is not None else self.cache_dir / "scratch"
        if retry_timeouts is None:
            retry_timeouts = os.environ.get("OCTOPACK_RETRY_TIMEOUTS", "1").strip() != "0"
        self.retry_timeouts = retry_timeouts
        self._stopping = threading.Event()
        self._running_sandbox = _StoppableSandbox(self.sandbox, self._stopping)

    def run(self, programs: Sequence[Program]) -> list[Verdict]:
        """One verdict per program, in order. Toolchain problems raise before anything executes."""
        programs = list(programs)
        unique = {p.digest: p for p in programs}
        fingerprints = prepare_languages({p.language for p in unique.values()}, self.cache_dir)
        verdicts = self._cached(unique, fingerprints)
        pending = [p for d, p in unique.items() if d not in verdicts]

        def record(program: Program, verdict: Verdict) -> None:
            verdict = _storable(verdict)
            verdicts[program.digest] = verdict
            if self.store is not None and verdict.status != "error":  # harness errors are retried next time
                self.store.put(program.digest, verdict, fingerprints[program.language], program.language)

        lock = threading.Lock()
        timed_out: list[Program] = []
        with _Display(self.progress, unique.values(), verdicts) as display:

            def on_result(program: Program, verdict: Verdict) -> None:
                with lock:
                    record(program, verdict)
                    display.advance(program, verdict)

            def first_try(program: Program, verdict: Verdict) -> None:
                if verdict.status == "timeout" and self.retry_timeouts:
                    with lock:
                        timed_out.append(program)
                else:
                    on_result(program, verdict)

            self.execute(pending, first_try)
            self.execute(timed_out, on_result, alone=True)
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

    def execute(self, programs: Sequence[Program], on_result: OnResult, alone: bool = False) -> None:
        """Execute (no cache lookup, no dedup) and report each verdict as soon as it is known.
        ``alone``: one program per sandbox, no batching. An exception (KeyboardInterrupt included) stops every
        running job before it propagates; verdicts of stopped jobs are not reported."""
        if not programs:
            return
        ensure_writable_dir(self.scratch, "scratch directory")
        jobs = list(self._jobs(programs, alone))
        cores = Cores(self.workers)
        self._stopping.clear()
        self._failure: BaseException | None = None

        def on_a_core(job: Callable[[OnResult], None]) -> None:
            with cores.held():
                BACKEND_CORES.set(cores)  # a batch stuck behind a slow program may borrow an idle core
                job(self._unless_stopping(on_result))

        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="octopack-exec")
        running: set[Future] = set()
        try:
            for job in jobs:  # keep the queue short so an interrupt does not wait for thousands of jobs
                running.add(pool.submit(contextvars.copy_context().run, on_a_core, job))
                if len(running) >= 2 * self.workers:
                    done, running = wait(running, return_when=FIRST_COMPLETED)
                    _raise_failures(done)
            done, running = wait(running)
            _raise_failures(done)
        except BaseException as stopped_by:
            self._stop(pool, running)
            if isinstance(stopped_by, Interrupted) and self._failure is not None:
                raise self._failure from None  # the cause, not a job that saw the run stopping
            raise
        pool.shutdown()

    def _unless_stopping(self, on_result: OnResult) -> OnResult:
        def report(program: Program, verdict: Verdict) -> None:
            if self._stopping.is_set():
                raise Interrupted("the run is stopping")
            try:
                on_result(program, verdict)
            except BaseException as failure:
                if not self._stopping.is_set():
                    self._failure = failure
                self._stopping.set()  # a store that cannot write stops the run: nothing else may start
                raise

        return report

    def _stop(self, pool: ThreadPoolExecutor, running: set[Future]) -> None:
        """No command starts any more; kill the running ones and wait (bounded) for their jobs to return."""
        self._stopping.set()
        pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + STOP_PATIENCE_SECONDS
        while running and time.monotonic() < deadline:
            kill_child_process_groups()
            _, running = wait(running, timeout=0.05)
        if running:
            log.warning("%d execution jobs did not stop within %.0f s", len(running), STOP_PATIENCE_SECONDS)

    def _jobs(self, programs: Sequence[Program], alone: bool = False) -> Iterator[Callable[[OnResult], None]]:
        """Per-program (or per-chunk for batching languages) jobs, languages interleaved so cheap and
        compile-heavy languages share the cores."""
        by_language: dict[str, list[Program]] = defaultdict(list)
        for program in programs:
            by_language[program.language].append(program)
        streams = [list(self._language_jobs(name, items, alone)) for name, items in by_language.items()]
        for row in zip_longest(*streams):
            yield from (job for job in row if job is not None)

    def _language_jobs(self, name: str, programs: list[Program], alone: bool) -> Iterator[Callable[[OnResult], None]]:
        language = get_language(name)
        size = 1 if alone else self.batch_size or language.batch_size
        if language.batch_size > 1 and size > 1 and len(programs) > 1:
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
                return language.execute(program, workdir, self._running_sandbox, self.cache_dir)
            except Exception as e:  # a harness bug must not abort a 100k-program run
                if self._stopping.is_set():
                    raise
                if isinstance(e, (OSError, ExecutionInfrastructureError)):  # the machine: its verdict says why
                    log.debug("a %s program could not be executed: %s", program.language, e)
                else:
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
                verdicts = language.execute_batch(
                    chunk, workdir, self._running_sandbox, self.cache_dir, on_verdict=on_verdict
                )
            if len(verdicts) != len(chunk):
                raise RuntimeError(f"execute_batch returned {len(verdicts)} verdicts for {len(chunk)} programs")
        except Exception:
            if self._stopping.is_set():
                raise
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


class _StoppableSandbox:
    """The backend's sandbox, refusing to start a command once the run is stopping."""

    def __init__(self, inner: SandboxRunner, stopping: threading.Event):
        self._inner = inner
        self._stopping = stopping

    def run(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201 (SandboxRunner.run's signature)
        if self._stopping.is_set():
            raise Interrupted("the run is stopping")
        return self._inner.run(*args, **kwargs)

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._inner, name)


def kill_child_process_groups() -> None:
    """SIGKILL every process group led by a child of this process that leads its own session: each sandbox
    starts that way, so this reaches the sandboxes and what they started (their own cleanup still runs)."""
    me = str(os.getpid())
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _is_own_session_child(entry, me):
            with contextlib.suppress(OSError):
                os.killpg(int(entry.name), signal.SIGKILL)


def _is_own_session_child(proc_dir: Path, parent: str) -> bool:
    try:
        state_onwards = (proc_dir / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    _state, ppid, pgrp, session = state_onwards[:4]
    return ppid == parent and pgrp == session == proc_dir.name


def _storable(verdict: Verdict) -> Verdict:
    detail = storable_text(verdict.detail)
    return verdict if detail == verdict.detail else Verdict(verdict.status, detail, verdict.seconds)


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
