"""Runs a batch of Python programs inside ONE sandbox, each in its own forked process.

This file is executed by the sandboxed interpreter (``python -c <this file's text> <manifest>``), so it
uses the standard library only and imports nothing from the package.

Why a fork-server: the HumanEvalPack import helper imports numpy (~70 ms) and a fresh interpreter costs
another ~40 ms, while a fork of a process that already imported them costs ~2 ms. It is also exactly how
the reference executes Python (bigcode ``code_eval_octopack``: a forked child of a parent that already
imported numpy ``exec``s the program), so the reference's rules are reproduced here, not approximated:

* the child changes into a fresh temporary directory, applies the reference's ``reliability_guard``
  (os/shutil/subprocess functions and ``exit``/``quit``/``help`` replaced by None, some modules blocked),
  swallows standard output and error (and makes standard input unreadable), and ``exec``s the program with
  empty globals under a ``timeout``-second interval timer;
* the program passes if no ``BaseException`` escapes; a program that never reports (``os._exit``, a crash,
  being killed at ``timeout + 1`` s) does not pass.

Between two programs the server kills every other process of the sandbox's pid namespace and empties
every writable place (the temporary directories, ``/dev/shm``, POSIX message queues where ``/dev/mqueue`` is
mounted) and removes every SysV shared memory segment, semaphore set and message queue, so a program cannot
leave anything behind for the next one. Anything unexpected makes the server exit; the harness then starts a
fresh sandbox for the programs not yet reported.

Report records cannot be forged by the programs. In a sandbox the server is its pid 1 (``bwrap --as-pid-1``:
no bubblewrap reaper holding the report pipe), non-dumpable (programs, which have no capabilities, cannot
open ``/proc/1/fd/*``) and the only holder of its standard output: every child closes all descriptors but
its own before anything untrusted runs. Each record line also carries an HMAC under a per-server key the
harness sends on standard input (read before the first job, then stdin is /dev/null; every forked child
zeroes its copy at once), and the harness accepts only the job the server announced, once. A Python
program's own result travels through a private pipe in a record that must end with a per-job nonce held
only by the child's code, so writing a "passed" record to that pipe (without frame introspection, which
would also reach the reference's result list) fails the program.

The same server also runs *commands* (``exec_batch``: the node start of a JavaScript program, the test binary
of a compiled one): a job with ``argv`` is forked and exec'd in a fresh working directory holding its
``files``, with its standard output and error captured (the first ``cap`` bytes of each, the rest counted),
and killed with everything it started at its deadline, exactly as the sandbox treats a single command.

A *zygote* (JavaScript: ``languages/js_support/zygote.c``) replaces the fork and exec of each command: a warm
node, started once by this server, forks a fresh process per program, which this server adopts (it is pid 1, or
a child subreaper outside a sandbox) and supervises exactly like an exec'd command. The zygote is spared by the
clean-up between jobs; a zygote that is gone, stopped or does not answer is replaced once, then this server
falls back to fork and exec. A program can also change another same-uid process's resource limits, nice value,
CPU affinity, scheduling policy or I/O priority (``prlimit``, ``setpriority``, ``ionice``, ...): this server
checks its own before each job (and the zygote its own before each fork), and exits when one changed.

Protocol: the key (hex, one line) on standard input; the manifest (JSON, deleted once read) is ``{"programs": [job], "scratch": [dirs to empty; the
first holds the per-program working directories], "isolated": bool, "preload": bool, "limit_file": path,
"zygote": {"argv": [str], "preload": path} (optional)}``
where a job is ``{"source": str, "timeout": float, "cpu_seconds": int}`` (Python) or ``{"argv": [str], "files": {name:
text}, "timeout": float, "cpu_seconds": int, "cap": int}`` (a command). On standard output the server writes
lines ``<hex HMAC-SHA256 of the JSON> <JSON>``: one ``{"start": i}`` before job i and after it ``{"index": i, "status": ..., "detail": ...,
"seconds": ...}`` (Python) or ``{"index": i, "returncode": int | None, "timed_out": bool, "stdout": str,
"stderr": str, "truncated": bool, "seconds": float}`` (a command; the streams are excerpts). Before each job
the server reads ``limit_file`` (read-only to it; optional): once the harness has written a number N there, it
starts no job from index N on and exits.
"""

