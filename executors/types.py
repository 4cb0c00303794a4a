"""The values that cross the execution boundary: programs in, verdicts out.

Execution knows nothing about prompts or tasks. It receives self-contained programs
(code + tests, already assembled) with a language and limits, and returns one verdict
per program. That is what makes results cacheable by content, batchable,
distributable and sandboxable in one place.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Literal

from ..language_facts import LANGUAGES

Status = Literal["passed", "failed", "timeout", "compile_error", "error"]
STATUSES: tuple[str, ...] = ("passed", "failed", "timeout", "compile_error", "error")

__all__ = ["LANGUAGES", "STATUSES", "VERDICT_RULES_VERSION", "Limits", "Program", "Status", "Verdict", "excerpt"]

#: Part of every stored verdict's key: bump it when a change to the executors can change a
#: verdict, so that result stores written by an older version are not trusted.
VERDICT_RULES_VERSION = 2


@dataclass(frozen=True)
class Limits:
    """Resource limits for one program. Compile and run budgets are separate on purpose:
    a slow compile under load must not eat the run budget and flip a verdict."""

    compile_timeout: float = 60.0
    run_timeout: float = 10.0
    memory_mb: int = 2048
    max_processes: int = 64
    max_file_mb: int = 64
    scratch_mb: int = 256
    max_output_bytes: int = 64 * 1024

    def key(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


@dataclass(frozen=True)
class Program:
    """A complete program: the model's code plus the unit tests, ready to build and run."""

    language: str
    source: str
    limits: Limits = field(default_factory=Limits)

    @property
    def digest(self) -> str:
        """Content address: same language, source and limits => same verdict."""
        h = hashlib.sha256()
        for part in (self.language, self.limits.key(), self.source):
            h.update(part.encode("utf-8", "surrogatepass"))
            h.update(b"\0")
        return h.hexdigest()


@dataclass(frozen=True)
class Verdict:
    status: Status
    detail: str = ""  # short stderr/stdout excerpt explaining a failure
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_dict(self) -> dict:
        return {"status": self.status, "passed": self.passed, "detail": self.detail, "seconds": round(self.seconds, 4)}

    @classmethod
    def from_dict(cls, d: dict) -> Verdict:
        return cls(status=d["status"], detail=d.get("detail", ""), seconds=float(d.get("seconds", 0.0)))


def excerpt(text: str | bytes, limit: int = 600) -> str:
    """A short, readable excerpt of tool output for logs (head and tail kept)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = text.strip()
    if len(text) <= limit:
        return text
    half = limit // 2
    return text[:half] + "\n...\n" + text[-half:]
