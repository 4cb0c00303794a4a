"""Hostile programs (tests/adversarial/<language>/<case>.*) against the real bubblewrap sandbox.

For every language and attack: the verdict is a failure or a timeout (never a pass, which would mean a
breach, nor a compile error, which would mean a broken corpus), the canary outside the sandbox is intact,
the test's loopback listener saw no connection, the harness survives, and no process is left behind.
A language is skipped while its module or toolchain is missing. Programs run one per sandbox
(``batch_size=1``): this pins the sandbox's per-program containment, not a language's batching.

The filesystem cases need targets that exist and that the harness itself can read or connect to: /etc/shadow,
this checkout's README.md, the result store, a file in a planted sibling scratch dir, and listening unix sockets
in a host temp dir and (when writable) under /run. Inside the sandbox none of them may be visible.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from lm_eval_octopack.executors import Limits, Program, SandboxUnavailable, ToolchainMissing, Verdict, default_cache_dir
from lm_eval_octopack.executors.backends.local import LocalBackend
from lm_eval_octopack.executors.store import ResultStore

CORPUS = Path(__file__).parent / "adversarial"
EXTENSIONS = {"python": "py", "js": "js", "cpp": "cpp", "java": "java", "go": "go", "rust": "rs"}
CASES = (
    "fork_bomb",
    "infinite_loop",
    "memory_bomb",
    "disk_fill",
    "output_flood",
    "network",
    "escape_write",
    "kill_parent",
    "orphan",
    "read_host_files",
    "unix_socket",
    "fill_dev",
)
CONTAINED = {"failed", "timeout"}
EXPECTED = {case: CONTAINED for case in CASES} | {
    case: {"failed"} for case in ("disk_fill", "network", "orphan", "read_host_files", "unix_socket", "fill_dev")
}
LIMITS = Limits(
    compile_timeout=60,
    run_timeout=2,
    memory_mb=768,
    max_processes=64,
    max_file_mb=8,
    scratch_mb=16,
    max_output_bytes=16 * 1024,
)
CANARY_TEXT = "the harness owns this file"
SECRET_TEXT = "a batch-mate's source in another scratch dir"
PLANTED_RUN = "run-planted"  # named like the backend's work dirs, beside them


@dataclass
class Arena:
    canary: Path
    listener: socket.socket
    marker: str
    scratch: Path
    read_targets: list[Path]
    unix_listeners: list[socket.socket]


@dataclass
class LanguageRun:
    verdicts: dict[str, object]
    leftovers: list[str]


@pytest.fixture(scope="module")
def arena(tmp_path_factory) -> Iterator[Arena]:
    canary_dir = tmp_path_factory.mktemp("canary")
    canary = canary_dir / "canary.txt"
    canary.write_text(CANARY_TEXT)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.setblocking(False)
    scratch = tmp_path_factory.mktemp("scratch")
    socket_paths = [tmp_path_factory.mktemp("sockets") / "host.sock"]
    if os.access("/run", os.W_OK):
        socket_paths.append(Path("/run") / f"octopack-test-{uuid.uuid4().hex[:12]}.sock")
    unix_listeners = [unix_listener(path) for path in socket_paths]
    read_targets = host_secrets(scratch)
    yield Arena(canary, listener, f"octopack-marker-{uuid.uuid4().hex}", scratch, read_targets, unix_listeners)
    listener.close()
    for path, server in zip(socket_paths, unix_listeners, strict=True):
        server.close()
        path.unlink(missing_ok=True)


def host_secrets(scratch: Path) -> list[Path]:
    """Files a program must not read, each checked readable by the harness (else the case could not fail)."""
    planted = scratch / PLANTED_RUN / "source.py"
    planted.parent.mkdir()
    planted.write_text(SECRET_TEXT)
    store = ResultStore()  # the default store in use (created if this machine has none yet)
    store.close()
    targets = [Path(__file__).resolve().parents[1] / "README.md", store.path, planted]
    targets += [path for path in (Path("/etc/shadow"),) if path.exists()]
    for path in targets:
        # os.access, not a read: opening and closing the store in this process would drop the POSIX locks that this
        # process's SQLite connections hold on it, and the next process to close the store would delete its WAL
        # under them (later tests then fail with "disk I/O error").
        assert path.stat().st_size and os.access(path, os.R_OK), f"{path} must be readable outside the sandbox"
    return targets


def unix_listener(path: Path) -> socket.socket:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(16)
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.connect(str(path))  # reachable from the host
    server.accept()[0].close()
    probe.close()
    server.setblocking(False)
    return server


def assert_host_untouched(arena: Arena, verdicts: list) -> None:
    assert arena.canary.read_text() == CANARY_TEXT
    assert sorted(p.name for p in arena.canary.parent.iterdir()) == ["canary.txt"]
    for server in (arena.listener, *arena.unix_listeners):
        with pytest.raises(BlockingIOError):
            server.accept()  # nobody got through to the host's loopback or its unix sockets
    assert [v.detail for v in verdicts if SECRET_TEXT in v.detail] == []
    assert [p.name for p in arena.scratch.iterdir()] == [PLANTED_RUN]  # every work dir was removed


@pytest.fixture(scope="module")
def runs(arena) -> dict[str, LanguageRun]:
    return {}


def load_case(language: str, case: str, arena: Arena) -> str:
    text = (CORPUS / language / f"{case}.{EXTENSIONS[language]}").read_text()
    replacements = {
        "__PORT__": str(arena.listener.getsockname()[1]),
        "__CANARY_DIR__": str(arena.canary.parent),
        "__CANARY__": str(arena.canary),
        "__MARKER__": arena.marker,
        "__READ_TARGETS__": ":".join(map(str, arena.read_targets)),
        "__SOCKETS__": ":".join(server.getsockname() for server in arena.unix_listeners),
    }
    for placeholder, value in replacements.items():
        text = text.replace(placeholder, value)
    return text


def run_language(language: str, arena: Arena, runs: dict[str, LanguageRun]) -> LanguageRun:
    if language not in runs:
        try:
            backend = LocalBackend(
                workers=2,
                store=False,
                sandbox="bwrap",
                progress=False,
                cache_dir=default_cache_dir(),
                scratch_dir=arena.scratch,
                batch_size=1,
                retry_timeouts=False,  # attacks' verdicts: failed or timeout
            )
        except SandboxUnavailable as e:
            pytest.skip(f"bubblewrap unavailable: {e}")
        programs = [Program(language, load_case(language, case, arena), LIMITS) for case in CASES]
        try:
            verdicts = backend.run(programs)
        except (ValueError, ToolchainMissing) as e:
            pytest.skip(f"{language} cannot run here yet: {e}")
        runs[language] = LanguageRun(dict(zip(CASES, verdicts, strict=True)), surviving_processes(arena))
    return runs[language]


def surviving_processes(arena: Arena) -> list[str]:
    """Processes carrying the marker or living in one of the (deleted) work dirs."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if arena.marker in cmdline or cwd.startswith(str(arena.scratch)):
            found.append(f"{entry.name}: {cmdline[:120]} (cwd {cwd})")
    return found


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("language", list(EXTENSIONS))
def test_hostile_program_is_contained(language: str, case: str, arena: Arena, runs: dict[str, LanguageRun]) -> None:
    run = run_language(language, arena, runs)
    verdict = run.verdicts[case]
    assert verdict.status in EXPECTED[case], f"{language}/{case}: {verdict}"
    assert_host_untouched(arena, list(run.verdicts.values()))
    assert run.leftovers == []