import hmac
import json
import os
import select
import signal
import stat
import sys
import time

HELPER_MODULES = (
    "math",
    "re",
    "sys",
    "copy",
    "datetime",
    "itertools",
    "collections",
    "heapq",
    "statistics",
    "functools",
    "hashlib",
    "numpy",
    "string",
    "typing",
    "traceback",
    "io",
    "faulthandler",
    "builtins",
    "shutil",
    "subprocess",
    "resource",
    "ctypes",
)
#: What the reference's reliability_guard replaces by None, per module.
GUARDED = {
    "builtins": ("exit", "quit", "help"),
    "os": (
        "kill",
        "system",
        "putenv",
        "remove",
        "removedirs",
        "rmdir",
        "fchdir",
        "setuid",
        "fork",
        "forkpty",
        "killpg",
        "rename",
        "renames",
        "truncate",
        "replace",
        "unlink",
        "fchmod",
        "fchown",
        "chmod",
        "chown",
        "chroot",
        "lchflags",
        "lchmod",
        "lchown",
        "getcwd",
        "chdir",
    ),
    "shutil": ("rmtree", "move", "chown"),
    "subprocess": ("Popen",),
}
BLOCKED_MODULES = ("ipdb", "joblib", "resource", "psutil", "tkinter")
DETAIL_LIMIT = 800
KILL_PATIENCE = 5.0
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
IOPRIO_GET = {"x86_64": 252, "aarch64": 31}  # syscall numbers
IOPRIO_CLASS_SHIFT, IOPRIO_CLASS_BE = 13, 2
STREAM_EXCERPT = 4096  # bytes of each captured stream a command's report carries
FLOOD_FACTOR = 16  # as the sandbox: keep reading (and discarding) up to this many times the cap, then kill
MAX_FD = 1 << 16
STATUSES = ("passed", "failed", "timeout")
SYSV_IPC = ("shm", "sem", "msg")  # /proc/sysvipc/<kind>: one object per line, its id in the second column
IPC_RMID = 0
MQUEUE_DIR = "/dev/mqueue"
REPORT_KEY = bytearray()  # the per-server HMAC key; zeroed in every forked child


class ProgramTimeout(Exception):
    pass


class SwallowedStream:
    """Stands in for stdin/stdout/stderr while a program runs: writes vanish, reads fail (as in the reference)."""

    def write(self, text):
        return len(text)

    def writelines(self, lines):
        pass

    def flush(self):
        pass

    def read(self, *args):
        raise OSError("standard input is not readable")

    readline = readlines = read

    def readable(self):
        return False

    def writable(self):
        return True

    def isatty(self):
        return False

    def close(self):
        pass


# --------------------------------------------------------------------------------------------- the child


def apply_guard():
    import faulthandler

    faulthandler.disable()
    os.environ["OMP_NUM_THREADS"] = "1"
    for module_name, names in GUARDED.items():
        module = sys.modules.get(module_name) or __import__(module_name)
        for name in names:
            setattr(module, name, None)
    for name in BLOCKED_MODULES:
        sys.modules[name] = None


def run_program(source, timeout):
    """(status, detail): the reference's verdict for one program, computed in this (forked) process."""
    import linecache
    import traceback

    linecache.cache["program.py"] = (len(source), None, source.splitlines(True), "program.py")

    def on_alarm(signum, frame):
        raise ProgramTimeout()

    signal.signal(signal.SIGALRM, on_alarm)
    apply_guard()
    swallowed = SwallowedStream()
    saved = sys.stdin, sys.stdout, sys.stderr
    try:
        sys.stdin = sys.stdout = sys.stderr = swallowed
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            exec(compile(source, "program.py", "exec"), {})
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            sys.stdin, sys.stdout, sys.stderr = saved
        return "passed", ""
    except ProgramTimeout:
        return "timeout", f"timed out after {timeout:g} s"
    except BaseException as error:  # the reference's rule: anything escaping is a failure
        sys.stdin, sys.stdout, sys.stderr = saved
        try:
            frames = error.__traceback__.tb_next  # from the program's own frames on, not this function's
            text = "".join(traceback.format_exception(type(error), error, frames))
        except BaseException:
            text = repr(error)
        return "failed", text[-DETAIL_LIMIT:]


