"""The Ray backend: shards of programs run as ``@ray.remote`` tasks across a cluster.

Every shard goes through the same ``LocalBackend`` code path inside the worker (toolchain preparation,
sandbox, per-program scratch dirs), so verdicts are identical to a local run. The driver deduplicates,
consults its result store first and writes each shard's verdicts as the shard completes. Each node needs
the toolchains (``executors/install_toolchains.sh``) and this package installed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..store import ResultStore, default_cache_dir
from ..toolchains import prepare_languages
from ..types import Program, Verdict
from .local import LocalBackend, _Display, _open_store

RAY_MISSING = "the ray backend needs Ray: `pip install 'lm-eval-octopack[ray]'` (or `pip install ray`)"


def run_shard(programs: list[Program], options: dict[str, Any]) -> list[Verdict]:
    """Executed inside a Ray worker: a store-less, display-less LocalBackend run of one shard."""
    return LocalBackend(store=False, progress=False, **options).run(programs)


class RayBackend:
    """address: a Ray cluster address (default ``$OCTOPACK_RAY_ADDRESS``; none = start/join a local one).
    shard_size: programs per remote task (hundreds keep scheduling overhead negligible).
    workers_per_shard: concurrent programs inside one task (= CPUs reserved per task).
    sandbox: "bwrap"/"none" for the workers (a runner object cannot travel to other machines).
    cache_dir: the workers' cache dir (default: each worker's own ``default_cache_dir()``); the driver's
      store lives in ``store`` or ``<default cache dir>/results.sqlite``.
    init_options: extra keyword arguments for ``ray.init``.
    workers: accepted for symmetry with LocalBackend; same as workers_per_shard."""

    def __init__(
        self,
        address: str | None = None,
        shard_size: int = 256,
        workers_per_shard: int = 1,
        store: ResultStore | str | os.PathLike | bool | None = None,
        sandbox: str | None = None,
        progress: bool = True,
        cache_dir: str | os.PathLike | None = None,
        init_options: dict[str, Any] | None = None,
        workers: int | None = None,
    ):
        if sandbox is not None and not isinstance(sandbox, str):
            raise TypeError("RayBackend takes sandbox as a mode name ('bwrap' or 'none')")
        self.address = address or os.environ.get("OCTOPACK_RAY_ADDRESS")
        self.shard_size = max(1, shard_size)
        self.workers_per_shard = max(1, workers or workers_per_shard)
        self.sandbox = sandbox
        self.progress = progress
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.store = _open_store(store, default_cache_dir())
        self.init_options = init_options or {}

    def run(self, programs: Sequence[Program]) -> list[Verdict]:
        ray = _import_ray()
        programs = list(programs)
        unique = {p.digest: p for p in programs}
        fingerprints = prepare_languages({p.language for p in unique.values()}, self.cache_dir or default_cache_dir())
        verdicts = self._cached(unique, fingerprints)
        pending = [p for d, p in unique.items() if d not in verdicts]
        if pending:
            self._connect(ray)
            remote = ray.remote(num_cpus=self.workers_per_shard, max_retries=1)(run_shard)
            options = {"workers": self.workers_per_shard, "sandbox": self.sandbox,
                       "cache_dir": str(self.cache_dir) if self.cache_dir else None}  # fmt: skip
            shards = [pending[i : i + self.shard_size] for i in range(0, len(pending), self.shard_size)]
            in_flight = {remote.remote(shard, options): shard for shard in shards}
            with _Display(self.progress, unique.values(), verdicts) as display:
                try:
                    self._collect(ray, in_flight, verdicts, fingerprints, display)
                except BaseException:  # Ctrl-C, a store that cannot write: stop the shards still running
                    for ref in in_flight:
                        ray.cancel(ref, force=True)
                    raise
        return [verdicts[p.digest] for p in programs]

    def _collect(self, ray: Any, in_flight: dict, verdicts: dict[str, Verdict], fingerprints: dict[str, str],
                 display: _Display) -> None:
        """Record each shard's verdicts as it completes (shards already re-ran their timeouts, alone)."""
        while in_flight:
            done, _ = ray.wait(list(in_flight), num_returns=1)
            shard = in_flight.pop(done[0])
            for program, verdict in zip(shard, ray.get(done[0]), strict=True):
                self._record(program, verdict, fingerprints)
                verdicts[program.digest] = verdict
                display.advance(program, verdict)

    def _connect(self, ray: Any) -> None:
        if not ray.is_initialized():
            ray.init(address=self.address, ignore_reinit_error=True, **self.init_options)

    def _cached(self, unique: dict[str, Program], fingerprints: dict[str, str]) -> dict[str, Verdict]:
        if self.store is None:
            return {}
        found: dict[str, Verdict] = {}
        for language, fingerprint in fingerprints.items():
            digests = [d for d, p in unique.items() if p.language == language]
            found.update(self.store.get_many(digests, fingerprint))
        return found

    def _record(self, program: Program, verdict: Verdict, fingerprints: dict[str, str]) -> None:
        if self.store is not None and verdict.status != "error":
            self.store.put(program.digest, verdict, fingerprints[program.language], program.language)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as e:
        raise ImportError(RAY_MISSING) from e
    return ray
