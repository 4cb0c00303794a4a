"""The harness side of the batch server (``python_forkserver.py``): many jobs, one at a time, in one sandbox.

Python programs (``python.py``) and commands (``exec_batch.py``) both run through ``serve``. It starts a
server in a fresh directory and passes each job's record on as soon as it arrives. A server that stops early
is replaced by a fresh one for the jobs after the one it was running; that job is the caller's to judge
(``on_casualty``): Python charges the program with the death, a command is left out for its language's
single path. No record is ever inferred.

Idle cores. A job that runs long (a hang runs until its deadline) holds up every job queued behind it in its
server. When the local backend has a core with nothing to do, as at the end of a run, the server is told to
stop after its current job (a limit file, read-only to it, that it reads before each job) and a second
server on that core takes the jobs behind. A core is only ever lent while idle, so no more jobs run at once
than the backend has workers, and no program gets less CPU than it would have had alone.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..sandbox import cpu_seconds
from ..types import Limits
from .base import CommandResult, SandboxRunner

SERVER = Path(__file__).with_name("python_forkserver.py")
SERVER_START_BUDGET = 30.0  # interpreter start + helper imports, generous for loaded machines
SLOW_AFTER = 1.0  # seconds a job may run before the jobs behind it move to an idle core
POLL_SECONDS = 0.1


class Cores:
    """The backend's cores: each running job holds one; a batch may borrow one that nobody holds."""

    def __init__(self, total: int):
        self.total = total
        self._busy = 0
        self._changed = threading.Condition()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Hold a core for the duration (waits while all are busy, e.g. lent to a batch)."""
        with self._changed:
            self._changed.wait_for(lambda: self._busy < self.total)
            self._busy += 1
        try:
            yield
        finally:
            self.give_back()

    def lend(self) -> bool:
        """Take an idle core if there is one; the borrower calls ``give_back``."""
        with self._changed:
            if self._busy >= self.total:
                return False
            self._busy += 1
            return True

    def give_back(self) -> None:
        with self._changed:
            self._busy -= 1
            self._changed.notify_all()


#: The cores of the backend running this thread's job; None (no lending) outside the local backend.
BACKEND_CORES: contextvars.ContextVar[Cores | None] = contextvars.ContextVar("octopack_cores", default=None)


@dataclass(frozen=True)
class ServerSpec:
    """What every server of one batch shares."""

    interpreter: str
    sandbox: SandboxRunner
    limits: Limits  # the sandbox's own limits (memory, processes, scratch size)
    decode: Callable[[dict], Any]  # a job's JSON record -> what the caller gets
    env: dict[str, str] = field(default_factory=dict)
    read_only_paths: Sequence[Path] = ()
    preload: bool = True  # import the HumanEvalPack helper modules before the first job (Python programs)
    jobs_in_tmp: bool = False  # per-job directories under the sandbox's private /tmp instead of the server's
    report_bytes_per_job: int = 2048


@dataclass
class Served:
    records: dict[int, Any]  # position -> decoded record (or the casualty's value)
    stalled: CommandResult | None = None  # a server that stopped between jobs: the rest were left out


def serve(
    jobs: Sequence[dict],
    spec: ServerSpec,
    workdir: Path,
    on_record: Callable[[int, Any], None] | None = None,
    on_casualty: Callable[[int, CommandResult], Any] = lambda position, server: None,
) -> Served:
    """Run ``jobs`` (manifest entries without ``cpu_seconds``, which is added here) through as many servers as it takes; see the module docstring.

    ``on_record(position, value)`` sees each result once, from one thread at a time. ``on_casualty(position,
    server result)`` returns the value for a job whose server died while running it, or None to leave it out."""
    jobs = [{**job, "cpu_seconds": cpu_seconds(job["timeout"])} for job in jobs]  # what sandbox.run would set
    batch = _Batch(jobs, spec, workdir, on_record, on_casualty)
    batch.run(list(range(len(jobs))))
    return Served(batch.records, batch.stalled)


@functools.cache
def server_source() -> str:
    return SERVER.read_text(encoding="utf-8")


class ServerReports:
    """Parses the server's JSON lines as they stream in: each job's result goes to ``report`` at once."""

    def __init__(self, report: Callable[[int, Any], None], decode: Callable[[dict], Any], on_start=None):
        self.report, self.decode, self.on_start = report, decode, on_start
        self.buffer = b""
        self.started: int | None = None
        self.done: set[int] = set()

    def feed(self, chunk: bytes) -> None:
        *lines, self.buffer = (self.buffer + chunk).split(b"\n")
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # an empty or truncated line
            if "start" in record:
                self.started = record["start"]
                if self.on_start is not None:
                    self.on_start(self.started)
            elif "index" in record and record["index"] not in self.done:
                self.done.add(record["index"])
                self.report(record["index"], self.decode(record))


class _Batch:
    def __init__(self, jobs, spec: ServerSpec, workdir: Path, on_record, on_casualty):
        self.jobs, self.spec, self.workdir = jobs, spec, workdir
        self.on_record, self.on_casualty = on_record, on_casualty
        self.records: dict[int, Any] = {}
        self.stalled: CommandResult | None = None
        self._lock = threading.Lock()
        self._names = itertools.count()

    def record(self, position: int, value: Any) -> None:
        with self._lock:
            if position in self.records:  # a job both servers started around a split: the first result stands
                return
            self.records[position] = value
            if self.on_record is not None:
                self.on_record(position, value)

    def run(self, positions: list[int]) -> None:
        while positions:
            positions = self._one_server(positions)

    def _one_server(self, positions: list[int]) -> list[int]:
        """One server over ``positions``; returns those a replacement server must run."""
        name = next(self._names)
        directory, control = self.workdir / f"server{name}", self.workdir / f"control{name}"
        directory.mkdir()
        control.mkdir()
        spec, isolated = self.spec, bool(getattr(self.spec.sandbox, "sandboxed", False))
        private = ["/tmp", "/dev/shm"] if isolated else []  # only a sandbox's /tmp and /dev/shm are its own
        scratch = [*private, str(directory)] if spec.jobs_in_tmp and isolated else [str(directory), *private]
        manifest = {
            "programs": [self.jobs[p] for p in positions],
            "scratch": scratch,
            "isolated": isolated,
            "preload": spec.preload,
            "limit_file": str(control / "limit"),
        }
        (directory / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        splitter = _Splitter(len(positions), control / "limit", lambda first: self.run(positions[first:]))
        reports = ServerReports(lambda k, value: self.record(positions[k], value), spec.decode, splitter.started)
        with splitter:
            server = spec.sandbox.run(
                [spec.interpreter, "-c", server_source(), "manifest.json"],
                workdir=directory,
                timeout=SERVER_START_BUDGET + sum(self.jobs[p]["timeout"] + 2 for p in positions),
                limits=dataclasses.replace(
                    spec.limits,
                    max_output_bytes=max(spec.limits.max_output_bytes, spec.report_bytes_per_job * len(positions)),
                ),
                env={**spec.env, "PYTHONDONTWRITEBYTECODE": "1"},
                read_only_paths=[*spec.read_only_paths, control],
                on_stdout=reports.feed,
            )
            reports.feed(b"\n")  # a last line without its newline
            splitter.stop_watching()
        mine = positions[: splitter.limit]
        if all(p in self.records for p in mine):
            return []
        if reports.started is None or reports.started >= len(mine) or mine[reports.started] in self.records:
            self.stalled = server
            return []
        casualty = mine[reports.started]
        value = self.on_casualty(casualty, server)
        if value is not None:
            self.record(casualty, value)
        return [p for p in mine[reports.started + 1 :] if p not in self.records]


class _Splitter:
    """Watches one server: once its current job has run ``SLOW_AFTER`` seconds with jobs behind it and the
    backend has an idle core, it caps the server at that job and runs the jobs behind on the lent core."""

    def __init__(self, jobs: int, limit_file: Path, run_rest: Callable[[int], None]):
        self.jobs, self.limit_file, self.run_rest = jobs, limit_file, run_rest
        self.limit = jobs
        self.cores = BACKEND_CORES.get()
        self._current: tuple[int, float] | None = None
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._rest: threading.Thread | None = None
        self._rest_error: BaseException | None = None

    def started(self, index: int) -> None:
        self._current = (index, time.monotonic())

    def __enter__(self) -> _Splitter:
        if self.cores is not None and self.jobs > 1:
            self._watcher = threading.Thread(target=self._watch, name="octopack-split", daemon=True)
            self._watcher.start()
        return self

    def stop_watching(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join()

    def __exit__(self, *exc) -> None:
        self.stop_watching()
        if self._rest is not None:
            self._rest.join()
        if self._rest_error is not None and exc[0] is None:
            raise self._rest_error

    def _watch(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            current = self._current
            if current is None or current[0] + 1 >= self.jobs or time.monotonic() - current[1] < SLOW_AFTER:
                continue
            if self.cores.lend():
                self._split(current[0] + 1)
                return

    def _split(self, first: int) -> None:
        partial = self.limit_file.with_suffix(".partial")
        partial.write_text(str(first), encoding="ascii")
        partial.replace(self.limit_file)  # the server never reads half a number
        self.limit = first
        self._rest = threading.Thread(target=self._run_rest, args=(first,), name="octopack-rest")
        self._rest.start()

    def _run_rest(self, first: int) -> None:
        BACKEND_CORES.set(self.cores)  # the lent core's server may split again
        try:
            self.run_rest(first)
        except BaseException as e:  # re-raised in the thread that owns the batch
            self._rest_error = e
        finally:
            self.cores.give_back()
