"""``lm-eval-octopack doctor`` and ``setup``: which toolchains are here, and preparing them.

    lm-eval-octopack doctor [LANG ...]   # report only; exit 1 if something is missing
    lm-eval-octopack setup  [LANG ...]   # build the cached dependencies (js-md5, testify, crates, PCH, ...)
"""

from __future__ import annotations

import argparse
import sys

from lm_eval_octopack.humanevalpack.languages import LANGUAGES


def _parser(prog: str, description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("languages", nargs="*", metavar="LANG",
                        help=f"languages to check (default: all of {', '.join(LANGUAGES)})")
    return parser


def _languages(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    chosen = parser.parse_args(argv).languages
    unknown = sorted(set(chosen) - set(LANGUAGES))
    if unknown:
        parser.error(f"unknown language(s) {', '.join(unknown)}; choose from {', '.join(LANGUAGES)}")
    return chosen or list(LANGUAGES)


def main_doctor(argv: list[str]) -> int:
    from lm_eval_octopack.executors import doctor, render_doctor

    languages = _languages(_parser("lm-eval-octopack doctor", "Report toolchains and dependencies per language."), argv)
    reports = doctor(languages)
    print(render_doctor(reports))
    return 0 if all(report.ok for report in reports) else 1


def main_setup(argv: list[str]) -> int:
    from lm_eval_octopack.executors import prepare
    from lm_eval_octopack.executors.errors import ToolchainMissing

    languages = _languages(_parser("lm-eval-octopack setup", "Prepare cached execution dependencies."), argv)
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
        print(f"lm-eval-octopack: cannot run the requested tasks: {err}\n"
              f"Run `lm-eval-octopack doctor` for details.", file=sys.stderr)
        raise SystemExit(2) from None
