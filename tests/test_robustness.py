"""Issue 13's robustness items: an infrastructure `error` never becomes a score, unencodable messages, timeouts
caused by load, Ctrl-C, concurrent setup, clear errors instead of tracebacks, partial generation files."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lm_eval_octopack.executors import Program, Verdict, register_language
from lm_eval_octopack.executors.backends.local import LocalBackend
from lm_eval_octopack.executors.errors import CacheDirUnusable
from lm_eval_octopack.executors.languages.python import PythonLanguage
from lm_eval_octopack.executors.registry import unregister_language
from lm_eval_octopack.executors.store import ResultStore
from lm_eval_octopack.executors.toolchains import forget_prepared
from lm_eval_octopack.executors.types import Limits

import lm_eval_octopack
from lm_eval_octopack import cli
from lm_eval_octopack.humanevalpack.data import load_rows

MINI = Path(lm_eval_octopack.__file__).parent / "data" / "mini"
CLI = [sys.executable, "-m", "lm_eval_octopack.cli"]
QUICK = Limits(run_timeout=3)


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    """A fresh cache dir for in-process runs and for the subprocesses they start."""
    path = tmp_path / "cache"
    monkeypatch.setenv("OCTOPACK_CACHE_DIR", str(path))
    return path


def canonical_completions(language: str = "python") -> list[list[str]]:
    return [["\n" + row["canonical_solution"]] for row in load_rows(language, str(MINI))]


def write_json(path: Path, data) -> Path:
    path.write_text(json.dumps(data))
    return path


def score_args(task: str, generations: Path, *extra: str) -> list[str]:
    return ["score", "--task", task, "--generations", str(generations), "--data-dir", str(MINI), *extra]


# ------------------------------------------------------------------------- 1. `error` verdicts are not scores


class PythonThatCannotRun(PythonLanguage):
    """The real Python language with an interpreter that exits at once: every batch server fails to start,
    which the harness reports as `error` (a genuine infrastructure failure, run through the real sandbox)."""

    def __init__(self):
        super().__init__(interpreter="/bin/false")

    def check(self, cache_dir: Path):
        return PythonLanguage().check(cache_dir)


@pytest.fixture()
def broken_python():
    forget_prepared()
    register_language(PythonThatCannotRun())
    yield
    unregister_language("python")
    forget_prepared()


def test_relative_cache_dir_executes_programs(tmp_path, monkeypatch, sandbox):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OCTOPACK_CACHE_DIR", "relative-cache")
    backend = LocalBackend(workers=1, sandbox=sandbox, progress=False)
    verdicts = backend.run([Program("python", "assert 1 + 1 == 2", QUICK), Program("python", "assert 0", QUICK)])
    assert [v.status for v in verdicts] == ["passed", "failed"]
    assert backend.cache_dir.is_absolute() and (tmp_path / "relative-cache" / "results.sqlite").is_file()


def test_score_with_error_verdicts_prints_no_pass_at_k_and_fails(tmp_path, cache, broken_python, capsys):
    generations = write_json(tmp_path / "g.json", canonical_completions())
    output = tmp_path / "verdicts.json"
    code = cli.main(score_args("humanevalsynthesize-python", generations, "--output", str(output)))
    out, err = capsys.readouterr()
    assert code == 3
    assert "pass@" not in out and "could not be executed" in err and "no pass@k" in err
    written = json.loads(output.read_text())  # the work done is kept: every verdict, and none stored
    assert written["pass@k"] is None and {v["status"] for v in written["verdicts"]} == {"error"}
    assert ResultStore(cache / "results.sqlite").count() == 0


def test_lm_eval_run_with_error_verdicts_fails_and_saves_the_generations(tmp_path, cache, broken_python, capsys):
    code = cli.main(
        [
            "--model",
            "octopack-reference",
            "--tasks",
            "humanevalsynthesize-python",
            "--limit",
            "2",
            "--confirm_run_unsafe_code",
            "--metadata",
            f"data_dir={MINI}",
            "--output_path",
            str(tmp_path / "out"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 3 and "no pass@k" in err
    saved = list((cache / "unscored").glob("synthesize-python-*.json"))
    assert len(saved) == 1 and f"--generations {saved[0]}" in err
    codes = json.loads(saved[0].read_text())
    assert len(codes) == 2 and all(doc and all("def " in code for code in doc) for doc in codes)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("results_*.json"))


@pytest.fixture()
def small_disk(tmp_path):
    """A 2 MB tmpfs (needs mount privileges: root in CI's container), to fill up."""
    mountpoint = tmp_path / "small-disk"
    mountpoint.mkdir()
    if (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mountpoint)], capture_output=True
        ).returncode
        != 0
    ):
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    yield mountpoint
    subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def fill(disk: Path) -> None:
    with open(disk / "filler", "wb") as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 65536)
            handle.flush()