def child_main(job, report_fd, devnull, cwd, nonce):
    """Run one program and write ``nonce + status + "\\n" + detail`` to ``report_fd`` (the server checks the nonce)."""
    write, exit_now = os.write, os._exit  # the program may overwrite os.* attributes
    try:
        enter_own_session(job["cpu_seconds"])
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        close_all_but(report_fd)
        os.chdir(cwd)
        status, detail = run_program(job["source"], job["timeout"])
        write(report_fd, (nonce + status + "\n" + detail).encode("utf-8", "replace"))
    finally:
        exit_now(0)


# --------------------------------------------------------------------------------------------- the server


def main():
    make_undumpable()
    REPORT_KEY[:] = read_key()
    manifest_path = sys.argv[1]
    with open(manifest_path, encoding="utf-8") as f:
        manifest = json.load(f)
    os.unlink(manifest_path)
    if manifest.get("preload", True):
        for name in HELPER_MODULES:
            try:
                __import__(name)
            except ImportError:
                pass
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    scratch, isolated = manifest["scratch"], manifest["isolated"]
    if isolated and is_mqueue_mount(MQUEUE_DIR):
        scratch = [*scratch, MQUEUE_DIR]  # unlinking a queue's file there removes the queue
    keep = mounted_paths(scratch)
    limit_file = manifest.get("limit_file")
    zygote = Zygote(manifest["zygote"], devnull) if manifest.get("zygote") else None
    state = process_state()
    for index, job in enumerate(manifest["programs"]):
        if limit_file and index >= read_limit(limit_file):
            break  # the harness gave the jobs from here on to another server
        if process_state() != state:
            sys.exit(
                "a program changed this server's resource limits or scheduling; the harness starts a fresh sandbox"
            )
        emit({"start": index})
        cwd = os.path.join(scratch[0], f"run{index}")
        os.mkdir(cwd)
        if "argv" in job:
            child, record = supervise_command(job, devnull, cwd, zygote)
        else:
            child, (status, detail, seconds) = supervise(job, devnull, cwd)
            record = {"status": status, "detail": detail, "seconds": seconds}
        emit({"index": index, **record})
        # Outside a sandbox there is no private pid namespace: only the child's own group may be killed.
        stopped = kill_strays(spared=zygote.pids() if zygote else ()) if isolated else kill_group(child)
        ipc_gone = remove_sysv_ipc() if isolated else True  # outside a sandbox the host's IPC objects are not ours
        if not (stopped and ipc_gone and all(empty_dir(d, keep) for d in scratch)):
            sys.exit("could not clean up after a program; the harness starts a fresh sandbox")


def supervise(job, devnull, cwd):
    """Fork, let the child run the program: (child pid, (status, detail, seconds))."""
    read_fd, write_fd = os.pipe()
    nonce = os.urandom(16).hex()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        child_main(job, write_fd, devnull, cwd, nonce)
    os.close(write_fd)
    report, exit_status = wait_for_report(pid, read_fd, start + job["timeout"] + 1)
    os.close(read_fd)
    seconds = time.monotonic() - start
    if exit_status is None:  # the reference's outer join(timeout + 1) gave up on it
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        return pid, ("timeout", f"timed out after {job['timeout']:g} s", seconds)
    parsed = parse_report(report, nonce)
    if parsed is not None:
        return pid, (*parsed, seconds)
    if os.WIFSIGNALED(exit_status) and os.WTERMSIG(exit_status) == signal.SIGXCPU:
        return pid, ("timeout", f"CPU time limit of {job['cpu_seconds']} s reached", seconds)
    return pid, ("failed", describe_exit(exit_status), seconds)


def parse_report(report, nonce):
    """(status, detail) from the child's report bytes, or None without a record carrying this job's nonce."""
    at = report.rfind(nonce.encode())
    if at < 0:
        return None
    status, _, detail = report[at + len(nonce) :].decode("utf-8", "replace").partition("\n")
    return (status, detail) if status in STATUSES else None


