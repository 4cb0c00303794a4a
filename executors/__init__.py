"""Sandboxed, cached, parallel execution of self-contained programs: ``list[Program] -> list[Verdict]``.

    from lm_eval_octopack.executors import Program, get_backend
    verdicts = get_backend().run([Program("python", "assert 1 + 1 == 2")])

Environment variables (explicit arguments win):

* ``OCTOPACK_BACKEND``   backend used by ``get_backend()`` without a name: "local" (default), "ray", or a
  third-party backend registered in the entry-point group ``lm_eval_octopack.backends``.
* ``OCTOPACK_WORKERS``   concurrent programs for the local backend (default: number of cores).
* ``OCTOPACK_SANDBOX``   "bwrap" (default; bubblewrap required) or "none" (NO isolation: trusted code only).
* ``OCTOPACK_CACHE_DIR`` toolchain dependencies, scratch space and the result store ``results.sqlite``
  (default ``~/.cache/lm-eval-octopack``).
* ``OCTOPACK_RETRY_TIMEOUTS`` "0": report a first timeout as it is (default: re-run it once, alone).
* ``OCTOPACK_PYTHON``    interpreter for Python programs (default: the running one; needs numpy).
* ``OCTOPACK_RAY_ADDRESS`` cluster address for the ray backend (default: start or join a local instance).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .errors import SandboxUnavailable, ToolchainMissing
from .registry import backend_names, get_backend, get_language, register_backend, register_language
from .runtime.language import CommandResult, Language, SandboxRunner, ToolReport
from .sandbox import make_sandbox
from .store import ResultStore, default_cache_dir
from .toolchains import prepare_languages
from .types import LANGUAGES, STATUSES, Limits, Program, Verdict

__all__ = [
    "LANGUAGES",
    "STATUSES",
    "CommandResult",
    "Language",
    "Limits",
    "Program",
    "ResultStore",
    "SandboxRunner",
    "SandboxUnavailable",
    "ToolReport",
    "ToolchainMissing",
    "Verdict",
    "backend_names",
    "default_cache_dir",
    "doctor",
    "get_backend",
    "get_language",
    "make_sandbox",
    "prepare",
    "register_backend",
    "register_language",
    "render_doctor",
]


def prepare(languages: Iterable[str] | None = None, cache_dir: str | Path | None = None) -> dict[str, str]:
    """Install/build the cached per-language dependencies (js-md5, Rust crates, Go cache, C++ PCH ...).

    Idempotent. Returns language -> toolchain fingerprint; raises ``ToolchainMissing`` with an install hint."""
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return prepare_languages(languages if languages is not None else LANGUAGES, cache)


def doctor(languages: Iterable[str] | None = None, cache_dir: str | Path | None = None) -> list[ToolReport]:
    """A report per language (tools found with versions, what is missing, how to install). Never raises
    for a broken toolchain; a language whose module cannot be loaded is reported as missing."""
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    reports = []
    for name in languages if languages is not None else LANGUAGES:
        try:
            reports.append(get_language(name).check(cache))
        except Exception as e:  # a missing or broken language module is a finding, not a crash
            reports.append(ToolReport(language=name, ok=False, missing=[f"language module ({e})"]))
    reports.append(_sandbox_report())
    return reports


def _sandbox_report() -> ToolReport:
    report = ToolReport(language="sandbox", ok=True)
    try:
        runner = make_sandbox()
    except (SandboxUnavailable, ValueError) as e:
        return ToolReport(language="sandbox", ok=False, missing=["bubblewrap"], how_to_install=str(e))
    report.found["mode"] = "bubblewrap" if getattr(runner, "sandboxed", False) else "NONE (unsandboxed)"
    controllers = sorted(getattr(getattr(runner, "cgroups", None), "controllers", ()))
    report.found["cgroups"] = ", ".join(controllers) or "none (process count/memory via rlimits only)"
    return report


def render_doctor(reports: Iterable[ToolReport]) -> str:
    """Human-readable doctor output, one block per language."""
    lines = []
    for report in reports:
        lines.append(f"{report.language:<8} {'OK' if report.ok else 'MISSING'}")
        for tool, version in report.found.items():
            lines.append(f"    found    {tool}: {version}")
        for item in report.missing:
            lines.append(f"    missing  {item}")
        if not report.ok and report.how_to_install:
            lines.append(f"    install  {report.how_to_install}")
    return "\n".join(lines)
