"""``lm-eval-octopack doctor`` and ``setup``: which toolchains are here, and preparing them.

lm-eval-octopack doctor [LANG ...]   # report only; exit 1 (naming the tasks it blocks) if something is missing
lm-eval-octopack setup  [LANG ...]   # build the cached dependencies (js-md5, testify, crates, PCH, ...)
"""

from __future__ import annotations

import argparse
import sys

from lm_eval_octopack.language_facts import LANGUAGES

DESCRIPTIONS = {
    "doctor": "Report toolchains and dependencies per language.",
    "setup": "Prepare cached execution dependencies.",
}


def parse_languages(command: str, argv: list[str]) -> list[str]:
    """The languages ``lm-eval-octopack {doctor,setup} [LANG ...]`` asks for; argparse exits on bad input."""
    parser = argparse.ArgumentParser(prog=f"lm-eval-octopack {command}", description=DESCRIPTIONS[command])
    parser.add_argument(
        "languages", nargs="*", metavar="LANG", help=f"languages to check (default: all of {', '.join(LANGUAGES)})"
    )
    chosen = parser.parse_args(argv).languages
    unknown = sorted(set(chosen) - set(LANGUAGES))
    if unknown:
        parser.error(f"unknown language(s) {', '.join(unknown)}; choose from {', '.join(LANGUAGES)}")
    return chosen or list(LANGUAGES)


def main_doctor(argv: list[str]) -> int:
    from lm_eval_octopack.executors import doctor, render_doctor

    languages = parse_languages("doctor", argv)
    reports = doctor(languages)
    print(render_doctor(reports))
    blocked = blocked_tasks(reports)
    if blocked:
        print("\nThese tasks cannot run until the missing parts are installed:\n" + "\n".join(blocked))
    return 1 if blocked else 0


def blocked_tasks(reports: list) -> list[str]:
    """Per language (or the sandbox) that is not OK: what it lacks, and which of our tasks need it."""
    from lm_eval_octopack.catalogue import task_languages

    needs = task_languages()
    lines = []
    for report in reports:
        if report.ok:
            continue
        if report.language == "sandbox":
            tasks = "every task that executes code (all HumanEvalPack tasks but humanevalexplaindescribe-*)"
        else:
            own = sorted(name for name, langs in needs.items() if langs == {report.language})
            groups = sorted(name for name, langs in needs.items() if report.language in langs and len(langs) > 1)
            tasks = ", ".join(own) + (f"; groups {', '.join(groups)}" if groups else "")
        lacks = "; ".join(report.missing) or "see above"
        lines.append(f"  {report.language:<8} lacks {lacks}\n           needed by {tasks}")
    return lines


def main_setup(argv: list[str]) -> int:
    from lm_eval_octopack.executors import prepare
    from lm_eval_octopack.executors.errors import ToolchainMissing

    languages = parse_languages("setup", argv)
    try:
        prepare(languages)
    except ToolchainMissing as err:
        print(f"lm-eval-octopack setup: {err}", file=sys.stderr)
        return 1
    print(f"ready: {', '.join(languages)}")
    return 0


def require_toolchains(languages: list[str]) -> None:
    """Fail before any model is loaded when a requested language cannot be executed."""
    from lm_eval_octopack.executors import prepare
    from lm_eval_octopack.executors.errors import ToolchainMissing

    try:
        prepare(languages)
    except ToolchainMissing as err:
        print(
            f"lm-eval-octopack: cannot run the requested tasks: {err}\nRun `lm-eval-octopack doctor` for details.",
            file=sys.stderr,
        )
        raise SystemExit(2) from None
