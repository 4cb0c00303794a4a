"""The Ray backend: shards of programs run as ``@ray.remote`` tasks across a cluster.

The driver is the front (dedup, store, preparation, progress, the timeout re-run); this module only ships shards.
A shard is one language's programs: by default one of its batches (``batch_size`` programs, at least
``MIN_AUTO_SHARD``) per CPU the task reserves, in a number of shards that the cluster's CPUs share evenly
(``plan_shards``), so that no CPU idles while another runs a big last shard.
The front re-runs each timeout as soon as it is seen, a one-program shard submitted from a thread of its own while
the first pass goes on; Ray schedules it by ``num_cpus`` like any shard, so it waits for a free CPU.
Every shard goes through the same ``LocalBackend`` code path inside the worker (toolchain preparation on that
node, sandbox, per-program scratch dirs), so verdicts are identical to a local run. Each node needs the
toolchains (``executors/install_toolchains.sh``) and this package installed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import Interrupted
from ..front import Backend, OnResult, OnStart, StoreOption, open_store
from ..registry import get_language
from ..store import default_cache_dir
from ..types import Program, Verdict
from .local import LocalBackend, balanced_chunk, interleave_languages

STOP_POLL_SECONDS = 0.1  # how often a waiting call looks whether another call stopped the run
MIN_AUTO_SHARD = 32  # programs per automatic shard at least, so that a task's own start stays small beside them
RAY_MISSING = "the ray backend needs Ray: `pip install 'lm-eval-octopack[ray]'` (or `pip install ray`)"


def run_shard(programs: list[Program], options: dict[str, Any]) -> list[Verdict]:
    """Executed inside a Ray worker: one shard through a store-less, display-less LocalBackend that leaves the
    timeout re-run to the driver."""
    return LocalBackend(store=False, progress=False, retry_timeouts=False, **options).run(programs)


def plan_shards(
    programs: Sequence[Program], slots: int, workers_per_shard: int = 1, shard_size: int | None = None
) -> list[list[Program]]:
    """One language per shard, at most ``shard_size`` programs (default: the language's ``batch_size``, at least
    ``MIN_AUTO_SHARD``, per worker of the shard), in a number of shards that is a multiple of ``slots`` and as
    even as they go; languages interleaved, as the local backend interleaves its jobs."""

    def split(name: str, items: list[Program]) -> list[list[Program]]:
        size = shard_size or max(MIN_AUTO_SHARD, get_language(name).batch_size) * workers_per_shard
        per_shard = balanced_chunk(len(items), size, slots)
        return [items[i : i + per_shard] for i in range(0, len(items), per_shard)]

    return interleave_languages(programs, split)


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
        """``front.Backend.execute``: one remote task per shard, verdicts reported as each shard completes
        (Ray does not say when a task starts, so ``on_start`` is not called). Safe to call from several threads;
        each call cancels its shards once the run stops, in it or in another call."""
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
        in_flight = {remote.remote(shard, options): shard for shard in shards}
        try:
            while in_flight:
                done, _ = ray.wait(list(in_flight), num_returns=1, timeout=STOP_POLL_SECONDS)
                if self.stopping.is_set():
                    raise Interrupted("the run is stopping")
                if not done:
                    continue
                shard = in_flight.pop(done[0])
                for program, verdict in zip(shard, ray.get(done[0]), strict=True):
                    on_result(program, verdict)
        except BaseException:  # Ctrl-C, a store that cannot write: stop the shards still running
            self.stopping.set()
            for ref in in_flight:
                ray.cancel(ref, force=True)
            raise

    def _connect(self, ray: Any) -> None:
        if not ray.is_initialized():
            ray.init(address=self.address, ignore_reinit_error=True, **self.init_options)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as e:
        raise ImportError(RAY_MISSING) from e
    return ray