@pytest.mark.slow
def test_harness_still_works_after_the_corpus(arena: Arena, runs: dict[str, LanguageRun]) -> None:
    run_language("python", arena, runs)
    backend = LocalBackend(workers=1, store=False, progress=False, scratch_dir=arena.scratch)
    assert backend.run([Program("python", "assert sum([1, 2]) == 3", LIMITS)])[0].status == "passed"


def test_checking_the_read_targets_leaves_the_open_store_usable(tmp_path: Path) -> None:
    """A regression: the arena once read the store's bytes, which dropped the locks that this process's open SQLite
    connections held on it; the next process to close the store then removed its WAL, and every later test failed
    with "disk I/O error"."""
    store = ResultStore()
    store.put("arena-regression", Verdict("passed"))
    host_secrets(tmp_path)
    other = "from lm_eval_octopack.executors.store import ResultStore; s = ResultStore(); s.count(); s.close()"
    subprocess.run([sys.executable, "-c", other], check=True, timeout=60)
    store.put("arena-regression", Verdict("failed", "again"))
    reopened = ResultStore(store.path)  # a new connection sees what the open one wrote
    assert reopened.get("arena-regression") == Verdict("failed", "again")
    assert reopened._connection().execute("PRAGMA integrity_check").fetchone() == ("ok",)


BATCHING = ("python", "js", "go", "java", "cpp", "rust")  # languages that run many programs per sandbox or per compile


