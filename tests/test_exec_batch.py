"""Commands of a batch through ONE sandbox (``exec_batch``): each gets what ``sandbox.run`` would give it alone.

Real bubblewrap, real processes: exit codes, captured output, the run deadline, a fresh directory with the
command's files, a command's end is the end of its output (as the reference's subprocess.run), and a command
cannot kill the server (the sandbox's pid 1).
"""

from __future__ import annotations

from lm_eval_octopack.executors.runtime.exec_batch import Command, run_each
from lm_eval_octopack.executors.types import Limits
from test_executors_languages import cache_dir, workdir  # noqa: F401 (fixtures)

LIMITS = Limits(run_timeout=1.0, max_output_bytes=1024)


def sh(script: str, timeout: float = 1.0, files: dict[str, str] | None = None) -> Command:
    return Command(["/bin/sh", "-c", script], timeout, files or {})


def test_each_command_gets_its_own_result_and_cannot_kill_the_server(workdir, sandbox):  # noqa: F811
    commands = [
        sh("exit 3"),
        sh("echo out; echo err >&2"),
        sh("sleep 5"),
        sh("cat given.txt; ls | wc -l; touch left-behind", files={"given.txt": "mine\n"}),
        sh("test ! -e left-behind && test ! -e given.txt"),  # a fresh directory: nothing from the one before
        sh("head -c 100000 /dev/zero"),
        sh("kill -9 $PPID; kill -9 1; echo alive"),  # its parent is the batch server, pid 1: signals do not reach it
        sh("echo after"),
        sh("(sleep 5 &); exit 0"),  # a child left holding the output: its end is awaited until the deadline
        sh("(sleep 0.3 &); exit 0"),  # ... and once it ends, the command has ended
    ]
    streamed: list[int] = []
    results = run_each(
        commands,
        sandbox=sandbox,
        workdir=workdir,
        limits=LIMITS,
        on_result=lambda position, _: streamed.append(position),
    )
    assert sorted(results) == list(range(10)) and sorted(streamed) == sorted(results)
    assert results[0].returncode == 3 and not results[0].timed_out
    assert (results[1].returncode, results[1].stdout, results[1].stderr) == (0, "out\n", "err\n")
    assert results[2].timed_out and results[2].returncode is None and 0.9 < results[2].seconds < 3
    assert results[3].stdout == "mine\n1\n"
    assert results[4].returncode == 0
    assert results[5].output_truncated and len(results[5].stdout) <= 1024
    assert (results[6].returncode, results[6].stdout) == (0, "alive\n")
    assert (results[7].returncode, results[7].stdout) == (0, "after\n")
    assert results[8].timed_out and results[8].returncode is None and 0.9 < results[8].seconds < 3
    assert results[9].returncode == 0 and not results[9].timed_out and 0.25 < results[9].seconds < 0.9
