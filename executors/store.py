"""A persistent, content-addressed verdict cache: SQLite in WAL mode.

A verdict is keyed by ``Program.digest`` (language + limits + source) and the language's toolchain
fingerprint (so upgrading g++ or rustc re-executes instead of reusing stale results). Each verdict is
committed as soon as its program finishes, so a killed run loses nothing that completed and a rerun only
executes what is missing. Safe for concurrent writers: one connection per thread and process, WAL
journal, and a generous busy timeout.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterable
from pathlib import Path

from .errors import CacheDirUnusable
from .types import Verdict

SCHEMA = """
CREATE TABLE IF NOT EXISTS verdicts (
    digest TEXT NOT NULL,
    toolchain TEXT NOT NULL,
    language TEXT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL,
    seconds REAL NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (digest, toolchain)
) WITHOUT ROWID
"""
QUERY_CHUNK = 500  # stays below SQLite's host-parameter limit

# SQLite connections must never be used, nor closed, in a forked child. Children therefore open their own
# connections and keep the inherited ones referenced forever (never closed). SQLite's own per-process lock
# bookkeeping still crosses fork(), so close a store (``close()``) before forking workers that use the same file.
_open_stores: weakref.WeakSet[ResultStore] = weakref.WeakSet()
_inherited_connections: list[sqlite3.Connection] = []


def _forget_connections_after_fork() -> None:
    for store in list(_open_stores):
        conn = getattr(store._local, "conn", None)
        if conn is not None:
            _inherited_connections.append(conn)
            store._local.conn = None


os.register_at_fork(after_in_child=_forget_connections_after_fork)


def default_cache_dir() -> Path:
    """``$OCTOPACK_CACHE_DIR``, else ``$XDG_CACHE_HOME/lm-eval-octopack``, else ``~/.cache/lm-eval-octopack``."""
    explicit = os.environ.get("OCTOPACK_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser().absolute()  # a relative path would mean another place in every sandbox
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return (base / "lm-eval-octopack").absolute()


def ensure_writable_dir(path: Path, what: str = "cache directory") -> Path:
    """Create ``path`` and check that files can be made in it; raises ``CacheDirUnusable`` with what to do."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-probe-{os.getpid()}-{threading.get_ident()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise CacheDirUnusable(
            f"the {what} {path} is not writable ({err.strerror or err}); set OCTOPACK_CACHE_DIR to a writable "
            "directory with free space"
        ) from None
    return path


def storable_text(text: str) -> str:
    """``text`` with whatever UTF-8 cannot encode (lone surrogates from a program's output) escaped."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


class ResultStore:
    """Verdicts by (digest, toolchain fingerprint). ``path=None`` means ``<cache dir>/results.sqlite``."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path).absolute() if path is not None else default_cache_dir() / "results.sqlite"
        ensure_writable_dir(self.path.parent, "result store's directory")
        self._local = threading.local()
        _open_stores.add(self)
        try:
            self._connection().executescript(SCHEMA)
        except sqlite3.Error as err:
            raise CacheDirUnusable(f"cannot open the result store {self.path}: {err}") from None

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            conn = sqlite3.connect(self.path, timeout=60.0, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes; WAL keeps it consistent
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def get_many(self, digests: Iterable[str], toolchain: str = "") -> dict[str, Verdict]:
        """The stored verdicts among ``digests`` (missing ones are simply absent from the result)."""
        wanted = list(dict.fromkeys(digests))
        found: dict[str, Verdict] = {}
        conn = self._connection()
        for i in range(0, len(wanted), QUERY_CHUNK):
            chunk = wanted[i : i + QUERY_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                f"SELECT digest, status, detail, seconds FROM verdicts WHERE toolchain = ? AND digest IN ({marks})",
                [toolchain, *chunk],
            )
            for digest, status, detail, seconds in rows:
                found[digest] = Verdict(status=status, detail=detail, seconds=seconds)
        return found

    def get(self, digest: str, toolchain: str = "") -> Verdict | None:
        return self.get_many([digest], toolchain).get(digest)

    def put(self, digest: str, verdict: Verdict, toolchain: str = "", language: str = "") -> None:
        """Store one verdict, committed immediately. A detail UTF-8 cannot encode is stored escaped."""
        row = (digest, toolchain, language, verdict.status, storable_text(verdict.detail), verdict.seconds, time.time())
        try:
            self._connection().execute("INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?, ?, ?, ?, ?)", row)
        except sqlite3.OperationalError as err:  # a full disk, a store made read-only: stop, keep what is stored
            if "locked" in str(err):
                raise
            raise CacheDirUnusable(f"cannot write to the result store {self.path}: {err}") from None

    def count(self) -> int:
        return self._connection().execute("SELECT COUNT(*) FROM verdicts").fetchone()[0]

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