def good_program(language: str) -> str:
    if language == "python":
        return "assert sum([1, 2]) == 3"
    if language == "rust":  # no crates: a test binary linking rand/regex/md5 exceeds LIMITS' 8 MB file size
        return "fn main() {}\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn ok() { assert_eq!(1 + 1, 2); }\n}\n"
    if language == "js":
        return "const assert = require('assert');\nassert.deepStrictEqual([1, 2].length, 2);\n"
    from test_executors_languages import PROGRAMS  # the compiled languages' passing tiny programs

    if language == "cpp":  # with the import helper's headers, as HumanEvalPack programs: they can be merged
        from lm_eval_octopack.executors.languages.cpp import HELPER_HEADERS

        return "".join(f"#include<{name}>\n" for name in HELPER_HEADERS) + PROGRAMS["cpp"]["passed"]
    return PROGRAMS[language]["passed"]


@pytest.mark.slow
@pytest.mark.parametrize("language", BATCHING)
def test_hostile_programs_cannot_harm_their_batch_mates(language: str, arena: Arena) -> None:
    """The whole corpus in ONE batch, each attack followed by an honest program: every attack is contained
    and every honest program still passes (what one program does must not decide another's verdict)."""
    backend = LocalBackend(
        workers=1,
        store=False,
        sandbox="bwrap",
        progress=False,
        cache_dir=default_cache_dir(),
        scratch_dir=arena.scratch,
        batch_size=64,
        retry_timeouts=False,  # a re-run would only double the hangs' cost
    )
    good = good_program(language)
    sources = []
    for index, case in enumerate(CASES):
        # distinct honest programs (identical ones would be executed once)
        sources += [load_case(language, case, arena), good + "\n" * (index + 1)]
    try:
        verdicts = backend.run([Program(language, source, LIMITS) for source in sources])
    except (ValueError, ToolchainMissing) as e:
        pytest.skip(f"{language} cannot run here: {e}")
    hostile, honest = verdicts[0::2], verdicts[1::2]
    assert {case: v.status for case, v in zip(CASES, hostile, strict=True) if v.status not in EXPECTED[case]} == {}
    assert [v.status for v in honest] == ["passed"] * len(CASES), [v.detail for v in honest if not v.passed]
    assert_host_untouched(arena, verdicts)
    assert surviving_processes(arena) == []


# ------------------------------------------------------------------ the sandbox's own view (fast, shell probes)


def shell(sandbox, tmp_path: Path, script: str, **kwargs):
    return sandbox.run(["/bin/sh", "-c", script], workdir=tmp_path, timeout=10, limits=LIMITS, **kwargs)


def test_programs_run_as_a_non_root_user(sandbox, tmp_path: Path) -> None:
    if not sandbox.user_flags:
        pytest.skip("this bubblewrap cannot map a non-root uid (no user namespace)")
    result = shell(sandbox, tmp_path, "id -u; id -g; id -un; cat /proc/self/status | grep CapEff")
    uid, gid, name, caps = result.stdout.split("\n")[:4]
    assert (uid, gid, name) == ("1000", "1000", "sandbox")
    assert caps.split()[-1] == "0000000000000000"


def test_only_the_program_own_dirs_are_writable(sandbox, tmp_path: Path) -> None:
    result = shell(
        sandbox, tmp_path, "for d in /dev /dev/shm / /etc /tmp .; do touch $d/probe 2>/dev/null && echo $d; done"
    )
    assert result.stdout.split() == ["/dev/shm", "/tmp", "."]


def test_etc_holds_no_host_secrets(sandbox, tmp_path: Path) -> None:
    result = shell(sandbox, tmp_path, "ls -a /etc /etc/ssl; cat /etc/passwd /etc/group")
    listing = result.stdout.split()
    for secret in ("shadow", "gshadow", "ssh", "sudoers", "private", "pip.conf", "npmrc", "gitconfig", "subuid"):
        assert secret not in listing
    users = {line.split(":")[0] for line in result.stdout.splitlines() if line.count(":") >= 6}
    assert users == {"root", "sandbox", "nobody"}
    assert "ld.so.cache" in listing


def test_home_project_and_cache_are_not_visible(sandbox, tmp_path: Path) -> None:
    checkout = Path(__file__).resolve().parents[1]
    result = shell(sandbox, tmp_path, f"ls -a {Path.home()} {checkout} {default_cache_dir()} /run /var 2>&1")
    assert ".git" not in result.stdout and "results.sqlite" not in result.stdout and "README.md" not in result.stdout
    assert "No such file or directory" in result.stdout  # /run and /var are not there at all


def test_as_pid_1_makes_the_command_the_namespace_init(sandbox, tmp_path: Path) -> None:
    assert shell(sandbox, tmp_path, "echo $$", as_pid_1=True).stdout.strip() == "1"
    assert shell(sandbox, tmp_path, "echo $$").stdout.strip() != "1"  # bubblewrap's reaper is pid 1
