"""One program must never decide another's verdict, nor its own other than the reference would (issue 13).

Real bubblewrap, real batch servers, the hostile programs of ``tests/adversarial/<language>/``: forging batch-mates'
records through ``/proc/1/fd/*``, a Python program forging its own pass on its report pipe, SysV IPC objects left
for the next job, and a child left holding standard output. Each runs batched (one server for all) and alone,
and both must give the reference's verdict; what is stored is what was true. ``ServerReports``, the harness's
parser of the report channel, is attacked directly too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from lm_eval_octopack.executors import Limits, Program, SandboxUnavailable, ToolchainMissing, default_cache_dir
from lm_eval_octopack.executors.backends.local import LocalBackend
from lm_eval_octopack.executors.runtime.batch_server import ServerReports
from test_executors_adversarial import good_program

CORPUS = Path(__file__).parent / "adversarial"
EXTENSIONS = {"python": "py", "js": "js", "cpp": "cpp", "java": "java", "rust": "rs"}
QUICK = ("python", "js")  # the others compile: slow
LIMITS = Limits(run_timeout=3.0, compile_timeout=60)
KEY = b"k" * 32


def language_params(languages):
    return [pytest.param(name, marks=() if name in QUICK else pytest.mark.slow) for name in languages]


def corpus(language: str, case: str) -> str:
    text = (CORPUS / language / f"{case}.{EXTENSIONS[language]}").read_text()
    if language == "cpp":  # the import helper's headers, as HumanEvalPack programs: it can join the merged binary
        from lm_eval_octopack.executors.languages.cpp import HELPER_HEADERS

        text = "".join(f"#include<{name}>\n" for name in HELPER_HEADERS) + text
    return text


def buggy_program(language: str, variant: int) -> str:
    good = good_program(language)
    broken = {
        "python": good.replace("== 3", "== 4"),
        "js": good.replace("length, 2", "length, 3"),
        "rust": good.replace("1 + 1, 2", "1 + 1, 3"),
        "java": good.replace("!= 2", "!= 3"),
        "cpp": good.replace("== 2", "== 3"),
    }[language]
    assert broken != good
    return broken + "\n" * (variant + 1)  # distinct sources: identical ones would be executed once


def run(language: str, sources: list[str], tmp_path: Path, batch_size: int, store: Path | None = None) -> list:
    try:
        backend = LocalBackend(
            workers=1,
            store=str(store) if store else False,
            sandbox="bwrap",
            progress=False,
            cache_dir=default_cache_dir(),
            batch_size=batch_size,
        )
        return backend.run([Program(language, source, LIMITS) for source in sources])
    except SandboxUnavailable as e:
        pytest.skip(f"bubblewrap unavailable: {e}")
    except (ValueError, ToolchainMissing) as e:
        pytest.skip(f"{language} cannot run here: {e}")


def statuses(verdicts) -> list[str]:
    return [v.status for v in verdicts]


@pytest.mark.parametrize("language", language_params(EXTENSIONS))
def test_a_forger_cannot_pass_its_batch_mates_nor_get_forgeries_stored(language: str, tmp_path: Path) -> None:
    buggy = [buggy_program(language, i) for i in range(3)]
    sources = [corpus(language, "forge_batch_mates"), *buggy, good_program(language) + "\n"]
    store = tmp_path / "results.sqlite"
    expected = ["failed"] * 4 + ["passed"]
    assert statuses(run(language, sources, tmp_path, 64, store)) == expected
    assert statuses(run(language, sources, tmp_path, 1)) == expected  # alone, no store
    assert statuses(run(language, buggy, tmp_path, 64, store)) == ["failed"] * 3  # what was stored is true


def test_a_python_program_cannot_forge_its_own_pass(tmp_path: Path) -> None:
    source = corpus("python", "forge_own_pass")
    honest = good_program("python")
    assert statuses(run("python", [source, honest], tmp_path, 64)) == ["failed", "passed"]
    assert statuses(run("python", [source], tmp_path, 1)) == ["failed"]


def test_sysv_ipc_objects_do_not_survive_into_the_next_job(tmp_path: Path) -> None:
    create, check = corpus("python", "sysv_ipc_create"), corpus("python", "sysv_ipc_check")
    # the creator must pass (else the check could not fail), and the check after it in the same server too
    assert statuses(run("python", [create, check], tmp_path, 64)) == ["passed", "passed"]


@pytest.mark.parametrize("language", language_params(("python", "js", "java", "cpp", "rust")))
def test_a_child_holding_stdout_gets_the_reference_verdict_batched_and_alone(language: str, tmp_path: Path) -> None:
    """Python runs in-process in the reference (the child does not matter: passed); the others run under
    subprocess.run(capture_output=True, timeout=...), which waits for the end of output: timeout. C++ and Rust
    batch the holder into their merged binary with the honest program; alone, only the run step is served."""
    expected = "passed" if language == "python" else "timeout"
    holder = corpus(language, "stray_stdout_holder")
    assert statuses(run(language, [holder, good_program(language)], tmp_path, 64)) == [expected, "passed"]
    assert statuses(run(language, [holder], tmp_path, 1)) == [expected]


@pytest.mark.slow
def test_a_go_child_holding_stdout_fails_as_go_test_decides_batched_and_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reference's ``go test`` gives its test binary a pipe of its own and, once the binary has exited, waits
    5 s for that pipe (Go >= 1.20's WaitDelay) and then fails the run ("Test I/O incomplete"); the outer pipe is
    never held. Batched, the merged binary's run holds the server's pipe: the batch leaves it to go test alone
    (not the backend's timeout re-run, off here)."""
    monkeypatch.setenv("OCTOPACK_RETRY_TIMEOUTS", "0")
    holder = (CORPUS / "go" / "stray_stdout_holder.go").read_text()
    for batch_size in (64, 1):
        verdicts = run("go", [holder, good_program("go")], tmp_path, batch_size)
        assert statuses(verdicts) == ["failed", "passed"], [v.detail for v in verdicts]
        assert "Test I/O incomplete" in verdicts[0].detail


