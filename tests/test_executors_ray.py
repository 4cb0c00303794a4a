"""The Ray backend: shards run as remote tasks through the LocalBackend path; same verdicts, driver-side store
and timeout re-runs; one-language shards that keep every CPU busy."""

from __future__ import annotations

import pytest
from lm_eval_octopack.executors import Limits, Program, ResultStore, get_backend
from lm_eval_octopack.executors.backends.local import LocalBackend
from lm_eval_octopack.executors.backends.ray import MIN_AUTO_SHARD, plan_shards
from lm_eval_octopack.executors.registry import get_language


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip(
        "ray", reason="ray is not installed (pip install 'lm-eval-octopack[ray]'); Ray backend untested"
    )
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def programs() -> list[Program]:
    limits = Limits(run_timeout=2)
    python = [Program("python", f"assert {i} % 4 != 0", limits) for i in range(10)]
    js = [Program("js", "console.assert(2 + 2 === 4)", limits), Program("js", "console.assert(2 + 2 === 5)", limits)]
    return python + js + [python[1], Program("python", "while True:\n    pass", limits)]


@pytest.mark.slow
def test_ray_backend_gives_local_verdicts_and_fills_the_driver_store(local_ray, tmp_path):
    cache = tmp_path / "cache"
    expected = LocalBackend(store=False, progress=False, cache_dir=cache).run(programs())
    store = ResultStore(tmp_path / "driver.sqlite")
    backend = get_backend("ray", shard_size=4, store=store, progress=False, cache_dir=cache)
    verdicts = backend.run(programs())
    assert [v.status for v in verdicts] == [v.status for v in expected]
    assert [v.status for v in verdicts][-4:] == ["passed", "failed", "passed", "timeout"]
    assert store.count() == len({p.digest for p in programs()})
    assert (backend.last_summary.timeouts, backend.last_summary.reruns) == (1, 1)  # the driver re-ran it, alone
    again = backend.run(programs())  # everything comes from the store now
    assert [v.status for v in again] == [v.status for v in verdicts]
    assert backend.last_summary.from_store == backend.last_summary.distinct and backend.last_summary.executed == 0


def test_shards_are_one_language_each_and_keep_every_slot_busy():
    python_batch = get_language("python").batch_size
    sources = [Program("python", f"assert {k}") for k in range(130)] + [Program("js", f"{k};") for k in range(10)]
    shards = plan_shards(sources, slots=2)
    assert all(len({p.language for p in shard}) == 1 for shard in shards)
    assert [p for shard in shards if shard[0].language == "python" for p in shard] == sources[:130]
    python_sizes = [len(s) for s in shards if s[0].language == "python"]
    assert len(python_sizes) % 2 == 0 and max(python_sizes) <= max(MIN_AUTO_SHARD, python_batch)
    assert min(python_sizes) >= max(python_sizes) - len(python_sizes)  # as even as they go
    assert [len(s) for s in shards if s[0].language == "js"] == [5, 5]
    assert shards[0][0].language != shards[1][0].language  # languages interleave, as in the local backend
    assert max(len(s) for s in plan_shards(sources, slots=2, shard_size=20)) <= 20
    wide = plan_shards(sources[:130], slots=1, workers_per_shard=4)
    assert len(wide) == 1  # four workers in a task: four batches' worth of programs per shard
