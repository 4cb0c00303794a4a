"""Checking and preparing languages once per process, before any program runs."""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from collections.abc import Iterable
from pathlib import Path

from .errors import ToolchainMissing
from .registry import get_language
from .runtime.language import Language, ToolReport
from .types import LANGUAGES, VERDICT_RULES_VERSION

_prepared: dict[tuple[str, str], tuple[str, dict[str, str]]] = {}  # -> (fingerprint, tools found with versions)
_lock = threading.Lock()


def fingerprint(language: Language, report: ToolReport, cache_dir: Path) -> str:
    """What a cached verdict depends on besides the program: the toolchain. A language may define
    ``fingerprint(cache_dir) -> str`` itself; otherwise the versions its ``check`` found are hashed."""
    custom = language.fingerprint(cache_dir)
    if custom is not None:
        return f"r{VERDICT_RULES_VERSION}-{custom}"
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
            fingerprints[name] = _prepared[key][0]
    return fingerprints


def toolchain_versions(name: str, cache_dir: Path) -> dict[str, str]:
    """The tools and versions ``check`` found for ``name``: those of its preparation in this process, else a
    fresh check (``{}`` when the language cannot even be checked)."""
    with _lock:
        prepared = _prepared.get((name, str(Path(cache_dir).resolve())))
    if prepared is not None:
        return dict(prepared[1])
    try:
        return dict(get_language(name).check(Path(cache_dir)).found)
    except Exception:  # a missing or broken language module: nothing to record
        return {}


def _prepare_one(language: Language, cache_dir: Path) -> tuple[str, dict[str, str]]:
    cache_dir.mkdir(parents=True, exist_ok=True)
    try:
        language.prepare(cache_dir)
    except Exception as e:
        report = language.check(cache_dir)
        raise ToolchainMissing(language.name, _missing_message(report, f"preparing failed: {e}")) from e
    report = language.check(cache_dir)
    if not report.ok:
        raise ToolchainMissing(language.name, _missing_message(report))
    return fingerprint(language, report, cache_dir), dict(report.found)


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


# ----------------------------------------------------------------------------------------- the sandbox's view


@functools.cache
def toolchain_roots() -> tuple[Path, ...]:
    """Where the languages' toolchains are installed (``Language.toolchain_roots``), for the sandbox's filesystem
    view (computed once per process). A root that would expose the whole filesystem or the home directory (an
    interpreter installed with ``--prefix ~``) is left out: such a toolchain then fails inside the sandbox,
    visibly, instead of showing it the host's files."""
    candidates = [root for name in LANGUAGES for root in get_language(name).toolchain_roots()]
    home = Path.home().resolve()
    roots = {root for root in candidates if root.is_dir() and not home.is_relative_to(root)}
    return tuple(sorted(roots))
