"""The Ray backend: shards of programs run as ``@ray.remote`` tasks across a cluster.

The driver is the front (dedup, store, preparation, progress, the timeout re-run); this module only ships shards.
A shard is one language's programs: by default one of its batches (``batch_size`` programs, at least
``MIN_AUTO_SHARD``) per CPU the task reserves, in a number of shards that the cluster's slots share evenly
(``plan_shards``), so that no CPU idles while another runs a big last shard. Each shard is a Ray generator task:
its verdicts stream back as its jobs report them, so the front re-runs a timeout (a one-program shard submitted
from a thread of its own) while the shard that timed out goes on; Ray schedules it by ``num_cpus`` like any
shard, so it waits for a free CPU. Every shard goes through the same ``LocalBackend`` code path inside the worker
(toolchain preparation on that node, sandbox, per-program scratch dirs), so verdicts are identical to a local
run. Each node needs the toolchains (``executors/install_toolchains.sh``) and this package installed.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from itertools import zip_longest
from pathlib import Path
from typing import Any

from ..errors import ExecutionInfrastructureError, Interrupted
from ..front import Backend, OnResult, OnStart, StoreOption, open_store
from ..registry import get_language
from ..runtime.batch_server import Cores
from ..store import default_cache_dir
from ..types import Program, Verdict
from .local import LocalBackend, balanced_chunk

STOP_POLL_SECONDS = 0.1  # how often a waiting call looks whether another call stopped the run
RESERVE_SECONDS = 0.5  # how long a shard waits for a holder task to start on an idle CPU of its node
HOLDER_POLL_SECONDS = 0.5  # how often a holder task looks whether its shard still runs
MIN_AUTO_SHARD = 32  # programs per automatic shard at least, so that a task's own start stays small beside them
RAY_MISSING = "the ray backend needs Ray: `pip install 'lm-eval-octopack[ray]'` (or `pip install ray`)"


def run_shard(programs: list[Program], options: dict[str, Any]) -> Iterator[list[tuple[int, Verdict]]]:
    """Executed inside a Ray worker: one shard through a store-less, display-less LocalBackend that leaves the
    timeout re-run to the driver. Yields (position in ``programs``, verdict) pairs as its jobs report them."""
    cores = ClusterCores(options["workers"], _import_ray())
    backend = LocalBackend(store=False, progress=False, retry_timeouts=False, cores=cores, **options)
    backend.prepare({program.language for program in programs})
    position = {id(program): index for index, program in enumerate(programs)}
    reported: queue.Queue = queue.Queue()  # pairs, then None when the shard is done
    failure: list[BaseException] = []

    def execute() -> None:
        try:
            backend.execute(programs, lambda program, verdict: reported.put((position[id(program)], verdict)))
        except BaseException as e:  # raised again below, in the task, which Ray reports to the driver
            failure.append(e)
        finally:
            reported.put(None)

    thread = threading.Thread(target=execute, name="octopack-shard", daemon=True)
    thread.start()
    finished = False
    while not finished:
        arrived = [reported.get()]
        while not reported.empty():  # what else has arrived travels in the same object
            arrived.append(reported.get())
        finished = arrived[-1] is None
        pairs = [pair for pair in arrived if pair is not None]
        if pairs:
            yield pairs
    thread.join()
    if failure:
        raise failure[0]


class ClusterCores(Cores):
    """A shard's cores, which may also lend a batch stuck behind a slow program an idle CPU of this node: a
    holder task pinned to the node reserves it (``num_cpus=1``) until the borrowed core is given back, so a
    shard never runs more programs at once than the CPUs Ray gave it."""

    def __init__(self, total: int, ray: Any):
        super().__init__(total)
        self._ray = ray
        self._node = ray.get_runtime_context().get_node_id()
        self._holders: list[Any] = []

    def lend(self) -> bool:
        if super().lend():
            return True
        holder = self._reserve_cpu()
        if holder is None:
            return False
        with self._changed:
            self._busy += 1
            self._holders.append(holder)
        return True

    def give_back(self) -> None:
        with self._changed:
            holder = self._holders.pop() if self._holders and self._busy > self.total else None
        if holder is not None:
            self._ray.cancel(holder)
        super().give_back()

    def _reserve_cpu(self) -> Any:
        """A running holder task on this node, or None when no CPU of it is free now."""
        ray = self._ray
        if ray.available_resources().get("CPU", 0) < 1:
            return None
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        pinned = NodeAffinitySchedulingStrategy(self._node, soft=False)
        holder = ray.remote(num_cpus=1, max_retries=0, scheduling_strategy=pinned)(hold_cpu).remote(os.getpid())
        ready, _ = ray.wait([holder], timeout=RESERVE_SECONDS)
        if not ready:  # another task took the CPU first, or it is another node's
            ray.cancel(holder)
            return None
        return holder


def hold_cpu(owner_pid: int) -> Iterator[None]:
    """A Ray generator task that holds its CPU: it yields once it runs, then sleeps until it is cancelled or the
    shard's worker process (``owner_pid``, on the same node) is gone."""
    yield None
    while _alive(owner_pid):
        time.sleep(HOLDER_POLL_SECONDS)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def plan_shards(
    programs: Sequence[Program], slots: int, workers_per_shard: int = 1, shard_size: int | None = None
) -> list[list[Program]]:
    """One language per shard, at most ``shard_size`` programs (default: the language's ``batch_size``, at least
    ``MIN_AUTO_SHARD``, per worker of the shard), in a number of shards that is a multiple of ``slots`` and as
    even as they go; languages interleaved, as the local backend interleaves its jobs."""
    by_language: dict[str, list[Program]] = defaultdict(list)
    for program in programs:
        by_language[program.language].append(program)
    streams = []
    for name, items in by_language.items():
        size = shard_size or max(MIN_AUTO_SHARD, get_language(name).batch_size) * workers_per_shard
        per_shard = balanced_chunk(len(items), size, slots)
        streams.append([items[i : i + per_shard] for i in range(0, len(items), per_shard)])
    return [shard for row in zip_longest(*streams) for shard in row if shard is not None]