def supervise_command(job, devnull, cwd, zygote=None):
    """Fork and exec one command in `cwd` (or have the zygote fork it): (child pid, its report). The child
    leads its own process group."""
    for name, text in job.get("files", {}).items():
        with open(os.path.join(cwd, name), "w", encoding="utf-8") as f:
            f.write(text)
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    pid = zygote.fork_program(job, cwd, (devnull, out_write, err_write)) if zygote else None
    start = time.monotonic()  # waiting for a zygote (its start, or one a program stopped) is not the program's time
    if pid is None:
        pid = exec_command(job, devnull, cwd, out_write, err_write)
    os.close(out_write)
    os.close(err_write)
    streams, exit_status, timed_out = capture_until_exit(pid, (out_read, err_read), start + job["timeout"], job["cap"])
    seconds = time.monotonic() - start
    if timed_out or exit_status is None:
        kill_group(pid)
    if exit_status is None:
        exit_status = os.waitpid(pid, 0)[1]
    if timed_out:
        returncode = None
    elif os.WIFSIGNALED(exit_status):  # reported as bubblewrap reports a command killed by a signal
        timed_out = os.WTERMSIG(exit_status) == signal.SIGXCPU
        returncode = None if timed_out else 128 + os.WTERMSIG(exit_status)
    else:
        returncode = os.WEXITSTATUS(exit_status)
    out, err = streams
    record = {
        "returncode": returncode,
        "timed_out": timed_out,
        "seconds": seconds,
        "stdout": out["head"][:STREAM_EXCERPT].decode("utf-8", "replace"),
        "stderr": err["head"][:STREAM_EXCERPT].decode("utf-8", "replace"),
        "truncated": out["total"] > job["cap"] or err["total"] > job["cap"],
    }
    return pid, record


def enter_own_session(cpu_seconds):
    """In a job's forked child, before anything of the job: no key, its own session, its CPU limit."""
    scrub_key()
    os.setsid()
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    cpu = cpu_seconds if hard == resource.RLIM_INFINITY else min(cpu_seconds, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))


def exec_command(job, devnull, cwd, out_write, err_write):
    """Fork a child that execs the job's argv in `cwd` with its own session and CPU limit: its pid."""
    pid = os.fork()
    if pid == 0:
        try:
            enter_own_session(job["cpu_seconds"])
            for fd, target in ((devnull, 0), (out_write, 1), (err_write, 2)):
                os.dup2(fd, target)
            os.closerange(3, 1 << 16)
            os.chdir(cwd)
            os.execv(job["argv"][0], job["argv"])
        finally:
            os._exit(127)
    return pid


class Zygote:
    """The manifest's zygote (``{"argv", "preload"}``): a warm node that forks each program's process for us.

    ``fork_program`` returns the program's pid, adopted by this server, or None when there is no usable zygote
    (the caller then forks and execs). A zygote that is gone or stopped, or that does not answer in time, is
    killed and started again once; after that this server stops using one."""

    ANSWER_SECONDS = 10.0  # a node start on a loaded machine, or one fork

    def __init__(self, spec, devnull):
        self.spec, self.devnull = spec, devnull
        self.pid, self.control, self.starts = None, None, 0

    def pids(self):
        return (self.pid,) if self.pid else ()

    def fork_program(self, job, cwd, fds):
        if self.pid is not None and not self.healthy():
            self.stop()
        if self.pid is None and not self.start():
            return None
        import socket

        message = f"{job['cpu_seconds']}\0{cwd}\0{os.path.join(cwd, job['argv'][-1])}\0".encode()
        try:
            socket.send_fds(self.control, [message], list(fds))
            answer = self.answer()
        except OSError:
            answer = None
        if answer is None or answer <= 0:
            self.stop()
            return None
        return answer

    def start(self):
        if self.starts >= 2:
            return False
        self.starts += 1
        import ctypes
        import socket

        if os.getpid() != 1 and ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
            return False  # the programs' processes could not be adopted
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            try:
                scrub_key()
                for fd, target in ((self.devnull, 0), (self.devnull, 1), (self.devnull, 2), (theirs.fileno(), 3)):
                    os.dup2(fd, target)
                os.closerange(4, MAX_FD)
                os.chdir("/")
                os.execve(self.spec["argv"][0], self.spec["argv"], {**os.environ, "LD_PRELOAD": self.spec["preload"]})
            finally:
                os._exit(127)
        theirs.close()
        self.pid, self.control = pid, ours
        if self.answer() != 0:  # its "ready"
            self.stop()
            return False
        return True

    def answer(self):
        ready, _, _ = select.select([self.control], [], [], self.ANSWER_SECONDS)
        if not ready:
            return None
        try:
            return int(self.control.recv(64))
        except (OSError, ValueError):
            return None

    def healthy(self):
        try:
            with open(f"/proc/{self.pid}/stat", "rb") as f:
                return f.read().rsplit(b")", 1)[1].split()[0] in (b"S", b"R")
        except (OSError, IndexError):
            return False

    def stop(self):
        if self.control is not None:
            self.control.close()
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        self.pid, self.control = None, None


