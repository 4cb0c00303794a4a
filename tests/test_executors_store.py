"""The result store: persistence per finished program, resume after SIGKILL, concurrency, toolchain keys."""

from __future__ import annotations

import json
import multiprocessing
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from lm_eval_octopack.executors import Program, ResultStore, Verdict
from lm_eval_octopack.executors.toolchains import prepare_languages

CHILD = """
import json, sys
from pathlib import Path
from lm_eval_octopack.executors import make_sandbox
from lm_eval_octopack.executors.backends.local import LocalBackend
sys.path.insert(0, sys.argv[3])
from test_executors_store import resume_programs

cache, log = Path(sys.argv[1]), Path(sys.argv[2])

class LoggingSandbox:
    def __init__(self, inner):
        self.inner = inner

    def run(self, argv, *, workdir, **kwargs):
        programs = json.loads((Path(workdir) / "manifest.json").read_text())["programs"]
        with open(log, "a") as f:  # what this sandbox is asked to execute
            f.writelines(p["source"].splitlines()[0] + "\\n" for p in programs)
        return self.inner.run(argv, workdir=workdir, **kwargs)

backend = LocalBackend(workers=1, sandbox=LoggingSandbox(make_sandbox()), progress=False, cache_dir=cache)
print(json.dumps([v.status for v in backend.run(resume_programs())]))
"""
PROGRAM_COUNT = 12


def resume_programs() -> list[Program]:
    return [
        Program("python", f"# program {i}\nimport time\ntime.sleep(0.15)\nassert {i} % 3 != 0")
        for i in range(PROGRAM_COUNT)
    ]


def start_child(cache: Path, log: Path) -> subprocess.Popen:
    argv = [sys.executable, "-c", CHILD, str(cache), str(log), str(Path(__file__).parent)]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def logged(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def stored_names(cache: Path) -> set[str]:
    if not (cache / "results.sqlite").exists():
        return set()
    programs = resume_programs()
    fingerprint = prepare_languages(["python"], cache)["python"]
    stored = ResultStore(cache / "results.sqlite").get_many([p.digest for p in programs], fingerprint)
    return {p.source.splitlines()[0] for p in programs if p.digest in stored}


@pytest.mark.slow
def test_a_killed_run_resumes_without_redoing_finished_programs(tmp_path):
    cache, first_log, second_log = tmp_path / "cache", tmp_path / "first.log", tmp_path / "second.log"
    child = start_child(cache, first_log)
    deadline = time.monotonic() + 60
    while len(stored_names(cache)) < 4 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)  # verdicts are stored as each program finishes, even inside a batch
    child.send_signal(signal.SIGKILL)
    child.communicate()
    assert child.returncode == -signal.SIGKILL, "the child finished before it could be killed"
    finished = stored_names(cache)
    assert 4 <= len(finished) < PROGRAM_COUNT

    rerun = start_child(cache, second_log)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert json.loads(out) == ["failed" if i % 3 == 0 else "passed" for i in range(PROGRAM_COUNT)]
    executed_again = set(logged(second_log))
    assert not executed_again & finished
    assert executed_again | finished == {p.source.splitlines()[0] for p in resume_programs()}


def test_verdicts_are_keyed_by_digest_and_toolchain(tmp_path):
    store = ResultStore(tmp_path / "results.sqlite")
    store.put("d1", Verdict("passed", seconds=0.5), toolchain="gcc-12", language="cpp")
    store.put("d2", Verdict("failed", "boom"), toolchain="gcc-12", language="cpp")
    assert store.get_many(["d1", "d2", "d3"], "gcc-12") == {
        "d1": Verdict("passed", seconds=0.5),
        "d2": Verdict("failed", "boom"),
    }
    assert store.get_many(["d1"], "gcc-13") == {}  # a toolchain upgrade re-executes
    assert ResultStore(tmp_path / "results.sqlite").get("d2", "gcc-12") == Verdict("failed", "boom")  # persisted


def test_get_many_handles_more_keys_than_sqlite_parameters(tmp_path):
    store = ResultStore(tmp_path / "results.sqlite")
    for i in range(1200):
        store.put(f"d{i}", Verdict("passed"))
    assert len(store.get_many(f"d{i}" for i in range(-5, 1300))) == 1200


def write_many(path: str, prefix: str, count: int) -> None:
    store = ResultStore(path)

    errors: list[BaseException] = []

    def writer(thread: int) -> None:
        try:
            for i in range(count):
                store.put(f"{prefix}-{thread}-{i}", Verdict("passed" if i % 2 else "failed"))
        except BaseException as e:  # surfaced below: a thread's exception would otherwise vanish
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def test_concurrent_writers_in_threads_and_processes(tmp_path):
    path = str(tmp_path / "results.sqlite")
    ResultStore(path).close()  # SQLite's rule: no open connection to the file across fork()
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=write_many, args=(path, f"p{n}", 150)) for n in range(3)]
    for p in processes:
        p.start()
    write_many(path, "parent", 150)
    for p in processes:
        p.join(60)
        assert p.exitcode == 0
    assert ResultStore(path).count() == 4 * 2 * 150


def test_default_location_follows_the_cache_dir_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("OCTOPACK_CACHE_DIR", str(tmp_path / "octo"))
    assert ResultStore().path == tmp_path / "octo" / "results.sqlite"


def test_a_relative_cache_dir_variable_is_taken_from_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OCTOPACK_CACHE_DIR", "octo")
    assert ResultStore().path == tmp_path / "octo" / "results.sqlite"


def test_a_detail_utf8_cannot_encode_is_stored_escaped(tmp_path):
    store = ResultStore(tmp_path / "r.sqlite")
    store.put("d", Verdict("failed", "Exception: \ud800 and \udcff"))
    assert store.get("d") == Verdict("failed", "Exception: \\ud800 and \\udcff")


def test_an_unwritable_store_directory_is_a_clear_error(tmp_path):
    from lm_eval_octopack.executors.errors import CacheDirUnusable

    (tmp_path / "a-file").write_text("")
    with pytest.raises(CacheDirUnusable, match="not writable.*OCTOPACK_CACHE_DIR"):
        ResultStore(tmp_path / "a-file" / "r.sqlite")
