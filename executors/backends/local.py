"""The local backend: a pool of worker threads, each running one sandboxed program (or batch) at a time.

Threads suffice: every program runs in its own sandboxed process, the thread only waits on it. Dedup, the result
store, toolchain preparation, progress and the timeout re-run are the front's (``executors/front.py``); this module
only dispatches programs to the cores. A batch stuck behind a slow program hands the programs behind it to an idle
core (``batch_server``). ``execute`` may be called from several threads at once (the front re-runs each timeout
as soon as it is seen): all calls share the backend's one ``Cores``, so no more programs run at once than there
are workers, and a re-run (``alone``) takes the next free core before queued first-pass jobs. When the run stops
(Ctrl-C, a failing store, in any call) no command starts any more, every call kills the running sandboxes, and
the exception propagates.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import shutil
import signal
import stat
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path
from typing import TypeVar

from ..errors import ExecutionInfrastructureError, Interrupted
from ..front import Backend, OnResult, OnStart, StoreOption
from ..registry import get_language
from ..runtime.batch_server import BACKEND_CORES, Cores
from ..runtime.language import SandboxRunner
from ..sandbox import make_sandbox
from ..store import ensure_writable_dir
from ..types import Program, Verdict, excerpt

STOP_PATIENCE_SECONDS = 5.0  # how long an interrupted run waits for its running jobs after killing their processes
STOP_POLL_SECONDS = 0.1  # how often a waiting call looks whether another call stopped the run

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class _Job:
    """What one core runs: a language's chunk through ``execute_batch``, or one program through ``execute``."""

    programs: list[Program]
    batched: bool


