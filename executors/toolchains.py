"""Checking and preparing languages once per process, before any program runs."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable
from pathlib import Path

from .errors import ToolchainMissing
from .languages.base import Language, ToolReport
from .registry import get_language
from .types import VERDICT_RULES_VERSION

_prepared: dict[tuple[str, str], str] = {}
_lock = threading.Lock()


def fingerprint(language: Language, report: ToolReport, cache_dir: Path) -> str:
    """What a cached verdict depends on besides the program: the toolchain. A language may define
    ``fingerprint(cache_dir) -> str`` itself; otherwise the versions its ``check`` found are hashed."""
    custom = getattr(language, "fingerprint", None)
    if callable(custom):
        return f"r{VERDICT_RULES_VERSION}-{custom(cache_dir)}"
    text = json.dumps({"language": language.name, "rules": VERDICT_RULES_VERSION, **report.found}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def prepare_languages(names: Iterable[str], cache_dir: Path) -> dict[str, str]:
    """Prepare each language (idempotent) and verify its toolchain; returns name -> toolchain fingerprint.

    Raises ``ToolchainMissing`` naming the language and how to install what is missing, and ``ValueError``
    for unknown languages, so a run fails before executing anything."""
    fingerprints = {}
    for name in sorted(set(names)):
        key = (name, str(Path(cache_dir).resolve()))
        with _lock:
            if key not in _prepared:
                _prepared[key] = _prepare_one(get_language(name), Path(cache_dir))
            fingerprints[name] = _prepared[key]
    return fingerprints


def _prepare_one(language: Language, cache_dir: Path) -> str:
    cache_dir.mkdir(parents=True, exist_ok=True)
    try:
        language.prepare(cache_dir)
    except Exception as e:
        report = language.check(cache_dir)
        raise ToolchainMissing(language.name, _missing_message(report, f"preparing failed: {e}")) from e
    report = language.check(cache_dir)
    if not report.ok:
        raise ToolchainMissing(language.name, _missing_message(report))
    return fingerprint(language, report, cache_dir)


def _missing_message(report: ToolReport, cause: str = "") -> str:
    missing = ", ".join(report.missing) or "unknown"
    parts = [f"cannot execute {report.language} programs: missing {missing}."]
    if cause:
        parts.append(cause)
    if report.how_to_install:
        parts.append(f"How to install: {report.how_to_install}")
    return " ".join(parts)


def forget_prepared() -> None:
    """Drop the per-process memo (tests; or after installing a toolchain in a long-lived process)."""
    with _lock:
        _prepared.clear()
