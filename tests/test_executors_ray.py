"""The Ray backend: shards run as remote tasks through the LocalBackend path; same verdicts, driver-side store
and timeout re-runs."""

from __future__ import annotations

import pytest
from lm_eval_octopack.executors import Limits, Program, ResultStore, get_backend
from lm_eval_octopack.executors.backends.local import LocalBackend

ray = pytest.importorskip(
    "ray", reason="ray is not installed (pip install 'lm-eval-octopack[ray]'); Ray backend untested"
)


@pytest.fixture(scope="module")
def local_ray():
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
