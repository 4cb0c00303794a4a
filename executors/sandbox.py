"""Run one untrusted command isolated, bounded and without leftovers.

Two runners share one code path:

* ``BwrapSandbox`` (default): bubblewrap with ``--unshare-all`` (new user, pid, net, ipc, uts and cgroup
  namespaces; the network is loopback only), ``--die-with-parent --new-session --cap-drop ALL``, a non-root
  uid/gid inside and no further user namespaces. The program sees only what programs need, read-only: the
  system dirs (/usr, /bin, /lib*, /sbin), a minimal /etc (loader cache, alternatives, certificates, the JVM's
  config, and generated passwd/group/hosts with harmless entries only), the toolchains' installation roots
  (``toolchains.toolchain_roots``), the paths its language passes (dependency caches, binaries); writable only
  its own workdir, a size-capped private ``/tmp`` and ``/dev/shm``. Not the host's home, the project checkout,
  the result store, other work dirs, /run, the host's /tmp or any socket on them. ``/dev`` and ``/`` are
  remounted read-only once set up, so nothing a job writes there outlives it.
  The pid namespace makes every process of the program, setsid orphans included, die with it.
* ``UnsandboxedRunner`` (``OCTOPACK_SANDBOX=none``): a plain process group with the same limits. No
  filesystem or network isolation; only for machines without bubblewrap, after an explicit opt-in.

Limits (measured on Debian 12, kernel 6.x, see docs/specs execution.md):

* Processes: ``RLIMIT_NPROC`` is not enforced for uid 0, not even inside a user namespace, so the
  process count is capped with a cgroup-v1 ``pids`` group per concurrent run (``pids.max``). Without a
  writable pids hierarchy, a non-root user gets ``RLIMIT_NPROC`` (which counts all processes of that uid,
  hence a headroom is added); root gets no process cap (a warning is logged; in containers use
  ``docker run --pids-limit``). The pid namespace and the wall-clock kill still bound the damage.
* Memory: a cgroup-v1 ``memory`` group (``memory.limit_in_bytes``) when writable, else ``RLIMIT_DATA``.
  ``RLIMIT_AS`` is never used: the JVM and the Go runtime reserve far more address space than they use.
* CPU time ``RLIMIT_CPU`` (run timeout + 1 s), file size ``RLIMIT_FSIZE``, open files ``RLIMIT_NOFILE``.
* Output: at most ``max_output_bytes`` per stream are kept; a flood past 16x that is killed.
* Time: a wall-clock deadline, then SIGKILL of the process group and of every member of the cgroup.

The cgroups are created once per concurrent slot and reused (mkdir/rmdir per exec would cost ~2 ms),
and the rlimits are set by ``/bin/sh`` right before it ``exec``s bubblewrap, so the parent never needs a
``preexec_fn`` (which forces a slow ``fork`` of a possibly huge harness process and is thread-unsafe).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import math
import os
import queue
import selectors
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from .errors import ExecutionInfrastructureError, SandboxUnavailable
from .runtime.language import CommandResult, SandboxRunner
from .types import Limits

log = logging.getLogger(__name__)

CGROUP_V1_ROOT = Path("/sys/fs/cgroup")
CGROUP_GROUP_NAME = "lm-eval-octopack"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
FLOOD_FACTOR = 16  # keep reading (and discarding) up to this many times the cap, then kill
SIGXCPU_CODES = {-signal.SIGXCPU, 128 + signal.SIGXCPU}
BWRAP_INSTALL_HINT = (
    "bubblewrap (bwrap) is required to run untrusted code in a sandbox. Install it with "
    "`apt-get install bubblewrap` (Debian/Ubuntu), `dnf install bubblewrap` (Fedora) or run "
    "executors/install_toolchains.sh. To run WITHOUT any isolation (trusted code only) set "
    "OCTOPACK_SANDBOX=none or pass sandbox='none'."
)


# ----------------------------------------------------------------------------------------------- cgroups


class CgroupSlot:
    """One reusable pair of cgroup-v1 groups (pids, memory) that hosts one run at a time."""

    def __init__(self, dirs: dict[str, Path]):
        self.dirs = dirs
        self._written: dict[Path, str] = {}

    def configure(self, limits: Limits) -> None:
        if "pids" in self.dirs:
            self._write(self.dirs["pids"] / "pids.max", str(limits.max_processes))
        if "memory" in self.dirs:
            self._write(self.dirs["memory"] / "memory.limit_in_bytes", str(limits.memory_mb * 1024 * 1024))

    def _write(self, path: Path, value: str) -> None:
        if self._written.get(path) != value:
            path.write_text(value)
            self._written[path] = value

    def procs_files(self) -> list[Path]:
        return [d / "cgroup.procs" for d in self.dirs.values()]

    def members(self) -> list[int]:
        pids: set[int] = set()
        for procs in self.procs_files():
            with contextlib.suppress(OSError):
                pids.update(int(line) for line in procs.read_text().split())
        return sorted(pids)

    def kill_all(self, patience: float = 5.0) -> bool:
        """SIGKILL every member until the group is empty. Returns False if some survived `patience`."""
        pause, deadline = 0.0005, time.monotonic() + patience
        while members := self.members():
            for pid in members:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            if time.monotonic() > deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
        return True

    def remove(self) -> None:
        self.kill_all(patience=1.0)
        for d in self.dirs.values():
            with contextlib.suppress(OSError):
                d.rmdir()


class CgroupPool:
    """Creates cgroup slots lazily under ``/sys/fs/cgroup/<controller>/lm-eval-octopack/<pid>-<n>``."""

    def __init__(self, controllers: Sequence[str] = ("pids", "memory"), root: Path = CGROUP_V1_ROOT):
        self._lock = threading.Lock()
        self._free: queue.SimpleQueue[CgroupSlot] = queue.SimpleQueue()
        self._all: list[CgroupSlot] = []
        self.parents = {c: root / c / CGROUP_GROUP_NAME for c in controllers if _writable_v1(root / c)}
        for parent in self.parents.values():
            _remove_stale_slots(parent)
        if self.parents:
            atexit.register(self.close)

    @property
    def controllers(self) -> set[str]:
        return set(self.parents)

    @contextlib.contextmanager
    def acquire(self, limits: Limits) -> Iterator[CgroupSlot | None]:
        if not self.parents:
            yield None
            return
        try:
            slot = self._free.get_nowait()
        except queue.Empty:
            slot = self._new_slot()
        try:
            slot.configure(limits)
            yield slot
        finally:
            slot.kill_all()
            self._free.put(slot)

    def _new_slot(self) -> CgroupSlot:
        with self._lock:
            name = f"{os.getpid()}-{len(self._all)}"
            dirs = {}
            for controller, parent in self.parents.items():
                d = parent / name
                d.mkdir(parents=True, exist_ok=True)
                dirs[controller] = d
            slot = CgroupSlot(dirs)
            self._all.append(slot)
            return slot

    def close(self) -> None:
        for slot in self._all:
            slot.remove()
        self._all.clear()


def _writable_v1(controller_dir: Path) -> bool:
    parent = controller_dir / CGROUP_GROUP_NAME
    if not (controller_dir / "cgroup.procs").exists():
        return False
    try:
        parent.mkdir(exist_ok=True)
        probe = parent / f"probe-{os.getpid()}-{threading.get_ident()}"
        probe.mkdir(exist_ok=True)
        probe.rmdir()
        return True
    except OSError:
        return False


def _remove_stale_slots(parent: Path) -> None:
    """Remove slots left by harness processes that were SIGKILLed (their pid no longer exists)."""
    for d in parent.glob("*-*"):
        owner = d.name.split("-", 1)[0]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            CgroupSlot({"x": d}).remove()


# ----------------------------------------------------------------------------------------------- runners


class ProcessRunner:
    """Shared machinery: limits, output capture, deadline and whole-tree kill. Subclasses add isolation."""

    sandboxed = False

    def __init__(self, cgroups: CgroupPool | None = None):
        self.cgroups = cgroups if cgroups is not None else CgroupPool()
        self._warn_about_limits()

    def run(
        self,
        argv: Sequence[str],
        *,
        workdir: Path,
        timeout: float,
        limits: Limits,
        env: dict[str, str] | None = None,
        stdin: str | None = None,
        read_only_paths: Sequence[Path] = (),
        on_stdout: Callable[[bytes], None] | None = None,
        as_pid_1: bool = False,
    ) -> CommandResult:
        """Run ``argv`` bounded by ``limits`` and ``timeout``. ``as_pid_1``: the command itself is the sandbox's
        pid 1 (no bubblewrap reaper holding its pipes); it then reaps its own children. Ignored unsandboxed."""
        workdir = Path(workdir).resolve()
        full_env = self.environment(workdir, env)
        with self.cgroups.acquire(limits) as slot:
            inner = self.isolate(list(argv), workdir, limits, [Path(p) for p in read_only_paths], as_pid_1=as_pid_1)
            command = self._with_limits(inner, timeout, limits, slot)
            result = _execute(command, full_env, workdir, timeout, limits.max_output_bytes, stdin, slot, on_stdout)
        self._raise_if_not_started(result, argv)
        return result

    def _raise_if_not_started(self, result: CommandResult, argv: Sequence[str]) -> None:
        """The command never ran (our wrapper could not exec it): the harness's problem, not the program's,
        so it must not become a `failed` verdict that is stored and trusted."""
        first_line = _first_line(result.stderr)
        if result.returncode in (126, 127) and first_line.startswith("sh: ") and "exec" in first_line:
            raise ExecutionInfrastructureError(f"could not start {argv[0]}: {first_line}")

    def environment(self, workdir: Path, extra: dict[str, str] | None) -> dict[str, str]:
        """A clean environment: nothing of the harness leaks in (NODE_EXTRA_CA_CERTS alone costs node 35 ms)."""
        env = {
            "PATH": os.environ.get("PATH", DEFAULT_PATH),
            "HOME": str(workdir),
            "TMPDIR": self.tmpdir(workdir),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
        }
        env.update(extra or {})
        return env

    def tmpdir(self, workdir: Path) -> str:
        tmp = workdir / ".tmp"
        tmp.mkdir(exist_ok=True)
        return str(tmp)

    def isolate(
        self, argv: list[str], workdir: Path, limits: Limits, read_only: list[Path], *, as_pid_1: bool = False
    ) -> list[str]:
        return argv

    def _with_limits(self, argv: list[str], timeout: float, limits: Limits, slot: CgroupSlot | None) -> list[str]:
        """`sh` joins the cgroups and sets rlimits, then execs the command (same pid, no preexec_fn)."""
        steps = [f"echo $$ > {shlex.quote(str(p))}" for p in (slot.procs_files() if slot else [])]
        controllers = set(slot.dirs) if slot else set()
        # dash/POSIX sh: -f counts 512-byte blocks, -d counts KiB; one resource per ulimit call.
        steps.append(f"ulimit -t {cpu_seconds(timeout)}")
        steps.append(f"ulimit -f {limits.max_file_mb * 2048}")
        steps.append("ulimit -n 1024")
        if "memory" not in controllers:
            steps.append(f"ulimit -d {limits.memory_mb * 1024}")
        if "pids" not in controllers and os.geteuid() != 0:
            steps.append(f"ulimit -u {_nproc_with_headroom(limits.max_processes)}")
        script = " && ".join(steps) + ' && exec "$@"'
        return ["/bin/sh", "-c", script, "sh", *argv]

    def _warn_about_limits(self) -> None:
        if "pids" not in self.cgroups.controllers and os.geteuid() == 0:
            log.warning(
                "No writable cgroup-v1 pids hierarchy and running as root: the number of processes a program "
                "may create is NOT capped (RLIMIT_NPROC does not apply to root). Use a pids cgroup or "
                "`docker run --pids-limit`."
            )


class BwrapSandbox(ProcessRunner):
    """bubblewrap isolation: a minimal read-only view, private workdir and /tmp, no network, own pid namespace."""

    sandboxed = True

    def __init__(self, bwrap: str | None = None, cgroups: CgroupPool | None = None):
        self.bwrap = bwrap or shutil.which("bwrap") or "/usr/bin/bwrap"
        self.user_flags = _probe_bwrap(self.bwrap)
        system_view()  # built now (~0.2 s once per process), not during the first, timed, run
        super().__init__(cgroups)

    def tmpdir(self, workdir: Path) -> str:
        return "/tmp"

    def isolate(
        self, argv: list[str], workdir: Path, limits: Limits, read_only: list[Path], *, as_pid_1: bool = False
    ) -> list[str]:
        scratch_bytes = str(limits.scratch_mb * 1024 * 1024)
        command = [
            self.bwrap,
            "--unshare-all",
            *self.user_flags,
            "--die-with-parent",
            "--new-session",
            "--cap-drop",
            "ALL",
            *(["--as-pid-1"] if as_pid_1 else []),
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            "--size",
            scratch_bytes,
            "--tmpfs",
            "/tmp",
            "--size",
            scratch_bytes,
            "--tmpfs",
            "/dev/shm",
            "--remount-ro",
            "/dev",
            *system_view(),  # after /tmp: a toolchain root under /tmp (a virtualenv there) stays visible
        ]
        for path in read_only:  # after /tmp: a path under /tmp, which the tmpfs hides, shows again
            command += ["--ro-bind", str(path), str(path)]
        # the workdir comes last: a read-only parent (e.g. the cache dir holding the scratch dirs) must not cover it
        command += ["--bind", str(workdir), str(workdir), "--remount-ro", "/", "--chdir", str(workdir)]
        return command + ["--", *argv]

    def _raise_if_not_started(self, result: CommandResult, argv: Sequence[str]) -> None:
        # bubblewrap reports its own failures (mounts, namespaces, execvp of the command) as "bwrap: ..." + exit 1
        first_line = _first_line(result.stderr)
        if result.returncode == 1 and first_line.startswith("bwrap: "):
            raise ExecutionInfrastructureError(f"the sandbox could not start {argv[0]}: {first_line}")
        super()._raise_if_not_started(result, argv)


class UnsandboxedRunner(ProcessRunner):
    """No isolation at all, only limits and cleanup. For trusted code on machines without bubblewrap."""

    def __init__(self, cgroups: CgroupPool | None = None):
        log.warning(
            "OCTOPACK_SANDBOX=none: model-generated code runs WITHOUT a sandbox (full filesystem and network "
            "access as %s). Only do this with trusted code or inside a disposable container/VM.",
            _user_name(),
        )
        super().__init__(cgroups)


_PROBED: dict[str, list[str]] = {}
SANDBOX_UID = SANDBOX_GID = 1000  # the program's ids inside; bubblewrap maps them to the harness's own
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# /etc entries programs and toolchains read (loader, java's config and cacerts links, certificates, zone info),
# copied once per process into the sandbox's own /etc; never shadow, ssh keys, the host's users, sudoers, apt or
# pip credentials, nor private keys (ETC_NEVER)
ETC_NEVER = ("private", "*.key")
ETC_COPY_PREFIX = "octopack-sandbox-etc-"  # + the creating pid: copies of killed harnesses are removed
ETC_BOUND = ("ssl/certs",)  # hundreds of links: bound over the copy (copying them costs ~0.5 s per process)
ETC_ENTRIES = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "alternatives",
    "ssl",
    "ca-certificates",
    "ca-certificates.conf",
    "java-*",
    "localtime",
    "timezone",
    "python3*",
    "protocols",
    "services",
    "gai.conf",
    "host.conf",
)
GENERATED_ETC = {
    "passwd": f"root:x:0:0:root:/root:/usr/sbin/nologin\nsandbox:x:{SANDBOX_UID}:{SANDBOX_GID}:sandbox:/tmp:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
    "group": f"root:x:0:\nsandbox:x:{SANDBOX_GID}:\nnogroup:x:65534:\n",
    "hosts": "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    "nsswitch.conf": "passwd: files\ngroup: files\nshadow: files\nhosts: files\n",
    "hostname": "sandbox\n",
}
_SHARED_POOL: CgroupPool | None = None
_SYSTEM_VIEW: list[str] | None = None
_GENERATED_ETC: dict[str, Path] = {}
_VIEW_LOCK = threading.Lock()
_POOL_LOCK = threading.Lock()


def cpu_seconds(timeout: float) -> int:
    """The CPU-time limit of a command with this wall-clock timeout: a program spinning on one core meets the
    wall-clock deadline first, so the limit only stops one that burns several cores at once."""
    return math.ceil(timeout) + 1


def make_sandbox(mode: str | None = None) -> SandboxRunner:
    """The sandbox for ``mode`` ("bwrap" or "none"; default: ``$OCTOPACK_SANDBOX`` or "bwrap")."""
    mode = (mode or os.environ.get("OCTOPACK_SANDBOX") or "bwrap").lower()
    if mode in ("bwrap", "bubblewrap", "default"):
        return BwrapSandbox(cgroups=_shared_pool())
    if mode in ("none", "unsandboxed", "off"):
        return UnsandboxedRunner(cgroups=_shared_pool())
    raise ValueError(f"unknown sandbox mode {mode!r}; use 'bwrap' (default) or 'none'")


def _shared_pool() -> CgroupPool:
    global _SHARED_POOL
    with _POOL_LOCK:
        if _SHARED_POOL is None:
            _SHARED_POOL = CgroupPool()
        return _SHARED_POOL


def system_view() -> list[str]:
    """bubblewrap arguments for everything every program may see, read-only (computed once per process)."""
    global _SYSTEM_VIEW
    with _VIEW_LOCK:
        if _SYSTEM_VIEW is None or not _GENERATED_ETC.get("dir", Path("/nonexistent")).is_dir():
            _SYSTEM_VIEW = _build_system_view()
        return _SYSTEM_VIEW


def _build_system_view() -> list[str]:
    from .toolchains import toolchain_roots  # the toolchains module imports the languages, which import us

    args: list[str] = []
    for name in SYSTEM_DIRS:
        path = Path(name)
        if path.is_symlink():  # /bin -> usr/bin on merged-/usr systems
            args += ["--symlink", os.readlink(path), name]
        elif path.is_dir():
            args += ["--ro-bind", name, name]
    args += ["--ro-bind", str(_sandbox_etc()), "/etc"]
    for name in ETC_BOUND:
        if (Path("/etc") / name).is_dir():
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    for root in toolchain_roots():
        if not any(root.is_relative_to(system) for system in SYSTEM_DIRS):
            args += ["--ro-bind", str(root), str(root)]
    return args


def _sandbox_etc() -> Path:
    """The sandbox's /etc, built once per process: copies of ETC_ENTRIES (one bind mount instead of one per
    entry: bubblewrap's start stays as fast as with the old single ``--ro-bind / /``) and the generated passwd,
    group and hosts. A package installed meanwhile shows in processes started after it."""
    _remove_stale_etc_copies()
    directory = Path(tempfile.mkdtemp(prefix=f"{ETC_COPY_PREFIX}{os.getpid()}-"))
    directory.chmod(0o755)
    etc = Path("/etc")
    for entry in sorted({p for pattern in ETC_ENTRIES for p in etc.glob(pattern)}):
        _copy_etc_entry(entry, directory / entry.name)
    for name in ETC_BOUND:  # the mount point of each, which the read-only /etc cannot create later
        if (etc / name).is_dir():
            (directory / name).mkdir(parents=True, exist_ok=True)
    for name, text in GENERATED_ETC.items():
        (directory / name).write_text(text)
    _GENERATED_ETC["dir"] = directory
    atexit.register(_remove_generated_etc, directory, os.getpid())
    return directory


def _copy_etc_entry(source: Path, target: Path) -> None:
    if source.is_symlink():  # e.g. localtime -> /usr/share/zoneinfo/...: visible inside as it is
        target.symlink_to(os.readlink(source))
    elif source.is_dir():
        shutil.copytree(source, target, symlinks=True, ignore=_not_copied)
    elif source.is_file():
        shutil.copy2(source, target)


def _not_copied(parent: str, names: list[str]) -> set[str]:
    bound = {f"/etc/{name}" for name in ETC_BOUND}
    return shutil.ignore_patterns(*ETC_NEVER)(parent, names) | {name for name in names if f"{parent}/{name}" in bound}


def _remove_stale_etc_copies() -> None:
    """Copies left by harness processes that were SIGKILLed (their pid no longer exists)."""
    for leftover in Path(tempfile.gettempdir()).glob(f"{ETC_COPY_PREFIX}*-*"):
        owner = leftover.name[len(ETC_COPY_PREFIX) :].split("-", 1)[0]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists() and leftover.owner() == _user_name():
            shutil.rmtree(leftover, ignore_errors=True)


def _remove_generated_etc(directory: Path, creator: int) -> None:
    if os.getpid() == creator:  # a forked child that exits must not remove its parent's files
        shutil.rmtree(directory, ignore_errors=True)


def _probe_bwrap(bwrap: str) -> list[str]:
    """Fail early and clearly if bwrap is absent or cannot create namespaces here. Returns the user-namespace
    flags that work here: a non-root uid/gid inside and no nested user namespaces, where bubblewrap allows."""
    if bwrap in _PROBED:
        return _PROBED[bwrap]
    if not (os.path.isfile(bwrap) and os.access(bwrap, os.X_OK)):
        raise SandboxUnavailable(f"bubblewrap not found at {bwrap}. {BWRAP_INSTALL_HINT}")
    probe = subprocess.run(
        [bwrap, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "--", "/bin/true"],
        capture_output=True,
        text=True,
        env={"PATH": DEFAULT_PATH},
    )
    if probe.returncode != 0:
        raise SandboxUnavailable(
            f"bubblewrap at {bwrap} cannot create namespaces here ({probe.stderr.strip()}). Unprivileged user "
            f"namespaces may be disabled (sysctl kernel.unprivileged_userns_clone=1, or in Docker run with "
            f"--security-opt seccomp=unconfined). {BWRAP_INSTALL_HINT}"
        )
    _PROBED[bwrap] = _working_user_flags(bwrap)
    return _PROBED[bwrap]


def _working_user_flags(bwrap: str) -> list[str]:
    ids = ["--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_GID)]
    for flags in ([*ids, "--disable-userns"], ids):
        probe = [bwrap, "--unshare-all", *flags, "--ro-bind", "/", "/", "--", "/bin/true"]
        if subprocess.run(probe, capture_output=True, env={"PATH": DEFAULT_PATH}).returncode == 0:
            return flags
    log.warning("bubblewrap cannot map a non-root uid here (no user namespace): programs run as the harness's uid")
    return []


def _first_line(text: str) -> str:
    return text.lstrip().split("\n", 1)[0]


def _nproc_with_headroom(max_processes: int) -> int:
    """RLIMIT_NPROC counts every process of the uid, so add what this user already runs."""
    uid = os.getuid()
    running = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                running += entry.stat().st_uid == uid
    return running + max_processes


def _user_name() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        return f"uid {os.geteuid()}"


# ----------------------------------------------------------------------------------------------- execution


class _Capture:
    """Reads one stream: keeps the first `cap` bytes, counts the rest, shows each chunk to `listener`."""

    def __init__(self, cap: int, listener: Callable[[bytes], None] | None = None):
        self.cap = cap
        self.kept = bytearray()
        self.total = 0
        self.listener = listener

    def feed(self, chunk: bytes) -> None:
        if self.listener is not None and self.total < self.cap:
            self.listener(chunk[: self.cap - self.total])
        self.total += len(chunk)
        room = self.cap - len(self.kept)
        if room > 0:
            self.kept += chunk[:room]

    @property
    def truncated(self) -> bool:
        return self.total > self.cap

    def text(self) -> str:
        return self.kept.decode("utf-8", "replace")


def _execute(
    command: list[str],
    env: dict[str, str],
    workdir: Path,
    timeout: float,
    cap: int,
    stdin: str | None,
    slot: CgroupSlot | None,
    on_stdout: Callable[[bytes], None] | None = None,
) -> CommandResult:
    """Start, capture and bound one process tree. Event driven (pidfd + pipes): no polling floor."""
    start = time.monotonic()
    proc = subprocess.Popen(
        command,
        cwd=workdir,
        env=env,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        close_fds=True,
    )
    try:
        outcome = _supervise(proc, start + timeout, cap, stdin, on_stdout)
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # the group exists while its leader is an unreaped zombie
        proc.wait()
        if slot is not None:
            slot.kill_all()  # setsid/double-forked escapees that left the process group
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream:
                stream.close()
    out, err, timed_out = outcome
    returncode = proc.returncode
    if returncode in SIGXCPU_CODES:  # CPU-time limit hit: a timeout, not a failure
        timed_out = True
    return CommandResult(
        returncode=None if timed_out else returncode,
        stdout=out.text(),
        stderr=err.text(),
        seconds=time.monotonic() - start,
        timed_out=timed_out,
        output_truncated=out.truncated or err.truncated,
    )


def _supervise(
    proc: subprocess.Popen, deadline: float, cap: int, stdin: str | None, on_stdout: Callable[[bytes], None] | None
) -> tuple[_Capture, _Capture, bool]:
    captures = {proc.stdout.fileno(): _Capture(cap, on_stdout), proc.stderr.fileno(): _Capture(cap)}
    out, err = captures.values()
    pidfd = os.pidfd_open(proc.pid)
    pending_input = memoryview(stdin.encode()) if stdin is not None else None
    with selectors.DefaultSelector() as selector:
        for fd in captures:
            os.set_blocking(fd, False)
            selector.register(fd, selectors.EVENT_READ)
        selector.register(pidfd, selectors.EVENT_READ)
        if pending_input is not None:
            os.set_blocking(proc.stdin.fileno(), False)
            selector.register(proc.stdin.fileno(), selectors.EVENT_WRITE)
        try:
            while captures:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return out, err, True
                for key, _ in selector.select(remaining):
                    fd = key.fd
                    if fd == pidfd:  # as subprocess.run(capture_output=True), the end of output is still awaited
                        selector.unregister(pidfd)
                    elif pending_input is not None and proc.stdin and fd == proc.stdin.fileno():
                        pending_input = _write_some(selector, proc, pending_input)
                    else:
                        _read_some(selector, captures, fd)
                if out.total + err.total > FLOOD_FACTOR * cap * 2:
                    return out, err, False
            return out, err, False
        finally:
            os.close(pidfd)


def _read_some(selector: selectors.BaseSelector, captures: dict[int, _Capture], fd: int) -> None:
    try:
        chunk = os.read(fd, 65536)
    except BlockingIOError:
        return
    if chunk:
        captures[fd].feed(chunk)
    else:
        selector.unregister(fd)
        del captures[fd]


def _write_some(selector: selectors.BaseSelector, proc: subprocess.Popen, data: memoryview) -> memoryview | None:
    fd = proc.stdin.fileno()
    try:
        data = data[os.write(fd, data[:65536]) :]
    except (BrokenPipeError, BlockingIOError) as e:
        if isinstance(e, BlockingIOError):
            return data
        data = data[:0]
    if len(data) == 0:
        selector.unregister(fd)
        proc.stdin.close()
        return None
    return data