class RayBackend(Backend):
    """address: a Ray cluster address (default ``$OCTOPACK_RAY_ADDRESS``; none = start/join a local one).
    shard_size: at most this many programs per remote task (default: automatic, see ``plan_shards``).
    workers_per_shard: concurrent programs inside one task (= CPUs reserved per task).
    sandbox: "bwrap"/"none" for the workers (a runner object cannot travel to other machines).
    cache_dir: the workers' cache dir (default: each worker's own ``default_cache_dir()``); the driver's
      store lives in ``store`` or ``<default cache dir>/results.sqlite``.
    init_options: extra keyword arguments for ``ray.init``.
    workers: accepted for symmetry with LocalBackend; same as workers_per_shard.
    store, progress, retry_timeouts: the front's (``front.Backend``)."""

    def __init__(
        self,
        address: str | None = None,
        shard_size: int | None = None,
        workers_per_shard: int = 1,
        store: StoreOption = None,
        sandbox: str | None = None,
        progress: bool = True,
        cache_dir: str | os.PathLike | None = None,
        init_options: dict[str, Any] | None = None,
        workers: int | None = None,
        retry_timeouts: bool | None = None,
    ):
        if sandbox is not None and not isinstance(sandbox, str):
            raise TypeError("RayBackend takes sandbox as a mode name ('bwrap' or 'none')")
        super().__init__(
            store=open_store(store, default_cache_dir()),
            cache_dir=cache_dir,
            progress=progress,
            retry_timeouts=retry_timeouts,
        )
        self.address = address or os.environ.get("OCTOPACK_RAY_ADDRESS")
        self.shard_size = None if shard_size is None else max(1, shard_size)
        self.workers_per_shard = max(1, workers or workers_per_shard)
        self.sandbox = sandbox
        self.worker_cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.init_options = init_options or {}

    def rerun_slots(self) -> int:
        """``front.Backend.rerun_slots``: as many re-runs at once as the cluster has shards' worth of CPUs (Ray
        queues the rest of the tasks)."""
        ray = _import_ray()
        self._connect(ray)
        return max(1, int(ray.cluster_resources().get("CPU", 1)) // self.workers_per_shard)

    def execute(
        self, programs: Sequence[Program], on_result: OnResult, alone: bool = False, on_start: OnStart | None = None
    ) -> None:
        """``front.Backend.execute``: one remote generator task per shard, each verdict reported as its shard
        streams it (Ray does not say when a task starts, so ``on_start`` is not called). Safe to call from
        several threads; each call cancels its shards once the run stops, in it or in another call."""
        if not programs:
            return
        ray = _import_ray()
        self._connect(ray)
        remote = ray.remote(num_cpus=self.workers_per_shard, max_retries=1)(run_shard)
        options = {
            "workers": self.workers_per_shard,
            "sandbox": self.sandbox,
            "cache_dir": str(self.worker_cache_dir) if self.worker_cache_dir else None,
            "batch_size": 1 if alone else None,
        }
        if alone:
            shards = [list(programs)]
        else:
            shards = plan_shards(programs, self.rerun_slots(), self.workers_per_shard, self.shard_size)
        in_flight = {remote.remote(shard, options): (shard, set()) for shard in shards}
        try:
            while in_flight:
                ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=STOP_POLL_SECONDS)
                if self.stopping.is_set():
                    raise Interrupted("the run is stopping")
                for stream in ready:
                    _report_next(ray, stream, in_flight, on_result)
        except BaseException:  # Ctrl-C, a store that cannot write: stop the shards still running
            self.stopping.set()
            for stream in in_flight:
                ray.cancel(stream, force=True)
            raise

    def _connect(self, ray: Any) -> None:
        if not ray.is_initialized():
            ray.init(address=self.address, ignore_reinit_error=True, **self.init_options)


def _report_next(ray: Any, stream: Any, in_flight: dict, on_result: OnResult) -> None:
    """The next verdicts a shard streamed, each reported once (a retried task streams its programs again), or
    its end, which must have reported every program of the shard."""
    shard, reported = in_flight[stream]
    try:
        pairs = ray.get(next(stream))
    except StopIteration:
        del in_flight[stream]
        if len(reported) != len(shard):
            raise ExecutionInfrastructureError(
                f"a Ray shard ended after {len(reported)} of its {len(shard)} verdicts"
            ) from None
        return
    for position, verdict in pairs:
        if position not in reported:
            reported.add(position)
            on_result(shard[position], verdict)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as e:
        raise ImportError(RAY_MISSING) from e
    return ray
