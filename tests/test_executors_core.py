"""Sandbox basics, registries, verdict rules of python/js, dedup and fail-fast toolchain checks."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

import pytest
from lm_eval_octopack.executors import (
    Limits,
    Program,
    SandboxUnavailable,
    ToolchainMissing,
    Verdict,
    backend_names,
    doctor,
    get_backend,
    get_language,
    make_sandbox,
    register_backend,
    register_language,
    render_doctor,
)
from lm_eval_octopack.executors.backends.local import LocalBackend
from lm_eval_octopack.executors.languages.python import PythonLanguage
from lm_eval_octopack.executors.registry import unregister_language
from lm_eval_octopack.executors.sandbox import BwrapSandbox, CgroupPool, UnsandboxedRunner
from lm_eval_octopack.executors.toolchains import forget_prepared

LIMITS = Limits(run_timeout=5, scratch_mb=8, max_output_bytes=1000)


class CountingSandbox:
    """A real sandbox that also records which programs it was asked to run."""

    def __init__(self, inner):
        self.inner = inner
        self.sources: list[str] = []

    def run(self, argv, *, workdir, **kwargs):
        for manifest in Path(workdir).glob("manifest.json"):  # the Python fork-server's batch
            self.sources += [p["source"] for p in json.loads(manifest.read_text())["programs"]]
        return self.inner.run(argv, workdir=workdir, **kwargs)


def run(sandbox, tmp_path: Path, script: str, **kwargs):
    return sandbox.run(
        ["/bin/sh", "-c", script], workdir=tmp_path, timeout=kwargs.pop("timeout", 5), limits=LIMITS, **kwargs
    )


# ----------------------------------------------------------------------------------------------- sandbox


def test_exit_code_and_streams_are_captured(sandbox, tmp_path):
    result = run(sandbox, tmp_path, "echo out; echo err >&2; exit 3")
    assert (result.returncode, result.stdout, result.stderr, result.timed_out) == (3, "out\n", "err\n", False)


def test_timeout_kills_the_tree_promptly(sandbox, tmp_path):
    started = time.monotonic()
    result = run(sandbox, tmp_path, "sleep 30 & sleep 30", timeout=0.5)
    assert result.timed_out and result.returncode is None
    assert time.monotonic() - started < 2.5


def test_output_is_capped(sandbox, tmp_path):
    result = run(sandbox, tmp_path, "yes")
    assert result.output_truncated
    assert len(result.stdout) == LIMITS.max_output_bytes


def test_stdin_is_delivered(sandbox, tmp_path):
    result = sandbox.run(["cat"], workdir=tmp_path, timeout=5, limits=LIMITS, stdin="hello")
    assert result.stdout == "hello"


def test_environment_is_clean(sandbox, tmp_path, monkeypatch):
    monkeypatch.setenv("NODE_EXTRA_CA_CERTS", "/etc/ssl/certs/ca-certificates.crt")
    result = run(sandbox, tmp_path, "env", env={"EXTRA": "1"})
    names = {line.split("=", 1)[0] for line in result.stdout.splitlines()}
    assert "NODE_EXTRA_CA_CERTS" not in names and "EXTRA" in names
    assert f"HOME={tmp_path.resolve()}" in result.stdout.splitlines()


def test_only_the_workdir_is_writable(sandbox, tmp_path):
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    result = run(sandbox, tmp_path, f"touch inside && touch {outside}/escaped; touch /etc/octopack-escaped")
    assert (tmp_path / "inside").exists()
    assert not (outside / "escaped").exists() and not Path("/etc/octopack-escaped").exists()
    assert "Read-only file system" in result.stderr


def test_tmp_is_private_and_size_capped(sandbox, tmp_path):
    result = run(sandbox, tmp_path, "ls -A /tmp | grep -v '^tmp' ; head -c 20M /dev/zero > /tmp/fill; echo rc=$?")
    assert "rc=1" in result.stdout and "No space left" in result.stderr


def test_network_is_loopback_only(sandbox, tmp_path):
    result = run(sandbox, tmp_path, "cat /proc/net/dev")
    interfaces = {line.split(":")[0].strip() for line in result.stdout.splitlines()[2:]}
    assert interfaces == {"lo"}


def test_setsid_orphans_die_with_the_sandbox(sandbox, tmp_path):
    marker = f"octopack-orphan-{tmp_path.name}"
    run(sandbox, tmp_path, f"setsid sh -c 'sleep 60; : {marker}' >/dev/null 2>&1 & exit 0")
    assert not [p for p in Path("/proc").glob("[0-9]*/cmdline") if marker.encode() in _read(p)]


def test_unsandboxed_runner_warns_and_still_cleans_up(tmp_path, caplog):
    pool = CgroupPool()
    if "pids" not in pool.controllers:
        pytest.skip("no writable cgroup-v1 pids hierarchy: unsandboxed runs cannot reap setsid orphans here")
    with caplog.at_level(logging.WARNING):
        runner = UnsandboxedRunner(cgroups=pool)
    assert "WITHOUT a sandbox" in caplog.text
    marker = f"octopack-orphan-{tmp_path.name}"
    result = run(runner, tmp_path, f"setsid sh -c 'sleep 60; : {marker}' >/dev/null 2>&1 & exit 4")
    assert result.returncode == 4
    assert not [p for p in Path("/proc").glob("[0-9]*/cmdline") if marker.encode() in _read(p)]


def test_missing_bwrap_is_a_clear_error():
    with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap.*OCTOPACK_SANDBOX=none"):
        BwrapSandbox(bwrap="/nonexistent/bwrap")


def test_sandbox_mode_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("OCTOPACK_SANDBOX", "none")
    assert isinstance(make_sandbox(), UnsandboxedRunner)
    with pytest.raises(ValueError, match="unknown sandbox mode"):
        make_sandbox("docker")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


# ----------------------------------------------------------------------------------------------- registries


def test_unknown_language_lists_known_ones():
    with pytest.raises(ValueError, match="unknown language 'cobol'; known languages: cpp, go, java, js, python, rust"):
        get_language("cobol")


def test_backend_registry(tmp_path):
    assert {"local", "ray"} <= set(backend_names())
    with pytest.raises(ValueError, match="unknown execution backend 'nope'.*local"):
        get_backend("nope")

    class EchoBackend:
        def __init__(self, verdict: str):
            self.verdict = verdict

        def run(self, programs):
            return [Verdict(self.verdict) for _ in programs]

    register_backend("echo", EchoBackend)
    assert get_backend("echo", verdict="failed").run([Program("python", "")]) == [Verdict("failed")]
    assert isinstance(get_backend("local", store=False, progress=False, cache_dir=tmp_path), LocalBackend)


def test_backend_name_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("OCTOPACK_BACKEND", "local")
    monkeypatch.setenv("OCTOPACK_WORKERS", "3")
    backend = get_backend(store=False, progress=False, cache_dir=tmp_path)
    assert isinstance(backend, LocalBackend) and backend.workers == 3


# ----------------------------------------------------------------------------------------------- languages


@pytest.fixture
def backend(tmp_path, sandbox):
    return LocalBackend(workers=2, store=False, sandbox=CountingSandbox(sandbox), progress=False, cache_dir=tmp_path)


def test_python_verdict_rule(backend):
    programs = {
        "assert 1 + 1 == 2": "passed",
        "assert 1 + 1 == 3": "failed",
        "exit(0)": "failed",  # the reference exec()s the program: SystemExit is an exception there
        "if __name__ == '__main__':\n    raise SystemExit(1)": "passed",  # the reference never runs main blocks
        "import numpy\nprint(numpy.zeros(2).sum())": "passed",
        "while True:\n    pass": "timeout",
        # the reference's reliability_guard and swallowed output:
        "import os\nos.getcwd()": "failed",
        "import subprocess\nsubprocess.Popen(['true'])": "failed",
        "import os\nos._exit(0)": "failed",  # never reported a result
        "input()": "failed",
        "print('x' * 10_000_000)": "passed",
    }
    limits = Limits(run_timeout=1)
    verdicts = backend.run([Program("python", source, limits) for source in programs])
    assert dict(zip(programs, [v.status for v in verdicts], strict=True)) == programs
    assert "AssertionError" in verdicts[1].detail
    assert "os.getcwd()" in verdicts[6].detail  # the program's own source line, from its traceback


def test_python_programs_sharing_a_server_cannot_affect_each_other(tmp_path, sandbox):
    """One fork-server sandbox runs the whole batch: files, /dev/shm and processes of one program must not leak
    into the next, and a program cannot kill the server (it is the sandbox's pid 1, which ignores SIGKILL sent
    from inside its own namespace)."""
    backend = LocalBackend(workers=1, store=False, sandbox=sandbox, progress=False, cache_dir=tmp_path)
    sleeper = "import posix, time\nif posix.fork() == 0:\n    time.sleep(60)\n"
    litter = "open('/tmp/left', 'w').write('x')\nopen('/dev/shm/left', 'w').write('x')\nopen('left', 'w').write('x')\n"
    clean = (
        "import os\nassert not any(os.path.exists(p) for p in ('/tmp/left', '/dev/shm/left', 'left'))\n"
        "others = [p for p in os.listdir('/proc') if p.isdigit() and int(p) not in (1, os.getpid(), os.getppid())]\n"
        "assert not others, others\n"
    )
    killer = "import posix\nposix.kill(posix.getppid(), 9)\n"
    sources = [sleeper, litter, clean, killer, clean, "assert False", clean]
    verdicts = backend.run([Program("python", source, Limits(run_timeout=5)) for source in sources])
    assert [v.status for v in verdicts] == ["passed", "passed", "passed", "passed", "passed", "failed", "passed"]


def test_an_interpreter_named_through_dot_dot_still_runs_in_the_sandbox(tmp_path, sandbox):
    # e.g. `../.venv/bin/python bench.py` run from the checkout's benchmarks/, a directory the sandbox lacks.
    hidden = Path(__file__).resolve().parent
    detour = str(hidden) + "/.." * len(hidden.parts[1:]) + sys.executable
    language = PythonLanguage(interpreter=detour)
    workdir = tmp_path / "work"
    workdir.mkdir()
    verdict = language.execute(Program("python", "assert 1 + 1 == 2"), workdir, sandbox, tmp_path)
    assert verdict.status == "passed", verdict.detail


def test_a_python_server_that_cannot_start_is_a_harness_error_not_a_failure(tmp_path, sandbox):
    """`error` verdicts are never stored (see the store tests), so such a program runs again next time."""
    from lm_eval_octopack.executors.errors import ExecutionInfrastructureError

    broken = PythonLanguage(interpreter="/bin/false")
    workdir = tmp_path / "work"
    workdir.mkdir()
    with pytest.raises(ExecutionInfrastructureError, match="stopped before running"):
        broken.execute(Program("python", "assert True"), workdir, sandbox, tmp_path)
    register_language(broken)
    try:
        backend = LocalBackend(workers=1, store=False, sandbox=sandbox, progress=False, cache_dir=tmp_path)
        seen = []
        backend.execute([Program("python", "assert True")], lambda program, verdict: seen.append(verdict))
        assert [v.status for v in seen] == ["error"]
    finally:
        unregister_language("python")


def test_js_verdict_rule(tmp_path, sandbox):
    backend = LocalBackend(workers=2, store=False, sandbox=sandbox, progress=False, cache_dir=tmp_path)
    programs = {
        "console.assert(1 === 1)": "passed",
        "console.assert(1 === 2)": "failed",  # exit code 0, but "Assertion failed" on stderr
        "console.log('hi')": "failed",  # any output fails, as in the reference
        "process.exit(3)": "passed",  # the exit code is ignored, as in the reference
        "const md5 = require('js-md5'); console.assert(md5('') === 'd41d8cd98f00b204e9800998ecf8427e')": "passed",
        "while (true) {}": "timeout",
    }
    try:
        verdicts = backend.run([Program("js", source, Limits(run_timeout=1)) for source in programs])
    except ToolchainMissing as e:
        pytest.skip(f"node/npm unavailable: {e}")
    assert [v.status for v in verdicts] == list(programs.values())


def test_identical_programs_execute_once(backend):
    programs = [Program("python", "assert True"), Program("python", "assert False"), Program("python", "assert True")]
    verdicts = backend.run(programs)
    assert [v.status for v in verdicts] == ["passed", "failed", "passed"]
    assert sorted(backend.sandbox.sources) == ["assert False", "assert True"]


def test_missing_toolchain_fails_before_anything_runs(backend):
    register_language(PythonLanguage(interpreter="/nonexistent/python3"))
    forget_prepared()
    try:
        with pytest.raises(ToolchainMissing, match="python.*How to install") as error:
            backend.run([Program("python", "assert True")])
        assert error.value.language == "python"
        assert backend.sandbox.sources == []
    finally:
        unregister_language("python")
        forget_prepared()


def test_toolchain_versions_reuse_the_preparation_check(tmp_path):
    from lm_eval_octopack.executors.toolchains import prepare_languages, toolchain_versions

    class CountingPython(PythonLanguage):
        checks = 0

        def check(self, cache_dir):
            CountingPython.checks += 1
            return super().check(cache_dir)

    register_language(CountingPython())
    forget_prepared()
    try:
        assert toolchain_versions("python", tmp_path)["python"].startswith(f"{sys.version_info[0]}.")  # unprepared
        assert CountingPython.checks == 1
        prepare_languages(["python"], tmp_path)
        checks_after_preparing = CountingPython.checks
        assert toolchain_versions("python", tmp_path) == toolchain_versions("python", tmp_path / ".")
        assert CountingPython.checks == checks_after_preparing  # the preparation's report, no second check
    finally:
        unregister_language("python")
        forget_prepared()


def test_doctor_reports_tools_and_renders(tmp_path):
    reports = doctor(["python", "js"], cache_dir=tmp_path)
    by_language = {r.language: r for r in reports}
    assert by_language["python"].ok and "numpy" in by_language["python"].found
    assert "sandbox" in by_language
    text = render_doctor(reports)
    assert text.startswith("python   OK") and "numpy" in text
    if not by_language["js"].ok:
        assert "install" in text


@pytest.mark.parametrize("mode", ["bwrap", "none"])
def test_a_command_that_cannot_start_is_a_harness_error(mode, tmp_path):
    """Not a `failed` verdict (which would be stored and trusted): the program never ran."""
    from lm_eval_octopack.executors.errors import ExecutionInfrastructureError

    try:
        runner = make_sandbox(mode)
    except SandboxUnavailable as e:
        pytest.skip(f"bubblewrap unavailable: {e}")
    with pytest.raises(ExecutionInfrastructureError, match="could not start /nonexistent/interpreter"):
        runner.run(["/nonexistent/interpreter", "x"], workdir=tmp_path, timeout=5, limits=LIMITS)
    assert (
        runner.run(
            ["/bin/sh", "-c", "echo 'bwrap: spoofed' >&2; exit 3"], workdir=tmp_path, timeout=5, limits=LIMITS
        ).returncode
        == 3
    )  # a program's own exit is still its own


# ----------------------------------------------------------------------------------------------- executor front

SCRIPTED_BACKEND = '''
from lm_eval_octopack.executors.front import Backend
from lm_eval_octopack.executors.types import Verdict

CALLS = []


class ScriptedBackend(Backend):
    """Dispatch only: a verdict per source word ("hang" times out; "flaky" only when not alone; "harness" errs)."""

    def __init__(self, store=None, cache_dir=None):
        super().__init__(store=store, cache_dir=cache_dir, progress=False)

    def execute(self, programs, on_result, alone=False, on_start=None):
        CALLS.append(([p.source for p in programs], alone))
        for program in programs:
            if "hang" in program.source or ("flaky" in program.source and not alone):
                on_result(program, Verdict("timeout", "scripted", 1.5))
            else:
                on_result(program, Verdict("error" if "harness" in program.source else "passed"))
'''


@pytest.fixture
def scripted_backend_entry_point(tmp_path, monkeypatch):
    """A third-party backend installed the way a package installs one: a module plus a dist-info directory
    advertising it in the entry-point group."""
    site = tmp_path / "site"
    (site / "scripted_backend-1.0.dist-info").mkdir(parents=True)
    (site / "scripted_backend.py").write_text(SCRIPTED_BACKEND)
    (site / "scripted_backend-1.0.dist-info" / "METADATA").write_text("Name: scripted-backend\nVersion: 1.0\n")
    (site / "scripted_backend-1.0.dist-info" / "entry_points.txt").write_text(
        "[lm_eval_octopack.backends]\nscripted = scripted_backend:ScriptedBackend\n"
    )
    monkeypatch.syspath_prepend(str(site))
    yield
    sys.modules.pop("scripted_backend", None)


def test_a_backend_that_only_dispatches_gets_dedup_store_and_timeout_re_runs(scripted_backend_entry_point, tmp_path):
    from lm_eval_octopack.executors import ResultStore

    assert {"local", "ray", "scripted"} <= set(backend_names())
    store = ResultStore(tmp_path / "results.sqlite")
    backend = get_backend("scripted", store=store, cache_dir=tmp_path)
    calls = sys.modules["scripted_backend"].CALLS
    sources = ["ok", "ok", "flaky", "hang", "harness"]
    verdicts = backend.run([Program("python", source) for source in sources])
    assert [v.status for v in verdicts] == ["passed", "passed", "passed", "timeout", "error"]
    assert calls == [(["ok", "flaky", "hang", "harness"], False), (["flaky", "hang"], True)]
    assert store.count() == 3  # the error verdict is not stored
    summary = backend.last_summary
    assert (summary.programs, summary.distinct, summary.from_store, summary.executed) == (5, 4, 0, 4)
    assert (summary.timeouts, summary.reruns, summary.timeout_seconds) == (1, 2, 4.5)
    assert "4.5 s of run time went to timeouts" in summary.timeouts_line()

    calls.clear()
    again = backend.run([Program("python", source) for source in sources])
    assert again == verdicts and calls == [(["harness"], False)]  # only the error runs again
    assert (backend.last_summary.from_store, backend.last_summary.timeout_seconds) == (3, 0.0)
    assert backend.last_summary.timeouts_line() == ""


def test_local_runs_report_starts_and_the_time_timeouts_cost(tmp_path, sandbox):
    backend = LocalBackend(workers=2, store=False, sandbox=sandbox, progress=False, cache_dir=tmp_path)
    hang, quick = Program("python", "while True:\n    pass", Limits(run_timeout=1)), Program("python", "assert True")
    events = []
    backend.execute(
        [hang, quick],
        lambda program, verdict: events.append(("done", program.source)),
        on_start=lambda programs: events.extend(("start", p.source) for p in programs),
    )
    for source in (hang.source, quick.source):
        assert events.index(("start", source)) < events.index(("done", source))

    assert [v.status for v in backend.run([hang, quick, hang])] == ["timeout", "passed", "timeout"]
    summary = backend.last_summary
    assert (summary.distinct, summary.executed, summary.timeouts, summary.reruns) == (2, 2, 1, 1)
    assert 2.0 <= summary.timeout_seconds < 10  # both tries of the hang, about 1 s each


def test_the_progress_display_counts_programs_running_past_a_threshold():
    import io

    from lm_eval_octopack.executors.front import ProgressDisplay
    from rich.console import Console

    slow, fast = Program("python", "slow"), Program("js", "fast")
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=160)
    with ProgressDisplay(True, [slow, fast], {}, slow_after=0.2, console=console) as display:
        display.started([slow, fast])
        display.advance(fast, Verdict("passed"))
        time.sleep(0.3)
        assert (display.slow("python"), display.slow("js")) == (1, 0)
        display.progress.refresh()
        assert "1 running > 0.2 s" in screen.getvalue()
        display.advance(slow, Verdict("failed"))
        assert display.slow("python") == 0


def test_registering_something_that_is_not_a_language_is_refused_clearly():
    from lm_eval_octopack.executors.registry import register_language

    class NotALanguage:
        name = "python"

    with pytest.raises(TypeError, match="Language subclass, not NotALanguage"):
        register_language(NotALanguage())


@pytest.mark.parametrize(
    ("workers", "programs", "sizes"),
    [
        (1, 130, [44, 44, 42]),  # at most the language's own chunk (64), evenly
        (2, 130, [33, 33, 33, 31]),  # three chunks would leave a core idle at the end: four
        (2, 100, [50, 50]),
        (4, 6, [2, 2, 2]),  # fewer programs than chunks a worker each: as even as they go
    ],
)
def test_a_language_s_chunks_keep_every_worker_busy(tmp_path, workers, programs, sizes):
    backend = LocalBackend(workers=workers, store=False, sandbox="none", progress=False, cache_dir=tmp_path)
    sources = [Program("python", f"assert {k} == {k}\n") for k in range(programs)]
    jobs = list(backend._jobs(sources))
    assert [len(job.programs) for job in jobs] == sizes and all(job.batched for job in jobs)
    assert [p for job in jobs for p in job.programs] == sources
    explicit = LocalBackend(
        workers=workers, store=False, sandbox="none", progress=False, cache_dir=tmp_path, batch_size=40
    )
    assert max(len(job.programs) for job in explicit._jobs(sources)) == min(40, programs)  # a size asked for is kept


def test_the_sandbox_shows_each_language_toolchain_roots_but_never_the_home_or_root_directory(tmp_path: Path):
    """``toolchains.toolchain_roots`` is what the languages name (``Language.toolchain_roots``), minus any root that
    would show the whole filesystem or the home directory, or does not exist."""
    from lm_eval_octopack.executors import toolchains
    from lm_eval_octopack.executors.registry import get_language, register_language

    class InstalledElsewhere(PythonLanguage):
        def toolchain_roots(self) -> list[Path]:
            return [tmp_path, Path("/"), Path.home(), tmp_path / "missing"]

    go_roots = get_language("go").toolchain_roots()
    toolchains.toolchain_roots.cache_clear()
    register_language(InstalledElsewhere())
    try:
        roots = toolchains.toolchain_roots()
    finally:
        unregister_language("python")
        toolchains.toolchain_roots.cache_clear()
    assert tmp_path in roots and not {Path("/"), Path.home(), tmp_path / "missing"} & set(roots)
    assert set(go_roots) <= set(roots)  # the other languages' roots are still there