def process_state():
    """What a program with this server's uid could change about it from outside (``prlimit``,
    ``setpriority``, ``sched_setaffinity``, ``sched_setscheduler``, ``ioprio_set``), and what its next child
    would inherit."""
    import resource

    limits = tuple(resource.getrlimit(getattr(resource, name)) for name in dir(resource) if name.startswith("RLIMIT_"))
    scheduling = os.getpriority(os.PRIO_PROCESS, 0), os.sched_getaffinity(0), os.sched_getscheduler(0)
    return limits, scheduling, io_priority()


def io_priority():
    """ioprio_get(IOPRIO_WHO_PROCESS, self), or None where its syscall number is not known here. "No class"
    reads as the best-effort level that the nice value gives it: depending on the kernel, a process reads
    one or the other from the moment it first does block I/O, with nothing changed."""
    number = IOPRIO_GET.get(os.uname().machine)
    if number is None:
        return None
    import ctypes

    value = ctypes.CDLL(None, use_errno=True).syscall(number, 1, 0)
    if value >= 0 and value >> IOPRIO_CLASS_SHIFT == 0:
        value = IOPRIO_CLASS_BE << IOPRIO_CLASS_SHIFT | (os.getpriority(os.PRIO_PROCESS, 0) + 20) // 5
    return value


def capture_until_exit(pid, fds, deadline, cap):
    """Read both streams (the first `cap` bytes kept) until they close and the child has exited, as the sandbox
    does for a single command: ([{head, total}] per stream, exit status if reaped, timed out). Streams held
    open past the deadline (e.g. by a child the command left behind) count as a timeout, as in the reference;
    a flood of output ends the reading early."""
    pidfd = os.pidfd_open(pid)
    streams = {fd: {"head": b"", "total": 0} for fd in fds}
    open_fds = list(fds)
    exit_status = None
    try:
        while open_fds or exit_status is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return list(streams.values()), exit_status, True
            watched = open_fds + ([pidfd] if exit_status is None else [])
            ready, _, _ = select.select(watched, [], [], remaining)
            for fd in ready:
                if fd == pidfd:  # as subprocess.run(capture_output=True): the streams' end is still awaited
                    exit_status = os.waitpid(pid, 0)[1]
                    continue
                chunk = os.read(fd, 65536)
                if not chunk:
                    open_fds.remove(fd)
                    continue
                stream = streams[fd]
                stream["head"] += chunk[: max(0, cap - len(stream["head"]))]
                stream["total"] += len(chunk)
            if sum(s["total"] for s in streams.values()) > FLOOD_FACTOR * cap * 2:
                break
        return list(streams.values()), exit_status, False
    finally:
        os.close(pidfd)
        for fd in fds:
            os.close(fd)


def wait_for_report(pid, read_fd, deadline):
    """(report bytes, exit status) once the child exits; exit status None if the deadline passed first."""
    pidfd = os.pidfd_open(pid)
    chunks = []
    try:
        watched = [read_fd, pidfd]
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return b"".join(chunks), None
            ready, _, _ = select.select(watched, [], [], remaining)
            if read_fd in ready:
                chunk = os.read(read_fd, 65536)
                if chunk:
                    chunks.append(chunk)
                else:
                    watched.remove(read_fd)
            if pidfd in ready:
                _, status = os.waitpid(pid, 0)
                os.set_blocking(read_fd, False)
                try:  # whatever the child wrote before it exited is in the pipe already
                    while chunk := os.read(read_fd, 65536):
                        chunks.append(chunk)
                except BlockingIOError:
                    pass
                return b"".join(chunks), status
    finally:
        os.close(pidfd)


