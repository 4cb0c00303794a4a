"""Issue 16 item 4: a timeout runs again as soon as it is seen, on the same cores as the rest of the run.

Real sandboxes and real Python programs throughout; the instruments only wrap the real backend and sandbox."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
from lm_eval_octopack.executors import Limits, Program, ResultStore, Verdict
from lm_eval_octopack.executors.backends.local import LocalBackend

ONE_SECOND = Limits(run_timeout=1)
HANG = Program("python", "while True:\n    pass", ONE_SECOND)


def quick(count: int, limits: Limits = ONE_SECOND) -> list[Program]:
    return [Program("python", f"assert {i} >= 0", limits) for i in range(count)]


class ProbedSandbox:
    """The real sandbox, counting the commands running at once and noting when each one started."""

    def __init__(self, inner):
        self.inner = inner
        self.lock = threading.Lock()
        self.now = self.most = 0
        self.entered: list[float] = []

    def run(self, *args, **kwargs):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
            self.entered.append(time.monotonic())
        try:
            return self.inner.run(*args, **kwargs)
        finally:
            with self.lock:
                self.now -= 1

    def __getattr__(self, name):
        return getattr(self.inner, name)


class RecordingBackend(LocalBackend):
    """The real local backend, noting when each job starts (and whether it is a re-run) and when the first pass,
    the one call that is not ``alone``, returned."""

    def __init__(self, **options):
        super().__init__(progress=False, batch_size=1, **options)
        self.starts: list[tuple[float, bool, str]] = []
        self.first_pass_done: float | None = None

    def execute(self, programs, on_result, alone=False, on_start=None):
        def started(batch):
            self.starts.extend((time.monotonic(), alone, p.source) for p in batch)
            if on_start is not None:
                on_start(batch)

        try:
            super().execute(programs, on_result, alone=alone, on_start=started)
        finally:
            if not alone:
                self.first_pass_done = time.monotonic()

    def reruns(self) -> list[tuple[float, bool, str]]:
        return [start for start in self.starts if start[1]]


def test_a_hang_is_re_run_while_the_first_pass_still_runs(tmp_path, sandbox):
    backend = RecordingBackend(workers=2, store=False, sandbox=sandbox, cache_dir=tmp_path)
    verdicts = backend.run([HANG, *quick(30)])
    assert [v.status for v in verdicts] == ["timeout"] + ["passed"] * 30
    (rerun,) = backend.reruns()
    assert rerun[2] == HANG.source
    assert rerun[0] < backend.first_pass_done  # not after the pass, as before
    later_quick = [start for start in backend.starts if not start[1] and start[0] > rerun[0]]
    assert later_quick  # the other core went on with the first pass meanwhile
    summary = backend.last_summary
    assert (summary.executed, summary.timeouts, summary.reruns) == (31, 1, 1)
    assert 2.0 <= summary.timeout_seconds < 10


@pytest.mark.parametrize(("workers", "batch_size"), [(1, 1), (2, 1), (2, None)])
def test_never_more_programs_at_once_than_workers(tmp_path, sandbox, workers, batch_size):
    probe = ProbedSandbox(sandbox)
    backend = LocalBackend(
        workers=workers, store=False, sandbox=probe, progress=False, cache_dir=tmp_path, batch_size=batch_size
    )
    hangs = [Program("python", f"while {i} >= 0:\n    pass", ONE_SECOND) for i in range(2)]
    verdicts = backend.run([*hangs, *quick(12)])
    assert [v.status for v in verdicts] == ["timeout"] * 2 + ["passed"] * 12
    assert backend.last_summary.reruns == 2
    assert probe.most == workers  # measured: the limit was reached, never passed


def test_the_re_run_verdict_is_the_one_recorded_and_stored(tmp_path):
    """Unsandboxed so that the program can leave a mark outside its work dir: its first run hangs, its re-run
    passes, as a program slowed down by a loaded machine would."""
    mark, runs = tmp_path / "ran-once", tmp_path / "runs"
    flaky = Program(
        "python",
        f"import os, time\nopen({str(runs)!r}, 'a').write('x')\n"
        f"if not os.path.exists({str(mark)!r}):\n    open({str(mark)!r}, 'w').close()\n    time.sleep(30)\n",
        ONE_SECOND,
    )
    store = ResultStore(tmp_path / "results.sqlite")
    backend = RecordingBackend(workers=2, store=store, sandbox="none", cache_dir=tmp_path)
    verdicts = backend.run([flaky, HANG, *quick(20)])
    assert [v.status for v in verdicts[:2]] == ["passed", "timeout"]
    assert runs.read_text() == "xx"
    assert sorted(source for _, alone, source in backend.starts if alone) == sorted([flaky.source, HANG.source])
    assert store.get(flaky.digest, _fingerprint(backend, "python")).status == "passed"
    assert store.get(HANG.digest, _fingerprint(backend, "python")).status == "timeout"
    assert store.count() == 22


def test_with_the_re_run_off_a_timeout_runs_once(tmp_path, sandbox):
    backend = RecordingBackend(workers=2, store=False, sandbox=sandbox, cache_dir=tmp_path, retry_timeouts=False)
    verdicts = backend.run([HANG, *quick(4)])
    assert [v.status for v in verdicts] == ["timeout"] + ["passed"] * 4
    assert backend.reruns() == [] and [s for _, _, s in backend.starts].count(HANG.source) == 1
    assert (backend.last_summary.reruns, backend.last_summary.timeouts) == (0, 1)


class FailingStore(ResultStore):
    """A real store that cannot write one program's verdict (as a full disk would), noting when that happened."""

    def __init__(self, path, failing_digest: str):
        super().__init__(path)
        self.failing_digest = failing_digest
        self.failed_at: float | None = None
        self.rows_then = 0

    def put(self, digest: str, verdict: Verdict, toolchain: str = "", language: str = "") -> None:
        if digest == self.failing_digest:
            self.rows_then, self.failed_at = self.count(), time.monotonic()
            raise OSError("disk full (test)")
        super().put(digest, verdict, toolchain, language)