def test_a_full_disk_stops_the_run_with_a_clear_error_and_no_score(tmp_path, small_disk, sandbox):
    store = ResultStore(small_disk / "results.sqlite")
    store.put("before", Verdict("passed"))
    fill(small_disk)
    programs = [Program("python", f"assert {i} >= 0  # {'x' * 4000}", QUICK) for i in range(40)]
    backend = LocalBackend(workers=1, store=store, sandbox=sandbox, progress=False, cache_dir=tmp_path / "cache")
    with pytest.raises(CacheDirUnusable, match="disk is full"):
        backend.run(programs)
    generations = write_json(tmp_path / "g.json", canonical_completions())
    done = run_cli(*score_args("humanevalsynthesize-python", generations), env={"OCTOPACK_CACHE_DIR": str(small_disk)})
    assert done.returncode == 3 and "pass@" not in done.stdout and "Traceback" not in done.stderr
    assert "No space left on device" in done.stderr and "no pass@k" in done.stderr  # the scratch dir is full


# ------------------------------------------------------------------ 2. unencodable failure messages are stored


def test_a_lone_surrogate_in_a_failure_message_is_stored_escaped(tmp_path, sandbox):
    store = tmp_path / "results.sqlite"
    program = Program("python", 'raise Exception("\\ud800")', QUICK)
    first = LocalBackend(workers=1, store=store, sandbox=sandbox, progress=False, cache_dir=tmp_path).run([program])
    again = LocalBackend(workers=1, store=store, sandbox=sandbox, progress=False, cache_dir=tmp_path).run([program])
    assert first[0].status == "failed" and "\\ud800" in first[0].detail
    assert again == first and ResultStore(store).count() == 1
    first[0].detail.encode("utf-8")  # and it can be written anywhere


# ----------------------------------------------------------------------------- 3. a timeout runs again, alone


def test_a_timeout_is_run_again_before_it_is_stored(tmp_path):
    """Unsandboxed so that the program can leave a mark outside its work dir: the first run hangs, the second
    passes, as a program slowed down by a loaded machine would."""
    mark, runs = tmp_path / "ran-once", tmp_path / "runs"
    flaky = (
        f"import os, time\nopen({str(runs)!r}, 'a').write('x')\n"
        f"if not os.path.exists({str(mark)!r}):\n    open({str(mark)!r}, 'w').close()\n    time.sleep(30)\n"
    )
    hangs = f"import time\nopen({str(runs)!r}, 'a').write('h')\ntime.sleep(30)\n"
    store = tmp_path / "results.sqlite"
    backend = LocalBackend(workers=2, store=store, sandbox="none", progress=False, cache_dir=tmp_path)
    verdicts = backend.run(
        [Program("python", flaky, Limits(run_timeout=1)), Program("python", hangs, Limits(run_timeout=1))]
    )
    assert [v.status for v in verdicts] == ["passed", "timeout"]
    assert sorted(runs.read_text()) == ["h", "h", "x", "x"]  # each ran twice, no more
    stored = sqlite3.connect(store).execute("SELECT status FROM verdicts ORDER BY status").fetchall()
    assert stored == [("passed",), ("timeout",)]