def describe_exit(status):
    if os.WIFSIGNALED(status):
        return f"the program was killed by signal {os.WTERMSIG(status)}"
    return "the program ended the process before its tests finished (e.g. os._exit)"


def kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return True


def kill_strays(spared=()):
    """SIGKILL every process of this pid namespace except its init (1), this server and ``spared``."""
    deadline = time.monotonic() + KILL_PATIENCE
    while strays := living_strays(spared):
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        reap_children()
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


def living_strays(spared=()):
    """Other processes of the namespace; as its pid 1 the server also counts zombies, which only it can reap
    (left unreaped, a killed child would still be listed in /proc by the next job)."""
    mine = {1, os.getpid(), *spared}
    ignored = (b"X",) if os.getpid() == 1 else (b"Z", b"X")
    strays = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) not in mine:
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    state = f.read().rsplit(b")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if state not in ignored:
                strays.append(int(name))
    return strays


def reap_children():
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def mounted_paths(roots):
    """Mount points below the scratch roots (e.g. a virtualenv under /tmp re-exposed read-only) and their
    parent directories: emptied around, never removed."""
    keep = set()
    with open("/proc/self/mounts", encoding="utf-8") as f:
        points = [line.split()[1] for line in f]
    for point in points:
        for root in roots:
            if point.startswith(root.rstrip("/") + "/"):
                path = point
                while path != root and path not in keep:
                    keep.add(path)
                    path = os.path.dirname(path)
    return keep


def empty_dir(path, keep):
    """Remove everything inside `path`, including entries a program made read-only. True on success."""
    try:
        names = os.listdir(path)
    except FileNotFoundError:
        return True
    ok = True
    for name in names:
        ok = remove(os.path.join(path, name), keep) and ok
    return ok


def remove(path, keep):
    if path in keep:  # a mount point (left alone) or a directory holding one (emptied, kept)
        return os.path.ismount(path) or empty_dir(path, keep)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return True
    try:
        if stat.S_ISDIR(mode):
            os.chmod(path, 0o700)
            empty_dir(path, keep)
            os.rmdir(path)
        else:
            os.unlink(path)
    except OSError:
        return False
    return True


def sysv_ids(kind):
    try:
        with open(f"/proc/sysvipc/{kind}", encoding="ascii") as f:
            return [int(line.split()[1]) for line in f.readlines()[1:] if line.strip()]
    except OSError:
        return []


def remove_sysv_ipc():
    """Remove every SysV IPC object of this sandbox's IPC namespace (the programs ran as this server's uid).
    True when none is left."""
    if not any(sysv_ids(kind) for kind in SYSV_IPC):
        return True
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for ident in sysv_ids("shm"):
        libc.shmctl(ident, IPC_RMID, None)
    for ident in sysv_ids("sem"):
        libc.semctl(ident, 0, IPC_RMID)
    for ident in sysv_ids("msg"):
        libc.msgctl(ident, IPC_RMID, None)
    return not any(sysv_ids(kind) for kind in SYSV_IPC)


def is_mqueue_mount(path):
    with open("/proc/self/mounts", encoding="utf-8") as f:
        return any(line.split()[1:3] == [path, "mqueue"] for line in f)


def close_all_but(keep_fd):
    """Close every descriptor from 3 on except ``keep_fd``: nothing of the server's reaches a program."""
    os.closerange(3, keep_fd)
    os.closerange(keep_fd + 1, MAX_FD)


def read_key():
    """The per-server HMAC key, sent by the harness on standard input."""
    key = bytes.fromhex(sys.stdin.buffer.read().decode("ascii").strip())
    if len(key) < 16:
        sys.exit("no report key on standard input")
    return key


def scrub_key():
    REPORT_KEY[:] = bytes(len(REPORT_KEY))


def make_undumpable():
    try:
        import ctypes

        ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def read_limit(path):
    """The number of jobs this server may still start, as the harness last wrote it (no file: all)."""
    try:
        with open(path, encoding="ascii") as f:
            return int(f.read())
    except (OSError, ValueError):
        return float("inf")


def emit(record):
    line = json.dumps(record).encode()
    mac = hmac.new(REPORT_KEY, line, "sha256").hexdigest().encode()
    sys.stdout.buffer.write(mac + b" " + line + b"\n")
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