def balanced_chunk(programs: int, size: int, workers: int) -> int:
    """At most ``size`` programs per chunk, in a number of chunks that the workers share evenly (a multiple of
    them), so that no core idles while another builds the last big chunk."""
    chunks = -(-programs // max(1, size))
    chunks = -(-chunks // workers) * workers
    return max(1, -(-programs // chunks))


def interleave_languages(programs: Sequence[Program], split: Callable[[str, list[Program]], list[T]]) -> list[T]:
    """``split(language, its programs)`` for each language, the parts interleaved (one of each language in turn),
    so that cheap and compile-heavy languages share the cores."""
    by_language: dict[str, list[Program]] = defaultdict(list)
    for program in programs:
        by_language[program.language].append(program)
    streams = [split(name, items) for name, items in by_language.items()]
    return [part for row in zip_longest(*streams) for part in row if part is not None]


def default_workers() -> int:
    return int(os.environ.get("OCTOPACK_WORKERS") or 0) or os.cpu_count() or 1


class LocalBackend(Backend):
    """Run programs on this machine.

    workers: concurrent programs (default ``$OCTOPACK_WORKERS`` or the number of cores; more gives no
      throughput and inflates latency, which turns wall-clock limits into false timeouts).
    sandbox: "bwrap" (default), "none" (explicit opt-out, no isolation), or any ``SandboxRunner``.
    batch_size: chunk size for languages that batch (their ``batch_size`` above 1; here 1 = never batch; None =
      at most each language's own ``batch_size``, in a number of chunks that is a multiple of ``workers``).
    scratch_dir: parent of the per-program work dirs (default ``<cache_dir>/scratch``); each is deleted after use.
    store, progress, cache_dir, retry_timeouts: the front's (``front.Backend``).
    """

    def __init__(
        self,
        workers: int | None = None,
        store: StoreOption = None,
        sandbox: str | SandboxRunner | None = None,
        progress: bool = True,
        cache_dir: str | os.PathLike | None = None,
        batch_size: int | None = None,
        scratch_dir: str | os.PathLike | None = None,
        retry_timeouts: bool | None = None,
    ):
        super().__init__(store=store, cache_dir=cache_dir, progress=progress, retry_timeouts=retry_timeouts)
        self.workers = max(1, int(workers or default_workers()))
        self.sandbox = sandbox if sandbox is not None and not isinstance(sandbox, str) else make_sandbox(sandbox)
        self.batch_size = None if batch_size is None else max(1, batch_size)
        self.scratch = Path(scratch_dir).absolute() if scratch_dir is not None else self.cache_dir / "scratch"
        self._running_sandbox = _StoppableSandbox(self.sandbox, self.stopping)
        self.cores = Cores(self.workers)  # shared by concurrent ``execute`` calls
        self._calls = 0
        self._calls_lock = threading.Lock()

    def rerun_slots(self) -> int:
        """``front.Backend.rerun_slots``: concurrent calls share ``self.cores``."""
        return self.workers

    def execute(
        self, programs: Sequence[Program], on_result: OnResult, alone: bool = False, on_start: OnStart | None = None
    ) -> None:
        """``front.Backend.execute``: jobs on a pool of ``workers`` threads, each holding one of the backend's
        cores while it runs (``alone`` jobs first). An exception (KeyboardInterrupt included), or the run
        stopping in another call, stops every running job before it propagates."""
        if not programs:
            return
        ensure_writable_dir(self.scratch, "scratch directory")
        jobs = list(self._jobs(programs, alone))
        cores = self.cores

        def on_a_core(job: _Job) -> None:
            with cores.held(first=alone):
                BACKEND_CORES.set(cores)  # a batch stuck behind a slow program may borrow an idle core
                if on_start is not None:
                    on_start(job.programs)
                self._run_job(job, on_result)

        pool = ThreadPoolExecutor(min(self.workers, len(jobs)), thread_name_prefix="octopack-exec")
        running: set[Future] = set()
        with self._call():
            try:
                for job in jobs:  # keep the queue short so an interrupt does not wait for thousands of jobs
                    running.add(pool.submit(contextvars.copy_context().run, on_a_core, job))
                    if len(running) >= 2 * self.workers:
                        running = self._wait(running, FIRST_COMPLETED)
                self._wait(running)
            except BaseException:
                self._stop(pool, running)
                raise
        pool.shutdown()

    @contextlib.contextmanager
    def _call(self) -> Iterator[None]:
        """One ``execute`` call; the first of concurrent calls starts a new run (clears ``stopping``), the
        others join it and never clear a stop in progress."""
        with self._calls_lock:
            if self._calls == 0:
                self.stopping.clear()
            self._calls += 1
        try:
            yield
        finally:
            with self._calls_lock:
                self._calls -= 1

    def _wait(self, running: set[Future], return_when: str = "ALL_COMPLETED") -> set[Future]:
        """Wait as ``concurrent.futures.wait`` does, raising a job's failure, or ``Interrupted`` once another call
        stopped the run. Returns the futures still running."""
        while running:
            done, running = wait(running, timeout=STOP_POLL_SECONDS, return_when=return_when)
            _raise_failures(done)
            if done and return_when == FIRST_COMPLETED:
                break
            if self.stopping.is_set():
                raise Interrupted("the run is stopping")
        return running

    def _stop(self, pool: ThreadPoolExecutor, running: set[Future]) -> None:
        """No command starts any more; kill the running ones and wait (bounded) for their jobs to return."""
        self.stopping.set()
        pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + STOP_PATIENCE_SECONDS
        while running and time.monotonic() < deadline:
            kill_child_process_groups()
            _, running = wait(running, timeout=0.05)
        if running:
            log.warning("%d execution jobs did not stop within %.0f s", len(running), STOP_PATIENCE_SECONDS)

    def _jobs(self, programs: Sequence[Program], alone: bool = False) -> list[_Job]:
        """Per-program (or per-chunk for batching languages) jobs, languages interleaved."""
        return interleave_languages(programs, lambda name, items: list(self._language_jobs(name, items, alone)))

    def _language_jobs(self, name: str, programs: list[Program], alone: bool) -> Iterator[_Job]:
        language = get_language(name)
        size = 1 if alone else self.batch_size or balanced_chunk(len(programs), language.batch_size, self.workers)
        if language.batch_size > 1 and size > 1 and len(programs) > 1:
            for i in range(0, len(programs), size):
                yield _Job(programs[i : i + size], batched=True)
        else:
            yield from (_Job([program], batched=False) for program in programs)

    def _run_job(self, job: _Job, on_result: OnResult) -> None:
        if job.batched:
            self._run_batch(job.programs, on_result)
        else:
            on_result(job.programs[0], self.run_one(job.programs[0]))

    def run_one(self, program: Program) -> Verdict:
        language = get_language(program.language)
        with self._workdir() as workdir:
            try:
                return language.execute(program, workdir, self._running_sandbox, self.cache_dir)
            except Exception as e:  # a harness bug must not abort a 100k-program run
                if self.stopping.is_set():
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
            if self.stopping.is_set():
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


def _raise_failures(done: set[Future]) -> None:
    for future in done:
        future.result()