def test_the_timeout_re_run_can_be_turned_off(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    hangs = f"import time\nopen({str(runs)!r}, 'a').write('h')\ntime.sleep(30)\n"
    monkeypatch.setenv("OCTOPACK_RETRY_TIMEOUTS", "0")
    backend = LocalBackend(workers=1, store=False, sandbox="none", progress=False, cache_dir=tmp_path)
    assert [v.status for v in backend.run([Program("python", hangs, Limits(run_timeout=1))])] == ["timeout"]
    assert runs.read_text() == "h"


# ------------------------------------------------------------------------------------------------ 4. Ctrl-C


def descendants(pid: int) -> set[tuple[int, str]]:
    """(pid, start time) of every process below ``pid``."""
    children: dict[str, list[str]] = {}
    starts: dict[str, str] = {}
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(fields[1], []).append(entry.name)
        starts[entry.name] = fields[19]
    found, todo = set(), [str(pid)]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add((int(child), starts[child]))
            todo.append(child)
    return found


def alive(process: tuple[int, str]) -> bool:
    try:
        stat = Path(f"/proc/{process[0]}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return stat[19] == process[1] and stat[0] != "Z"


def stored_count(store: Path) -> int:
    try:
        return sqlite3.connect(store, timeout=5).execute("SELECT COUNT(*) FROM verdicts").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_ctrl_c_stops_a_score_run_at_once_keeps_what_finished_and_leaves_no_process(tmp_path, cache):
    rows = load_rows("python", str(MINI))
    hang = "\n    import time\n    time.sleep(120)\n"
    generations = [["\n" + row["canonical_solution"], hang + f"    # {i}\n"] for i, row in enumerate(rows)]
    path = write_json(tmp_path / "g.json", generations)
    argv = [
        *CLI,
        *score_args(
            "humanevalsynthesize-python", path, "--format", "completion", "--run-timeout", "100", "--workers", "2"
        ),
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    store, seen = cache / "results.sqlite", set()
    deadline = time.monotonic() + 120
    while stored_count(store) == 0 and time.monotonic() < deadline and proc.poll() is None:
        seen |= descendants(proc.pid)
        time.sleep(0.2)
    time.sleep(1)  # the first sleeper is running by now
    seen |= descendants(proc.pid)
    finished = stored_count(store)
    assert finished >= 1 and proc.poll() is None, proc.communicate()
    interrupted = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the foreground process group
    out, err = proc.communicate(timeout=30)
    assert time.monotonic() - interrupted < 6
    assert proc.returncode == 130 and err.strip().splitlines() == [cli.INTERRUPTED], err
    assert seen and not [p for p in seen if alive(p)]
    statuses = sqlite3.connect(store).execute("SELECT status FROM verdicts").fetchall()
    assert len(statuses) >= finished and set(statuses) == {("passed",)}  # no killed sleeper was stored


# ------------------------------------------------------------------------------ 5. concurrent first-time setup


SETUP_LANGUAGES = ("cpp", "java", "go", "rust", "js")  # those whose prepare() writes into the cache


@pytest.mark.slow
def test_two_concurrent_first_time_setups_of_one_cache_both_succeed(tmp_path, cache):
    """Every language's prepare() takes a per-dependency lock and renames finished files into place."""
    from lm_eval_octopack.executors.registry import get_language

    setups = [
        subprocess.Popen([*CLI, "setup", *SETUP_LANGUAGES], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    outputs = [setup.communicate(timeout=900)[0] for setup in setups]
    assert [setup.returncode for setup in setups] == [0, 0], outputs
    assert not list(cache.rglob("*.tmp"))
    reports = [get_language(name).check(cache) for name in SETUP_LANGUAGES]
    assert [report.missing for report in reports if not report.ok] == []


# --------------------------------------------------------------------------- 6. clear errors, not tracebacks


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("cache_dir", ["/proc/self/octopack-cache", "{tmp}/a-file/cache"])
def test_an_unwritable_cache_dir_is_a_clear_error(tmp_path, cache_dir):
    (tmp_path / "a-file").write_text("")
    env = {"OCTOPACK_CACHE_DIR": cache_dir.format(tmp=tmp_path)}
    generations = write_json(tmp_path / "g.json", canonical_completions())
    for args in (score_args("humanevalsynthesize-python", generations), ["setup", "python"]):
        done = run_cli(*args, env=env)
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert "not writable" in done.stderr and "OCTOPACK_CACHE_DIR" in done.stderr


@pytest.mark.parametrize("name", ["g.json", "samples_humanevalsynthesize-python_x.jsonl"])
def test_invalid_utf8_in_a_generations_file_is_a_clear_error(tmp_path, cache, name):
    path = tmp_path / name
    path.write_bytes(b'[["def f():\xff\xfe"]]\n')
    done = run_cli(*score_args("humanevalsynthesize-python", path))
    assert done.returncode == 2 and "Traceback" not in done.stderr and "is not valid UTF-8" in done.stderr


def test_a_missing_toolchain_is_a_clear_error(tmp_path, cache):
    """A PATH with bubblewrap but without node."""
    import shutil

    path = tmp_path / "bin"
    path.mkdir()
    (path / "bwrap").symlink_to(shutil.which("bwrap") or "/usr/bin/bwrap")
    generations = write_json(tmp_path / "g.json", canonical_completions("js"))
    done = run_cli(*score_args("humanevalsynthesize-js", generations), env={"PATH": str(path)})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "cannot execute js programs" in done.stderr and "install" in done.stderr.lower()


# -------------------------------------------------------------------------------- 7. partial generation files


def test_a_generations_file_missing_problems_is_refused_unless_allowed(tmp_path, cache, capsys):
    partial = write_json(tmp_path / "g.json", canonical_completions()[:-1])
    assert cli.main(score_args("humanevalsynthesize-python", partial)) == 2
    err = capsys.readouterr().err
    assert f"has {len(load_rows('python', str(MINI))) - 1} of the data's" in err and "--allow-partial" in err
    assert cli.main(score_args("humanevalsynthesize-python", partial, "--allow-partial")) == 0
    assert "pass@1    100.00" in capsys.readouterr().out


def test_a_samples_file_missing_problems_is_refused_unless_allowed(tmp_path, cache, capsys):
    rows = load_rows("python", str(MINI))
    options = json.dumps({"prompt": "instruct"})
    records = [
        {"doc_id": i, "doc": {**row, "octopack_options": options}, "resps": [["\n" + row["canonical_solution"]]]}
        for i, row in enumerate(rows[:-1])
    ]
    path = tmp_path / "samples_humanevalsynthesize-python_2026-01-01T00-00-00.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    assert cli.main(score_args("humanevalsynthesize-python", path)) == 2
    assert f"has {len(rows) - 1} of the data's {len(rows)} problems" in capsys.readouterr().err