# ----------------------------------------------------------------------------------------- the report parser


def signed(record: dict, key: bytes = KEY) -> bytes:
    payload = json.dumps(record).encode()
    return hmac.new(key, payload, hashlib.sha256).hexdigest().encode() + b" " + payload + b"\n"


def parse(*lines: bytes, jobs: int = 3) -> tuple[dict[int, dict], ServerReports]:
    seen: dict[int, dict] = {}
    reports = ServerReports(KEY, jobs, seen.setdefault, lambda record: record)
    reports.feed(b"".join(lines))
    return seen, reports


def test_reports_take_only_signed_records_of_the_announced_job_once() -> None:
    ok = {"index": 0, "status": "failed"}
    seen, reports = parse(signed({"start": 0}), signed(ok), signed({"index": 0, "status": "passed"}))
    assert seen == {0: ok} and reports.rejected == 1  # the second record of job 0


@pytest.mark.parametrize(
    "forged",
    [
        json.dumps({"index": 1, "status": "passed"}).encode() + b"\n",  # unsigned
        signed({"index": 1, "status": "passed"}, key=b"x" * 32),  # signed with another key
        signed({"index": 1, "status": "passed"}),  # signed, but job 1 was never announced
        signed({"start": 7}) + signed({"index": 7, "status": "passed"}),  # past the batch
        signed({"start": -1}) + signed({"index": -1, "status": "passed"}),
        signed({"start": True}) + signed({"index": True, "status": "passed"}),  # True == 1, but not an index
    ],
)
def test_reports_reject_forgeries(forged: bytes) -> None:
    seen, reports = parse(signed({"start": 0}), forged, signed({"index": 0, "status": "failed"}))
    assert seen == {0: {"index": 0, "status": "failed"}} and reports.rejected >= 1


def test_reports_never_go_back_to_an_earlier_job() -> None:
    lines = [signed({"start": 1}), signed({"index": 1, "status": "failed"})]
    seen, reports = parse(*lines, signed({"start": 0}), signed({"index": 0, "status": "passed"}))
    assert seen == {1: {"index": 1, "status": "failed"}} and reports.rejected == 2


def test_the_report_channel_is_out_of_the_programs_reach(tmp_path: Path) -> None:
    """The forger's lines never even reach the channel (the server is pid 1, non-dumpable, its only holder):
    none had to be rejected. Without that, the HMAC check above would still drop them."""
    from lm_eval_octopack.executors.languages.python import LANGUAGE as PYTHON
    from lm_eval_octopack.executors.languages.python import verdict_from_record
    from lm_eval_octopack.executors.runtime.batch_server import ServerSpec, serve
    from lm_eval_octopack.executors.sandbox import make_sandbox

    try:
        sandbox = make_sandbox("bwrap")
    except SandboxUnavailable as e:
        pytest.skip(f"bubblewrap unavailable: {e}")
    spec = ServerSpec(
        PYTHON.interpreter,
        sandbox,
        LIMITS,
        verdict_from_record,
        read_only_paths=PYTHON.interpreter_paths(),
        jobs_in_tmp=True,
    )
    sources = [corpus("python", "forge_batch_mates"), buggy_program("python", 0)]
    served = serve([{"source": source, "timeout": 3.0} for source in sources], spec, tmp_path)
    assert [served.records[i].status for i in range(2)] == ["failed", "failed"] and served.rejected == 0
