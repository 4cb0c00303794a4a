"""Jobs stuck behind a slow job of their batch move to an idle core, and only to an idle one (``batch_server``).

Real bubblewrap and real servers: a command that sleeps holds its server, and the clock shows whether the
commands queued behind it waited for it.
"""

from __future__ import annotations

import contextlib
import threading
import time

import pytest
from lm_eval_octopack.executors.backends.local import LocalBackend
from lm_eval_octopack.executors.runtime.batch_server import BACKEND_CORES, SLOW_AFTER, Cores
from lm_eval_octopack.executors.runtime.exec_batch import Command, run_each
from lm_eval_octopack.executors.types import Limits, Program
from test_executors_languages import cache_dir, workdir  # noqa: F401 (fixtures)

LIMITS = Limits(run_timeout=5.0)
SLEEP = 3.0


def test_a_core_is_lent_only_while_nobody_holds_it():
    cores = Cores(2)
    with cores.held():
        assert cores.lend()  # the second core is idle
        assert not cores.lend()
        entered = threading.Event()

        def another_job():
            with cores.held():
                entered.set()

        waiter = threading.Thread(target=another_job)
        waiter.start()
        assert not entered.wait(0.2)  # a job waits while its core is lent
        cores.give_back()
        assert entered.wait(5)
        waiter.join()


def _run_timed(commands, sandbox, workdir, cores):  # noqa: F811
    arrived: dict[int, float] = {}
    start = time.monotonic()
    token = BACKEND_CORES.set(cores)
    try:

        def on_result(position, _result):
            arrived.setdefault(position, time.monotonic() - start)

        results = run_each(commands, sandbox=sandbox, workdir=workdir, limits=LIMITS, on_result=on_result)
    finally:
        BACKEND_CORES.reset(token)
    return results, arrived


def _sleep_then_quick(count: int = 6) -> list[Command]:
    return [Command(["/bin/sleep", str(SLEEP)], LIMITS.run_timeout)] + [
        Command(["/bin/sh", "-c", f"echo {i}"], LIMITS.run_timeout) for i in range(count)
    ]


def test_commands_behind_a_slow_one_move_to_an_idle_core(sandbox, workdir):  # noqa: F811
    cores = Cores(2)
    with cores.held():  # this job's own core; the other one is idle
        results, arrived = _run_timed(_sleep_then_quick(), sandbox, workdir, cores)
    assert sorted(results) == list(range(7))
    assert [results[i].stdout for i in range(1, 7)] == [f"{i - 1}\n" for i in range(1, 7)]
    assert results[0].returncode == 0 and not results[0].timed_out
    assert all(arrived[i] < SLEEP for i in range(1, 7)), arrived  # they did not wait for the sleeper
    assert arrived[0] >= SLEEP
    assert cores.lend() and cores.lend()  # both cores are free again once the batch is over


@pytest.mark.parametrize("cores", [None, Cores(1)], ids=["no backend", "no idle core"])
def test_without_an_idle_core_the_batch_keeps_its_order(sandbox, workdir, cores):  # noqa: F811
    with cores.held() if cores is not None else contextlib.nullcontext():
        results, arrived = _run_timed(_sleep_then_quick(2), sandbox, workdir, cores)
    assert sorted(results) == [0, 1, 2]
    assert arrived[1] >= SLEEP and arrived[2] >= arrived[1]


def test_a_lent_core_can_split_again(sandbox, workdir):  # noqa: F811
    commands = _sleep_then_quick(0) * 2 + _sleep_then_quick(3)[1:]  # sleep, sleep, 3 quick ones
    cores = Cores(3)
    with cores.held():
        results, arrived = _run_timed(commands, sandbox, workdir, cores)
    assert sorted(results) == list(range(5))
    assert all(arrived[i] < SLEEP + 1.5 for i in (2, 3, 4)), arrived  # behind ONE sleeper, not two
    assert arrived[1] < 2 * SLEEP  # the second sleeper ran beside the first


def test_a_batch_waiting_for_its_lent_tail_gives_its_core_to_queued_work(sandbox, workdir):  # noqa: F811
    """The slow job ends long before the jobs that moved to the lent core: meanwhile, a queued job gets a core."""
    commands = [Command(["/bin/sleep", "1.5"], LIMITS.run_timeout)]
    commands += [Command(["/bin/sleep", "0.5"], LIMITS.run_timeout) for _ in range(6)]
    cores, batch = Cores(2), {}
    start = time.monotonic()

    def owner() -> None:
        with cores.held():
            batch["results"], batch["arrived"] = _run_timed(commands, sandbox, workdir, cores)
        batch["done"] = time.monotonic() - start

    thread = threading.Thread(target=owner)
    thread.start()
    time.sleep(SLOW_AFTER + 0.3)  # the tail has moved to the second core by now
    with cores.held():  # a queued job: no core is free until the slow job's server is done
        queued_at = time.monotonic() - start
    thread.join(30)
    assert sorted(batch["results"]) == list(range(7))
    assert all(batch["results"][i].returncode == 0 for i in range(7))
    assert 1.5 <= queued_at < batch["done"] - 1.0, (queued_at, batch)  # it did not wait for the tail to end
    assert cores.lend() and cores.lend()  # both cores are free again


def test_python_programs_behind_a_hang_finish_on_the_idle_worker(tmp_path, sandbox):  # noqa: F811
    """The local backend, Python's own fork-server mode: one batch, two workers, the first program hangs."""
    limits = Limits(run_timeout=3.0)
    hang = Program("python", "while True:\n    pass\n", limits)
    quick = [Program("python", f"assert {i} == {i}\n", limits) for i in range(10)]
    failing = Program("python", "assert 1 == 2\n", limits)
    backend = LocalBackend(workers=2, store=False, sandbox=sandbox, progress=False, cache_dir=tmp_path)
    arrived: dict[str, tuple[str, float]] = {}
    start = time.monotonic()

    def on_result(program, verdict):
        arrived.setdefault(program.source, (verdict.status, time.monotonic() - start))

    backend.execute([hang, *quick, failing], on_result)
    assert arrived[hang.source][0] == "timeout"
    assert arrived[failing.source][0] == "failed"
    assert all(arrived[p.source][0] == "passed" for p in quick)
    finished_early = [p for p in [*quick, failing] if arrived[p.source][1] < limits.run_timeout]
    assert len(finished_early) == 11, (SLOW_AFTER, arrived)