def test_a_store_failing_during_a_re_run_stops_the_run_with_its_error(tmp_path, sandbox):
    probe = ProbedSandbox(sandbox)
    store = FailingStore(tmp_path / "results.sqlite", HANG.digest)
    backend = RecordingBackend(workers=2, store=store, sandbox=probe, cache_dir=tmp_path)
    programs = [HANG, *quick(200)]  # far more than the two tries of the hang take
    with pytest.raises(OSError, match="disk full"):
        backend.run(programs)
    assert store.failed_at is not None and backend.reruns()  # it was the re-run's verdict that failed
    assert store.failed_at < backend.first_pass_done  # ...while the first pass still ran
    assert store.count() == store.rows_then < 200  # nothing recorded after the stop
    assert all(entered < store.failed_at + 0.05 for entered in probe.entered)  # nothing started after it
    assert backend.stopping.is_set()
    assert [v.status for v in backend.run(quick(2))] == ["passed", "passed"]  # the next run starts afresh


class InterruptingBackend(RecordingBackend):
    """Ctrl-C (a real SIGINT to the main thread) half a second after the first re-run is handed to the backend."""

    interrupted_at: float | None = None

    def execute(self, programs, on_result, alone=False, on_start=None):
        if alone:
            threading.Timer(0.5, self._interrupt).start()
        super().execute(programs, on_result, alone=alone, on_start=on_start)

    def _interrupt(self) -> None:
        self.interrupted_at = time.monotonic()
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)


def test_ctrl_c_while_only_a_re_run_is_left_stops_it_at_once(tmp_path, sandbox):
    slow_hang = Program("python", "while True:\n    pass", Limits(run_timeout=3))
    store = ResultStore(tmp_path / "results.sqlite")
    backend = InterruptingBackend(workers=2, store=store, sandbox=sandbox, cache_dir=tmp_path)
    with pytest.raises(KeyboardInterrupt):
        backend.run([slow_hang, *quick(2)])
    assert time.monotonic() - backend.interrupted_at < 2.0  # the re-run's 3 s budget was not waited out
    assert backend.first_pass_done < backend.interrupted_at  # the main thread was waiting for the re-run alone
    assert store.get(slow_hang.digest, _fingerprint(backend, "python")) is None
    assert store.count() == 2
    assert _children_left() == 0


def _fingerprint(backend: LocalBackend, language: str) -> str:
    return backend.prepare([language])[language]


def _children_left(patience: float = 2.0) -> int:
    """Live child processes of this test process (a killed sandbox may take a moment to be reaped)."""
    deadline = time.monotonic() + patience
    while True:
        left = 0
        for entry in Path("/proc").iterdir():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            left += entry.name.isdigit() and fields[1] == str(os.getpid()) and fields[0] != "Z"
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def test_the_first_of_several_waiting_jobs_gets_the_core_that_frees():
    from lm_eval_octopack.executors.runtime.batch_server import Cores

    cores, order = Cores(1), []
    release = threading.Event()

    def hold(name: str, first: bool) -> None:
        with cores.held(first=first):
            order.append(name)
            if name == "holder":
                release.wait()

    holder = threading.Thread(target=hold, args=("holder", False))
    holder.start()
    while not order:
        time.sleep(0.01)
    queued = threading.Thread(target=hold, args=("queued", False))
    queued.start()
    time.sleep(0.1)
    rerun = threading.Thread(target=hold, args=("rerun", True))
    rerun.start()
    time.sleep(0.1)
    assert not cores.lend()  # an idle core is never lent while a re-run waits (none is idle here anyway)
    release.set()
    for thread in (holder, queued, rerun):
        thread.join(5)
    assert order == ["holder", "rerun", "queued"]
