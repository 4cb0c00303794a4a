"""The harness side of the batch server (``forkserver.py``): many jobs, one at a time, in one sandbox.

Python programs (``python.py``) and commands (``exec_batch.py``) both run through ``serve``. It starts a
server in a fresh directory and passes each job's record on as soon as it arrives. A server that stops early
is replaced by a fresh one for the jobs after the one it was running; that job is the caller's to judge
(``on_casualty``): Python charges the program with the death, a command is left out for its language's
single path. No record is ever inferred.

Records. The server's output is believed only line by line as its own: each line must carry an HMAC under a
key made for that server (sent on its standard input, which no program can read), a job's result is accepted
only for the job the server last announced as started, once, and announcements only move forward within
the server's jobs. Anything else (a program that reached the channel somehow) is dropped and counted in
``ServerReports.rejected``; the server itself runs as the sandbox's pid 1, so the channel is out of reach.

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
import hashlib
import hmac
import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..sandbox import cpu_seconds
from ..types import Limits
from .language import CommandResult, SandboxRunner

SERVER = Path(__file__).with_name("forkserver.py")
SERVER_START_BUDGET = 30.0  # interpreter start + helper imports, generous for loaded machines
SLOW_AFTER = 1.0  # seconds a job may run before the jobs behind it move to an idle core
POLL_SECONDS = 0.1


class Cores:
    """The backend's cores: each running job holds one; a batch may borrow one that nobody holds or waits for."""

    def __init__(self, total: int):
        self.total = total
        self._busy = 0
        self._first_waiting = 0  # ``held(first=True)`` callers waiting: they get the next free core
        self._changed = threading.Condition()

    @contextlib.contextmanager
    def held(self, first: bool = False) -> Iterator[None]:
        """Hold a core for the duration (waits while all are busy, e.g. lent to a batch). ``first``: before
        every waiter that is not (the re-run of a timeout before queued jobs)."""
        self._take(first)
        try:
            yield
        finally:
            self.give_back()

    @contextlib.contextmanager
    def released(self) -> Iterator[None]:
        """Give the core this thread holds to queued work for the duration (it waits for work that runs on
        other cores), and take one back, before every queued job, afterwards."""
        self.give_back()
        try:
            yield
        finally:
            self._take(first=True)

    def _take(self, first: bool) -> None:
        with self._changed:
            self._first_waiting += first
            try:
                self._changed.wait_for(lambda: self._busy < self.total and (first or not self._first_waiting))
            finally:
                self._first_waiting -= first
            self._busy += 1
            if first:
                self._changed.notify_all()  # the others may go now if a core is still free

    def lend(self) -> bool:
        """Take an idle core if there is one and no ``first`` job waits for it; the borrower calls ``give_back``."""
        with self._changed:
            if self._busy >= self.total or self._first_waiting:
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
    zygote: dict | None = None  # {"argv", "preload"}: a warm process that forks each command (JavaScript)
    report_bytes_per_job: int = 2048


@dataclass
class Served:
    records: dict[int, Any]  # position -> decoded record (or the casualty's value)
    stalled: CommandResult | None = None  # a server that stopped between jobs: the rest were left out
    rejected: int = 0  # report lines of all its servers that were not theirs (``ServerReports.rejected``)


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
    return Served(batch.records, batch.stalled, batch.rejected)


@functools.cache
def server_source() -> str:
    return SERVER.read_text(encoding="utf-8")


class ServerReports:
    """Parses the server's record lines as they stream in: each job's result goes to ``report`` at once.

    Only lines carrying ``key``'s HMAC count; a result only for the job announced as started, once; an
    announcement only for a later job of the ``jobs`` this server was given (see the module docstring)."""

    def __init__(
        self,
        key: bytes,
        jobs: int,
        report: Callable[[int, Any], None],
        decode: Callable[[dict], Any],
        on_start: Callable[[int], None] | None = None,
    ):
        self.key, self.jobs = key, jobs
        self.report, self.decode, self.on_start = report, decode, on_start
        self.buffer = b""
        self.started: int | None = None
        self.done: set[int] = set()
        self.rejected = 0  # non-empty lines that were not the server's own or broke the order

    def feed(self, chunk: bytes) -> None:
        *lines, self.buffer = (self.buffer + chunk).split(b"\n")
        for line in lines:
            if line.strip():
                self._take(line)

    def _take(self, line: bytes) -> None:
        record = self._authentic(line)
        if record is None:
            self.rejected += 1
        elif self._is_start(record.get("start")):
            self.started = record["start"]
            if self.on_start is not None:
                self.on_start(self.started)
        elif self._is_result_of_current(record.get("index")):
            self.done.add(self.started)
            self.report(self.started, self.decode(record))
        else:
            self.rejected += 1

    def _authentic(self, line: bytes) -> dict | None:
        mac, _, payload = line.partition(b" ")
        expected = hmac.new(self.key, payload, hashlib.sha256).hexdigest().encode()
        if not hmac.compare_digest(mac, expected):
            return None
        try:
            record = json.loads(payload)
        except ValueError:
            return None
        return record if isinstance(record, dict) else None

    def _is_result_of_current(self, index: object) -> bool:
        return self.started is not None and index == self.started and index not in self.done

    def _is_start(self, index: object) -> bool:
        in_range = type(index) is int and 0 <= index < self.jobs
        return in_range and (self.started is None or index > self.started)


class _Batch:
    def __init__(self, jobs, spec: ServerSpec, workdir: Path, on_record, on_casualty):
        self.jobs, self.spec, self.workdir = jobs, spec, workdir
        self.on_record, self.on_casualty = on_record, on_casualty
        self.records: dict[int, Any] = {}
        self.stalled: CommandResult | None = None
        self.rejected = 0
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
            "zygote": spec.zygote,
            "limit_file": str(control / "limit"),
        }
        (directory / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        splitter = _Splitter(len(positions), control / "limit", lambda first: self.run(positions[first:]))
        key = secrets.token_bytes(32)
        reports = ServerReports(
            key, len(positions), lambda k, value: self.record(positions[k], value), spec.decode, splitter.started
        )
        with splitter:
            server = spec.sandbox.run(
                [spec.interpreter, "-c", server_source(), "manifest.json"],
                stdin=key.hex() + "\n",
                as_pid_1=True,  # no bubblewrap reaper holding the report pipe
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
        with self._lock:
            self.rejected += reports.rejected
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
            with self.cores.released():  # this server is done: its core may run queued work meanwhile
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
