"""The execution benchmark runs both arms on real programs and reports per-core ratios with verdicts compared.

Not a timing test: it checks that the script works end to end and that its arithmetic is what it says.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO_ROOT, shared_path


def _load_benchmark():
    spec = importlib.util.spec_from_file_location("bench_execution", REPO_ROOT / "benchmarks" / "bench_execution.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_both_arms_agree_and_ratios_are_per_core(tmp_path: Path, monkeypatch):
    data = shared_path("humanevalpack").parent
    monkeypatch.setenv("OCTOPACK_SHARED_DATA", str(data))
    bench = _load_benchmark()
    out = tmp_path / "bench.json"
    argv = ["--languages", "python", "--limit", "3", "--sets", "reference", "--workers", "2", "--out", str(out)]
    figures = bench.main(argv)
    row = figures["languages"]["python"]["sets"]["reference"]
    assert row["programs"] == 6 and row["mismatches"] == []
    assert row["baseline_passed"] == row["ours_passed"] == 3  # canonical passes, buggy fails
    assert row["baseline_core_s"] == round(row["baseline_s"] * row["baseline_workers"], 2)
    assert row["ours_core_s"] == round(row["ours_s"] * 2, 2)
    assert row["speedup"] == round(row["baseline_core_s"] / row["ours_core_s"], 2)
    assert json.loads(out.read_text())["totals"]["reference"]["mismatches"] == 0


def test_a_timed_out_baseline_command_leaves_no_process_behind(tmp_path: Path):
    bench = _load_benchmark()
    marker = tmp_path / "still-running"
    script = f"(sleep 2; touch {marker}) & sleep 30"
    assert bench._timed(["sh", "-c", script], tmp_path, timeout=0.5) == (None, "", "")
    time.sleep(2.5)
    assert not marker.exists(), "the background child of a timed-out command survived"


def test_the_hang_ceiling_is_the_baseline_over_the_time_hangs_cost_in_any_pipeline():
    bench = _load_benchmark()
    assert bench.timeout_ceiling(100.0, 2, 10.0) == {"timeout_floor_core_s": 20.0, "speedup_ceiling": 5.0}
    assert bench.timeout_ceiling(100.0, 0, 10.0)["speedup_ceiling"] is None


def test_saved_generations_load_per_task_regrouped_and_sampled_the_same_for_both_arms(tmp_path: Path, monkeypatch):
    bench = _load_benchmark()
    generations = tmp_path / "generations"
    generations.mkdir()
    nested = [[f"p{i}s{j}" for j in range(2)] for i in range(3)]
    (generations / "m_humanevalfixtests-python.json").write_text(json.dumps(nested))
    flat = [[f"p{i}s{j}"] for i in range(3) for j in range(2)]  # problem-major, one-item lists
    (generations / "m_humanevalexplainsynthesize-python_flat.json").write_text(json.dumps(flat))
    (generations / "m_humanevalsynthesize-java.json").write_text(json.dumps(nested))
    monkeypatch.setenv("OCTOPACK_SHARED_DATA", str(tmp_path))

    files = bench.generation_files("python")
    assert sorted(files) == ["explainsynthesize", "fixtests"]
    assert bench.load_generations(files["fixtests"], 3) == nested
    assert bench.load_generations(files["explainsynthesize"], 3) == nested

    subset = bench.sample_problems(164, 10, seed=0)
    assert subset == sorted(set(subset)) and len(subset) == 10 and subset == bench.sample_problems(164, 10, seed=0)
    assert bench.sample_problems(5, None, seed=0) == [0, 1, 2, 3, 4]


def test_generation_cases_keep_every_duplicate_and_append_the_tests():
    bench = _load_benchmark()
    doc = {"task_id": "Python/0", "test": "assert f() == 1\n"}
    cases = bench.generation_cases("python", [doc], [["def f():\n    return 1\n"] * 3])
    assert len(cases) == 3 and len({c.source for c in cases}) == 1
    assert cases[0].source.rstrip().endswith("assert f() == 1") and "def f():" in cases[0].source


def test_an_arm_runs_on_the_cores_it_is_charged_for_and_they_are_given_back():
    bench = _load_benchmark()
    cpus = os.sched_getaffinity(0)
    if len(cpus) < 2:
        pytest.skip("pinning to fewer CPUs needs a machine with at least 2")
    count_cpus = [sys.executable, "-c", "import os; print(len(os.sched_getaffinity(0)))"]
    with bench.charged_cores(1) as use:
        inside = int(subprocess.run(count_cpus, capture_output=True, text=True, check=True).stdout)
    assert inside == 1 and use.pinned_to == 1
    assert use.busy_core_s is not None and use.busy_core_s >= 0
    assert os.sched_getaffinity(0) == cpus
    with bench.charged_cores(1, pin=False) as free:
        unpinned = int(subprocess.run(count_cpus, capture_output=True, text=True, check=True).stdout)
    assert unpinned == len(cpus) and free.pinned_to is None
